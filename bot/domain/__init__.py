"""Pure rules and values of BHXH/BHYT campaigns: no I/O, no channel, no storage."""

"""The offline demo: the real bot against the local emulators, on sample data."""

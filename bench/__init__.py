"""Benchmarks, run by hand (`./dev bench [NAME...]`); figures go in the README, never in tests."""

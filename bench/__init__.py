"""Benchmarks of the job system: they print figures and ratios (see README.md); not tests."""

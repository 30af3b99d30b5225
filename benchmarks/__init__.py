"""Ratio benchmarks. They print figures and assert nothing; run with ``make bench``."""

"""Benchmarks of the hub (issue 8): API calls, incremental cost, hub overhead, growth.

Run with ``python -m bench`` (or ``make bench``); see docs/performance.md.
"""

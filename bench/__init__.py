"""Benchmarks: how the plan, the policy gate and the providers scale, side by side with their floors.

Run everything with ``make bench`` (``python -m bench``); it rewrites BENCHMARKS.md. These are measurements, not
tests: nothing here asserts a time.
"""

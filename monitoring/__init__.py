"""Metric definitions and the hooks that record them (and log each task transition)."""

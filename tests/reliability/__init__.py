"""Reliability suites: the bad-input corpus through the whole message path, and fuzzing."""

"""mailbot: the submission desk of a city emergency-management bureau, run over email."""

__version__ = "0.1.0"

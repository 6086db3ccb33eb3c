"""The office's register in a browser: find items, open them, act on them, explain every point.

Server-rendered pages (Flask and Jinja2) over the same service functions as the CLI; served by
waitress, bound to the loopback by default, with nginx and TLS in front for the office's network.
"""

from __future__ import annotations

from mailbot.web.app import create_app

__all__ = ["create_app"]

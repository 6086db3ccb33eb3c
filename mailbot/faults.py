"""Fault injection for the crash-safety tests: MAILBOT_FAULT names a stage where the process dies.

Read only here, and only when the variable is set; in production it is absent and every call is a
dictionary lookup that finds nothing. `MAILBOT_FAULT=raw_stored` makes the process exit abruptly
(os._exit, no cleanup, like a SIGKILL) right after the raw message is stored;
`MAILBOT_FAULT=fail:storage_write` makes that operation raise instead, as a full disk would.
"""

from __future__ import annotations

import os

STAGES = ("fetched", "raw_stored", "unpacked", "recorded", "reply_sent", "mailbox_updated")
EXIT_CODE = 86


def crash_point(stage: str) -> None:
    if os.environ.get("MAILBOT_FAULT") == stage:
        os._exit(EXIT_CODE)


def failure_point(operation: str) -> None:
    if os.environ.get("MAILBOT_FAULT") == f"fail:{operation}":
        raise OSError(28, f"injected failure: {operation}")  # ENOSPC, as a full disk reports

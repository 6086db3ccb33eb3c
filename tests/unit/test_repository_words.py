"""Comments and documents name the rule itself, never a document a reader of the repository cannot
open (the bureau's source files as the developers received them, their specification, issue numbers)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"\bseed \d{3}\b|\bSPEC\.md\b|\bissue \d+\b", re.IGNORECASE)
SUFFIXES = {".py", ".j2", ".md", ".toml", ".service", ".txt", ".cfg"}


def test_nothing_cites_documents_outside_the_repository() -> None:
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if path.suffix not in SUFFIXES or not path.is_file() or parts[0] in {".venv", ".git"} or "results" in parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if CITATION.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []

"""The example config.toml documents every setting: each key of each section appears in it (set or
commented out), so an office never has to read code to learn a setting exists."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from mailbot.config import SECTIONS, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.toml"


def section_text(text: str, name: str) -> str:
    match = re.search(rf"^\[{re.escape(name)}\][^\n]*\n(.*?)(?=^\[|\Z)", text, flags=re.S | re.M)
    assert match, f"config.toml has no [{name}] section"
    return match.group(1)


def test_every_key_of_every_section_is_in_the_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = []
    for name, cls in SECTIONS.items():
        body = section_text(text, name)
        for f in fields(cls):
            if f.name in ("file_secrets", "kinds"):
                continue
            if not re.search(rf"^#?\s*{re.escape(f.name)}\s*=", body, flags=re.M):
                missing.append(f"[{name}] {f.name}")
    assert missing == []


def test_no_comment_cites_a_document_the_reader_does_not_have() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert not re.search(r"seed \d|SPEC\.md|issue \d", text)


def test_the_example_parses() -> None:
    import tomllib

    config = parse_config(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")), EXAMPLE.parent)
    assert config.units and config.columns

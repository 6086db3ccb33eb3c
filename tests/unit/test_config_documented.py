"""The example config.toml documents every setting: each key of each section appears in it (set or
commented out), so an office never has to read code to learn a setting exists."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from mailbot.config import SECTIONS, ConfigError
from mailbot.config_file import parse_config

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


@pytest.mark.parametrize(
    "section, key, value, says",
    [
        ("smtp", "max_attempts", 0, "[smtp] max_attempts = 0 is out of range: it must be from 1 to 100"),
        ("smtp", "retry_seconds", -5, "[smtp] retry_seconds = -5 is out of range"),
        ("limits", "max_archive_members", -1, "[limits] max_archive_members = -1 is out of range"),
        ("limits", "max_compression_ratio", 0, "[limits] max_compression_ratio = 0 is out of range"),
        ("scoring", "routine", -3, "[scoring] routine = -3 is out of range: it must be from 0 to 100"),
        ("mailbox", "port", 70000, "[mailbox] port = 70000 is out of range: it must be from 1 to 65535"),
    ],
)
def test_numbers_out_of_range_are_refused_with_the_key_and_the_range(
    section: str, key: str, value: float, says: str
) -> None:
    import tomllib

    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data[section][key] = value
    with pytest.raises(ConfigError) as refused:
        parse_config(data, EXAMPLE.parent)
    assert says in str(refused.value)

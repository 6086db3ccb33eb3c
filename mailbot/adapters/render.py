"""Jinja2 rendering of the emails people read; a missing variable fails loudly in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import mailbot


def templates_dir() -> Path:
    """Installed wheels carry templates inside the package; a checkout keeps them at the top."""
    packaged = Path(mailbot.__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(mailbot.__file__).parent.parent / "templates"


class Renderer:
    def __init__(self, directory: Path | None = None) -> None:
        self.env = Environment(
            loader=FileSystemLoader(directory or templates_dir()),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def warm(self, folder: str = "reply") -> None:
        """Compile a folder's templates now (Jinja compiles on first use, tens of ms each), so the
        first reply after start-up is not the one that pays for it."""
        for name in self.env.list_templates(filter_func=lambda name: name.startswith(f"{folder}/") or "/" not in name):
            self.env.get_template(name)

    def pair(self, name: str, context: dict[str, Any]) -> tuple[str, str]:
        """Plain text and HTML of one email, e.g. name="reply/receipt"."""
        text = self.env.get_template(f"{name}.txt.j2").render(context)
        html = self.env.get_template(f"{name}.html.j2").render(context)
        return text, html

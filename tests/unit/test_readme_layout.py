"""The README's layout names every module of the package, so a newcomer finds each room's job."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_is_named_in_the_readme_layout() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    words = set(re.findall(r"[a-z_0-9]+", layout))
    missing = []
    for path in sorted((ROOT / "mailbot").rglob("*.py")):
        rel = path.relative_to(ROOT / "mailbot")
        if rel.name == "__init__.py" or rel.parts[0] in {"migrations", "samples", "web", "cli"}:
            continue
        if path.stem not in words and path.stem != "__main__":
            missing.append(str(rel))
    assert missing == []


def test_no_module_of_the_package_is_over_400_lines() -> None:
    long = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in (ROOT / "mailbot").rglob("*.py")
        if "versions" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert long == []

"""RAR archives (rarfile, with unar or bsdtar behind it), imported only by a process that opens one.

Split volumes, a missing RAR tool and passwords become the archive codes the liaison is answered with.
"""

from __future__ import annotations

import io

import rarfile

from mailbot.domain.archive import (
    ARCHIVE_ENCRYPTED,
    ARCHIVE_UNSAFE_PATH,
    ArchiveError,
    Member,
    _Budget,
    _clean_path,
    _drain,
    _is_junk,
)
from mailbot.domain.zip_names import decode_legacy

ENCRYPTED: tuple[type[Exception], ...] = (rarfile.PasswordRequired, rarfile.RarWrongPassword)
UNSUPPORTED: tuple[type[Exception], ...] = (
    rarfile.NeedFirstVolume,
    rarfile.RarCannotExec,
)  # valid archives not readable here: split volumes, no RAR tool


def _rar_name(info: rarfile.RarInfo) -> str:
    """RAR 4 names without the Unicode flag are in the writer's OEM code page, GBK here."""
    if isinstance(info, rarfile.Rar3Info) and not info.flags & rarfile.RAR_FILE_UNICODE:
        return decode_legacy(info.orig_filename)
    return info.filename


def read(data: bytes, label: str, prefix: str, budget: _Budget) -> list[Member]:
    # errors="strict": the default silently lists only the entries before the damage.
    with rarfile.RarFile(io.BytesIO(data), errors="strict") as archive:
        if archive.needs_password():
            raise ArchiveError(ARCHIVE_ENCRYPTED, label)
        infos = archive.infolist()
        budget.count(len(infos))
        wanted: list[tuple[str, rarfile.RarInfo]] = []
        for info in infos:
            path = _clean_path(_rar_name(info), prefix)
            if info.is_symlink():
                raise ArchiveError(ARCHIVE_UNSAFE_PATH, prefix + path)
            if info.is_dir() or _is_junk(path):
                continue
            wanted.append((path, info))
        budget.expect(sum(info.file_size or 0 for _, info in wanted))
        members = []
        for path, info in wanted:
            with archive.open(info) as stream:
                members.append(Member(prefix + path, _drain(stream.read, budget)))
    return members

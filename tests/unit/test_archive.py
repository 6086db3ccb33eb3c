"""read_archive against what liaisons' tools write and what attackers send, all built in memory."""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import py7zr
import pytest
import rarfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailbot.domain.archive import (
    ARCHIVE_EXTENSIONS,
    ArchiveError,
    Limits,
    Member,
    archive_kind,
    read_archive,
)
from mailbot.samples.archives import (
    ZIP_FLAG_ENCRYPTED,
    ZipEntry,
    build_7z,
    build_rar,
    build_zip,
    rar_symlink,
    sample_members,
    unicode_path_extra,
    write_zip,
    zip_bomb,
    zip_overlapping_bomb,
    zip_symlink,
)

DOCX = "盘山县应急局/关于开展安全生产月活动的报道.docx"
PHOTO = "现场照片1.jpg"
MEMBERS = ((DOCX, b"manuscript bytes"), (PHOTO, b"\xff\xd8\xff\xe0 photo"))
MIB = 1024 * 1024

Builder = Callable[[list[tuple[str, bytes]]], bytes]
BUILDERS: dict[str, tuple[Builder, str]] = {
    "zip-gbk": (lambda m: build_zip(m, names="gbk"), "报道.zip"),
    "zip-utf8": (lambda m: build_zip(m, names="utf8"), "报道.zip"),
    "zip-utf8-noflag": (lambda m: build_zip(m, names="utf8-noflag"), "报道.zip"),
    "zip-unicode-extra": (lambda m: build_zip(m, names="unicode-extra"), "报道.zip"),
    "7z": (build_7z, "报道.7z"),
    "rar": (build_rar, "报道.rar"),
    "rar-legacy-names": (lambda m: build_rar(m, legacy_names=True), "报道.rar"),
}


def as_pairs(members: tuple[Member, ...]) -> list[tuple[str, bytes]]:
    return [(m.path, m.data) for m in members]


def refused(data: bytes, name: str, limits: Limits = Limits()) -> ArchiveError:
    with pytest.raises(ArchiveError) as caught:
        read_archive(data, name, limits)
    return caught.value


def raw_7z(names: list[str]) -> bytes:
    """7z with names py7zr's public writer refuses; _writestr skips that check on purpose."""
    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w") as archive:
        for name in names:
            archive._writestr(b"x", name)
    return out.getvalue()


# --- names and content round-trip -------------------------------------------------------


@pytest.mark.parametrize("kind", BUILDERS)
def test_names_and_bytes_survive_every_format(kind: str) -> None:
    build, name = BUILDERS[kind]
    assert as_pairs(read_archive(build(list(MEMBERS)), name)) == list(MEMBERS)


def test_gbk_names_are_really_stored_without_utf8_flag() -> None:
    """Guards the builder: otherwise the GBK test above would pass on zipfile's own decoding."""
    data = build_zip(MEMBERS, names="gbk")
    assert DOCX.encode("gbk") in data
    assert DOCX.encode("utf-8") not in data
    flags = struct.unpack_from("<H", data, 6)[0]
    assert flags & 0x800 == 0


def test_unicode_path_field_wins_over_raw_bytes() -> None:
    """7-Zip writes the OEM bytes plus 0x7075; a Big5 raw name proves the field was used."""
    raw = DOCX.encode("big5", "replace")
    entry = ZipEntry(raw, b"x", extra=unicode_path_extra(DOCX, raw))
    assert [m.path for m in read_archive(write_zip([entry]), "a.zip")] == [DOCX]


def test_unicode_path_field_with_stale_crc_is_ignored() -> None:
    """A renamed entry keeps its old 0x7075 field; the CRC no longer matches, so the raw name stands."""
    old, new = "旧名字.docx", "新名字.docx"
    entry = ZipEntry(new.encode("gbk"), b"x", extra=unicode_path_extra(old, old.encode("gbk")))
    assert [m.path for m in read_archive(write_zip([entry]), "a.zip")] == [new]


def test_rar_legacy_names_are_really_bare_gbk() -> None:
    """Guards the builder: without the Unicode flag rarfile alone misreads the GBK name."""
    with rarfile.RarFile(io.BytesIO(build_rar(MEMBERS, legacy_names=True))) as archive:
        infos = archive.infolist()
    assert all(not info.flags & rarfile.RAR_FILE_UNICODE for info in infos)
    assert infos[0].orig_filename == DOCX.replace("/", "\\").encode("gbk")
    assert infos[0].filename != DOCX


def test_directory_attribute_without_trailing_slash_is_skipped() -> None:
    data = write_zip([ZipEntry("盘山县应急局".encode("gbk"), external_attr=0x10), ZipEntry(b"a.docx", b"x")])
    assert as_pairs(read_archive(data, "a.zip")) == [("a.docx", b"x")]


def test_docx_with_zip_magic_is_a_member_not_a_nested_archive() -> None:
    inner_docx = build_zip([("word/document.xml", b"<w:document/>")], names="utf8")
    members = read_archive(build_zip([("报道.docx", inner_docx)]), "a.zip")
    assert as_pairs(members) == [("报道.docx", inner_docx)]


def test_sample_members_unpack_unchanged() -> None:
    members = list(sample_members())
    assert as_pairs(read_archive(build_zip(members), "a.zip")) == members


@pytest.mark.parametrize("kind", BUILDERS)
def test_junk_and_directories_are_skipped(kind: str) -> None:
    build, name = BUILDERS[kind]
    junk = [
        ("盘山县应急局/", b""),
        ("__MACOSX/盘山县应急局/._报道.docx", b"appledouble"),
        (".DS_Store", b"finder"),
        ("盘山县应急局/Thumbs.db", b"explorer"),
        ("Desktop.ini", b"explorer"),
        ("盘山县应急局/~$关于开展安全生产月活动的报道.docx", b"word lock"),
    ]
    if kind == "7z":  # py7zr writes no directory entries from writestr
        junk = junk[1:]
    members = read_archive(build(junk + list(MEMBERS)), name)
    assert as_pairs(members) == list(MEMBERS)


def test_empty_archive_yields_nothing() -> None:
    assert read_archive(build_zip([]), "a.zip") == ()


# --- encryption ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "detail"),
    [
        (write_zip([ZipEntry(b"a.docx", b"x", flags=ZIP_FLAG_ENCRYPTED)]), "a.zip", "a.docx"),
        (build_7z(MEMBERS, password="秘密"), "a.7z", "a.7z"),
        (build_7z(MEMBERS, password="秘密", encrypt_headers=True), "a.7z", "a.7z"),
        (build_rar(MEMBERS, encrypted=True), "a.rar", "a.rar"),
        (build_rar(MEMBERS, encrypt_headers=True), "a.rar", "a.rar"),
    ],
    ids=["zip", "7z", "7z-headers", "rar", "rar-headers"],
)
def test_encrypted_archives_are_refused(data: bytes, name: str, detail: str) -> None:
    error = refused(data, name)
    assert (error.code, error.detail) == ("archive_encrypted", detail)


def test_encrypted_junk_is_skipped_not_refused() -> None:
    junk = ZipEntry(b"Thumbs.db", b"x", flags=ZIP_FLAG_ENCRYPTED)
    data = write_zip([junk, ZipEntry(b"a.docx", b"doc")])
    assert as_pairs(read_archive(data, "a.zip")) == [("a.docx", b"doc")]


# --- paths that could escape --------------------------------------------------------------

UNSAFE_NAMES = [
    "../evil.docx",
    "盘山县应急局/../../evil.docx",
    "..\\evil.docx",
    "a\\..\\..\\evil.docx",
    "/etc/cron.d/evil",
    "C:\\Windows\\evil.docx",
    "c:evil.docx",
    "\\\\server\\share\\evil.docx",
]


@pytest.mark.parametrize("bad", UNSAFE_NAMES)
def test_zip_unsafe_names_are_refused(bad: str) -> None:
    error = refused(build_zip([(DOCX, b"ok"), (bad, b"x")], names="utf8"), "a.zip")
    assert (error.code, error.detail) == ("archive_unsafe_path", bad)


@pytest.mark.parametrize("bad", ["../evil.docx", "a\\..\\..\\evil.docx", "C:\\evil.docx"])
def test_rar_unsafe_names_are_refused(bad: str) -> None:
    assert refused(build_rar([(bad, b"x")]), "a.rar").code == "archive_unsafe_path"


@pytest.mark.parametrize("bad", ["../evil.docx", "a/../../evil.docx", "a\\..\\..\\evil.docx"])
def test_7z_unsafe_names_are_refused(bad: str) -> None:
    assert refused(raw_7z([bad]), "a.7z").code == "archive_unsafe_path"


def test_gbk_traversal_name_is_refused_after_decoding() -> None:
    bad = "..\\盘山县\\evil.docx"
    error = refused(build_zip([(bad, b"x")], names="gbk"), "a.zip")
    assert (error.code, error.detail) == ("archive_unsafe_path", bad)


def test_nul_in_name_is_refused() -> None:
    """zipfile cuts the name at NUL ("a.docx"), hiding what Windows tools would show."""
    error = refused(write_zip([ZipEntry(b"a.docx\0.exe", b"x")]), "a.zip")
    assert error.code == "archive_unsafe_path"


def test_unsafe_name_inside_nested_archive_names_the_full_path() -> None:
    inner = build_zip([("../evil.docx", b"x")], names="utf8")
    error = refused(build_zip([("inner.zip", inner)]), "a.zip")
    assert (error.code, error.detail) == ("archive_unsafe_path", "inner.zip/../evil.docx")


def test_zip_symlink_is_refused() -> None:
    error = refused(zip_symlink("盘山县应急局", "/etc"), "a.zip")
    assert (error.code, error.detail) == ("archive_unsafe_path", "盘山县应急局")


def test_rar_symlink_is_refused() -> None:
    error = refused(rar_symlink("link", "/etc/passwd"), "a.rar")
    assert (error.code, error.detail) == ("archive_unsafe_path", "link")


def test_7z_symlink_is_refused(tmp_path: Path) -> None:
    os.symlink("/etc/passwd", tmp_path / "link")
    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w") as archive:
        archive.write(tmp_path / "link", "link")
    error = refused(out.getvalue(), "a.7z")
    assert (error.code, error.detail) == ("archive_unsafe_path", "link")


# --- nesting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inner_name", "build"),
    [("内层.zip", build_zip), ("内层.7z", build_7z), ("内层.rar", build_rar)],
)
def test_nested_archive_is_unpacked_one_level(inner_name: str, build: Builder) -> None:
    outer = build_zip([(PHOTO, b"outer photo"), (f"材料/{inner_name}", build(list(MEMBERS)))])
    assert as_pairs(read_archive(outer, "a.zip")) == [
        (PHOTO, b"outer photo"),
        (f"材料/{inner_name}/{DOCX}", b"manuscript bytes"),
        (f"材料/{inner_name}/{PHOTO}", MEMBERS[1][1]),
    ]


def test_archive_two_levels_down_is_refused() -> None:
    innermost = build_zip(MEMBERS)
    outer = build_zip([("inner.zip", build_zip([("innermost.zip", innermost)]))])
    error = refused(outer, "a.zip")
    assert (error.code, error.detail) == ("archive_nested_too_deep", "inner.zip/innermost.zip")


def test_two_levels_allowed_when_the_limit_says_so() -> None:
    outer = build_zip([("inner.zip", build_zip([("innermost.7z", build_7z(MEMBERS))]))])
    members = read_archive(outer, "a.zip", Limits(max_depth=2))
    inner = "inner.zip/innermost.7z"
    assert [m.path for m in members] == [f"{inner}/{DOCX}", f"{inner}/{PHOTO}"]


def test_max_depth_zero_refuses_any_nesting() -> None:
    outer = build_7z([("inner.zip", build_zip(MEMBERS))])
    error = refused(outer, "a.7z", Limits(max_depth=0))
    assert (error.code, error.detail) == ("archive_nested_too_deep", "inner.zip")


def test_corrupt_nested_archive_is_named() -> None:
    error = refused(build_zip([("inner.rar", b"Rar!\x1a\x07\x00 not really")]), "a.zip")
    assert (error.code, error.detail) == ("archive_corrupt", "inner.rar")


# --- damaged input ------------------------------------------------------------------------


def _truncated(kind: str) -> tuple[bytes, str]:
    build, name = BUILDERS[kind]
    data = build(list(MEMBERS))
    return data[: len(data) // 2], name


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"", "a.zip"),
        (b"", "a.7z"),
        (b"", "a.rar"),
        (b"this is not an archive at all", "a.zip"),
        (b"PK\x03\x04" + bytes(200), "a.zip"),
        (b"7z\xbc\xaf\x27\x1c" + bytes(200), "a.7z"),
        (b"Rar!\x1a\x07\x00" + bytes(200), "a.rar"),
        _truncated("zip-gbk"),
        _truncated("7z"),
        _truncated("rar"),
        (build_zip(MEMBERS)[:-10], "a.zip"),
    ],
    ids=[
        "empty-zip",
        "empty-7z",
        "empty-rar",
        "garbage",
        "zip-magic",
        "7z-magic",
        "rar-magic",
        "zip-half",
        "7z-half",
        "rar-half",
        "zip-no-end-record",
    ],
)
def test_damaged_archives_are_corrupt(data: bytes, name: str) -> None:
    assert refused(data, name).code == "archive_corrupt"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (write_zip([ZipEntry(b"a.docx", b"original content", deflate=False)]), "a.zip"),
        (build_rar([("a.docx", b"original content")]), "a.rar"),
    ],
    ids=["zip", "rar"],
)
def test_flipped_byte_fails_the_crc(data: bytes, name: str) -> None:
    at = data.index(b"original content")
    damaged = data[:at] + b"O" + data[at + 1 :]
    assert refused(damaged, name).code == "archive_corrupt"


def test_rar_cut_inside_a_header_is_corrupt_not_shortened() -> None:
    """rarfile's default errors="stop" would quietly list only the entries before the cut."""
    data = build_rar([("a.docx", b"first"), ("b.jpg", b"second"), ("c.jpg", b"third")])
    cut = data.index(b"c.jpg") - 5
    assert refused(data[:cut], "a.rar").code == "archive_corrupt"


def test_understated_size_is_corrupt_not_silently_truncated() -> None:
    """Declared sizes lie (cpython #83522); the CRC catches a short read."""
    data = bytearray(build_zip([("a.docx", b"0123456789" * 1000)], names="utf8"))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 24, 10)  # uncompressed size in the central record
    assert refused(bytes(data), "a.zip").code == "archive_corrupt"


# --- limits -------------------------------------------------------------------------------


def test_ratio_bomb_is_refused_without_inflating_it() -> None:
    bomb = zip_bomb(50 * MIB)
    assert len(bomb) < 100 * 1024
    tracemalloc.start()
    try:
        error = refused(bomb, "a.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (error.code, error.detail) == ("archive_bomb", "100")
    assert peak < 16 * MIB


def test_7z_bomb_is_refused_from_declared_sizes_before_decompressing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """py7zr decodes in blocks of up to 128 MB, so the headers must stop it first."""
    bomb = build_7z([("a.docx", bytes(8 * MIB))])

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("extraction started")

    monkeypatch.setattr(py7zr.SevenZipFile, "extractall", never)
    assert refused(bomb, "a.7z").code == "archive_bomb"


def test_rar_too_large_is_refused_from_declared_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("extraction started")

    monkeypatch.setattr(rarfile.RarFile, "open", never)
    error = refused(build_rar([("a.jpg", bytes(2000))]), "a.rar", Limits(max_total_bytes=1999))
    assert error.code == "archive_too_large"


def test_zip_entry_count_is_refused_before_zipfile_lists_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """zipfile builds an object per directory record; a tiny zip can declare millions."""
    data = build_zip([(f"{i}.jpg", b"") for i in range(50)])

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile parsed the directory")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    assert refused(data, "a.zip", Limits(max_members=49)).code == "archive_too_many_members"


def test_overlapping_entries_are_refused() -> None:
    assert refused(zip_overlapping_bomb(), "a.zip").code == "archive_corrupt"


def test_small_compressible_file_is_not_a_bomb() -> None:
    """Below 1 MiB of output the ratio is not judged: a blank form compresses 500:1."""
    data = bytes(900 * 1024)
    assert as_pairs(read_archive(build_zip([("表格.docx", data)]), "a.zip")) == [("表格.docx", data)]


def test_high_ratio_allowed_when_the_limit_says_so() -> None:
    data = bytes(3 * MIB)
    members = read_archive(build_zip([("a.docx", data)]), "a.zip", Limits(max_ratio=10_000))
    assert as_pairs(members) == [("a.docx", data)]


@pytest.mark.parametrize("kind", BUILDERS)
def test_total_size_limit(kind: str) -> None:
    build, name = BUILDERS[kind]
    data = build([(f"{i}.jpg", os.urandom(600)) for i in range(3)])
    assert len(read_archive(data, name, Limits(max_total_bytes=1800))) == 3
    error = refused(data, name, Limits(max_total_bytes=1799))
    assert (error.code, error.detail) == ("archive_too_large", "1799")


def test_total_size_counts_nested_archive_and_its_members() -> None:
    inner = build_zip([("b.jpg", os.urandom(1000))])
    outer = build_zip([("a.jpg", os.urandom(1000)), ("inner.zip", inner)])
    needed = 1000 + len(inner) + 1000
    assert len(read_archive(outer, "a.zip", Limits(max_total_bytes=needed))) == 2
    assert refused(outer, "a.zip", Limits(max_total_bytes=needed - 1)).code == "archive_too_large"


@pytest.mark.parametrize("kind", BUILDERS)
def test_member_count_limit(kind: str) -> None:
    build, name = BUILDERS[kind]
    data = build([(f"{i}.jpg", b"x") for i in range(6)])
    assert len(read_archive(data, name, Limits(max_members=6))) == 6
    error = refused(data, name, Limits(max_members=5))
    assert (error.code, error.detail) == ("archive_too_many_members", "5")


def test_member_count_includes_nested_entries() -> None:
    outer = build_zip([("a.jpg", b"x"), ("inner.zip", build_zip([("b.jpg", b"x"), ("c.jpg", b"x")]))])
    assert len(read_archive(outer, "a.zip", Limits(max_members=4))) == 3
    assert refused(outer, "a.zip", Limits(max_members=3)).code == "archive_too_many_members"


# --- kind detection -----------------------------------------------------------------------

ZIP_MAGIC = build_zip([("a", b"x")])
RAR4 = build_rar([("a", b"x")])


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("报道.zip", ZIP_MAGIC, "zip"),
        ("报道.rar", ZIP_MAGIC, "zip"),  # renamed: magic wins
        ("报道", RAR4, "rar"),
        ("报道.ZIP", RAR4, "rar"),
        ("x.bin", b"Rar!\x1a\x07\x01\x00rest", "rar"),
        ("x.bin", build_7z([("a", b"x")]), "7z"),
        ("x.bin", b"PK\x05\x06" + bytes(18), "zip"),
        ("报道.7Z", b"", "7z"),  # no magic: the extension decides
        ("dir\\报道.Rar", b"garbage", "rar"),
        ("报道.docx", ZIP_MAGIC, None),
        ("报道.xlsx", ZIP_MAGIC, None),
        ("照片.jpg", b"\xff\xd8\xff\xe0", None),
        ("报道.doc", b"\xd0\xcf\x11\xe0", None),
        ("noext", b"", None),
    ],
)
def test_archive_kind(name: str, data: bytes, kind: str | None) -> None:
    assert archive_kind(name, data) == kind


def test_archive_extensions() -> None:
    assert ARCHIVE_EXTENSIONS == frozenset({".zip", ".7z", ".rar"})


def test_renamed_archive_is_read_by_its_magic() -> None:
    assert as_pairs(read_archive(build_7z(MEMBERS), "报道.zip")) == list(MEMBERS)


@pytest.mark.parametrize(("name", "data"), [("报道.docx", ZIP_MAGIC), ("a.txt", b"hello"), ("x", b"")])
def test_non_archives_are_unsupported(name: str, data: bytes) -> None:
    error = refused(data, name)
    assert (error.code, error.detail) == ("archive_unsupported", name)


# --- nothing but ArchiveError -------------------------------------------------------------

SEEDS = [(BUILDERS[kind][0](list(MEMBERS)), BUILDERS[kind][1]) for kind in ("zip-gbk", "7z", "rar")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=6),
    cut=st.integers(min_value=0),
)
def test_damaged_input_raises_only_archive_error(
    seed: tuple[bytes, str], edits: list[tuple[int, int]], cut: int
) -> None:
    original, name = seed
    data = bytearray(original)
    for position, value in edits:
        data[position % len(data)] = value
    data = data[: len(data) - cut % 16]
    try:
        members = read_archive(bytes(data), name, Limits(max_total_bytes=MIB))
    except ArchiveError as error:
        assert error.code.startswith("archive_")
    else:
        assert all(isinstance(m, Member) for m in members)

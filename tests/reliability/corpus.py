"""Bad input as strangers send it, each case with the verdict and reasons mailbot must give.

Every case is a whole email (bytes), built when its test runs: the corpus holds zip bombs and a
30 MB message that should not all sit in memory at once. ``codes`` are the reasons recorded in the
ledger, in order; for rejections they are the check codes the reply explains in Chinese.

The desk they run on is the real one: the repository's config.toml with a Maildir inbox, a
DirectoryTransport outbox and SQLite, all under one temporary directory.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import signal
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from PIL import Image

from mailbot.bootstrap import App, build
from mailbot.config import DatabaseConfig, MailboxConfig, SmtpConfig, StorageConfig, load_config
from mailbot.samples.archives import (  # the private writers build what no honest tool writes
    ZIP_FLAG_ENCRYPTED,
    ZipEntry,
    _central_record,
    _end_record,
    _local_record,
    _pack,
    build_7z,
    build_rar,
    build_zip,
    rar_symlink,
    write_zip,
    zip_bomb,
    zip_overlapping_bomb,
    zip_symlink,
)
from mailbot.samples.corpus import STORIES
from mailbot.samples.docx import build_docx, with_breaks
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo

REPO = Path(__file__).resolve().parents[2]
LIAISON = "stz.yjj@example.com"  # 王丽 of 双台子区应急管理局 in the repository's config.toml
UNIT = "双台子区应急管理局"
STRANGER = "someone@example.org"
OFFICE = "office@example.com"
MIB = 1024 * 1024

TITLE, BODY = STORIES["drill"]
FOOTER = [f"撰稿人：{UNIT}（办公室）张三", "初审人：李建国    复审人：王志刚"]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes] = field(repr=False)
    verdict: str  # receipt | rejection | held | ignored
    codes: tuple[str, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)  # overrides of [limits]
    # Where MaildirSource cannot file the message (see test_bad_input), the case goes straight to
    # store_raw and record; everything else takes the whole path: Maildir -> poll_once -> outbox files.
    via_maildir: bool = True
    note: str = ""  # an answer that is clear enough but could be more helpful (see the report)
    known_bug: str = ""  # a crash outside the domain code, expected to fail until it is fixed there
    says: tuple[str, ...] = ()  # what the reply must say besides each code's hint


# --- the desk ------------------------------------------------------------------------------------


def make_app(tmp: Path, **limits: int) -> App:
    """The repository's config with a Maildir inbox, a directory outbox and SQLite under ``tmp``."""
    base = load_config(REPO / "config.toml")
    config = replace(
        base,
        mailbox=MailboxConfig(
            kind="maildir",
            path=str(tmp / "inbox"),
            processed_folder="processed",
            rejected_folder="rejected",
            held_folder="held",
        ),
        smtp=SmtpConfig(
            kind="directory",
            directory=str(tmp / "outbox"),
            from_address=base.smtp.from_address,
            from_name=base.smtp.from_name,
        ),
        database=DatabaseConfig(url=f"sqlite:///{tmp / 'mailbot.db'}"),
        storage=StorageConfig(dir=str(tmp / "storage")),
        limits=replace(base.limits, **limits),
        schedule=replace(base.schedule, enabled=False),
    )
    return build(config)


class Timeout(BaseException):
    """A BaseException, so that no "except Exception" boundary in mailbot can swallow it."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail the block if it spends more than ``seconds`` of this process's CPU (SIGPROF), or ten
    times as long by the wall clock (SIGALRM: a call that blocks). CPU time, because the guard is
    against quadratic work on hostile input, and a busy machine must not fail it: a 0.6 s parse
    took over 2 s of wall-clock time while other test runs shared the two cores. Main thread, Unix."""

    def expired(signum: int, _frame: FrameType | None) -> None:
        clock = "of CPU" if signum == signal.SIGPROF else "by the wall clock"
        raise Timeout(f"still running after {seconds if signum == signal.SIGPROF else wall} s {clock}")

    wall = max(30.0, 10 * seconds)
    previous = signal.signal(signal.SIGPROF, expired), signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, wall)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGPROF, previous[0])
        signal.signal(signal.SIGALRM, previous[1])


# --- parts ---------------------------------------------------------------------------------------


@functools.cache
def good_docx() -> bytes:
    return build_docx(TITLE, BODY, FOOTER)


@functools.cache
def photos() -> tuple[tuple[str, bytes], ...]:
    return tuple((f"现场照片{i + 1}.jpg", make_photo(1280, 960, seed=100 + i)) for i in range(3))


def good_members() -> list[tuple[str, bytes]]:
    return [(f"{TITLE}.docx", good_docx()), *photos()]


@functools.cache
def good_zip() -> bytes:
    return build_zip(good_members())


def mail(
    attachments: list[tuple[str, bytes]], subject: str = TITLE, *, sender: str = LIAISON, **kwargs: object
) -> bytes:
    """As Foxmail writes it; beyond 1 MB of attachments build_mail's textwrap is quadratic, so
    those are written by multipart() instead."""
    if sum(len(data) for _name, data in attachments) < MIB:
        return build_mail(sender, subject, attachments, **kwargs)  # type: ignore[arg-type]
    assert not kwargs, "large messages take no build_mail options"
    parts = [file_part(name, data, "application/zip") for name, data in attachments]
    return multipart([text_part(), *parts], subject=subject, sender=sender.encode())


def raw_mail(headers: list[bytes], body: bytes, *, sender: bytes = LIAISON.encode()) -> bytes:
    """A message written byte by byte, for shapes no well-behaved writer produces."""
    lines = [b"From: <" + sender + b">", b"To: pjyjjbgs@163.com", b"Message-ID: <bad-input@sample.test>", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def b64(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def word(text: str) -> str:
    """An RFC 2047 base64 word: how CR/LF reach a header value past the wire format."""
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def multipart(
    parts: list[bytes],
    boundary: bytes = b"bad-input-boundary",
    *,
    close: bool = True,
    headers: list[bytes] | None = None,
    sender: bytes = LIAISON.encode(),
    subject: str = TITLE,
) -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    if close:
        body += b"--" + boundary + b"--\r\n"
    return raw_mail(
        [
            b"Subject: " + word(subject).encode(),
            b"MIME-Version: 1.0",
            *(headers or [b'Content-Type: multipart/mixed; boundary="' + boundary + b'"']),
        ],
        body,
        sender=sender,
    )


def text_part(text: str = "请审阅。") -> bytes:
    return b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(text.encode())


def file_part(name: str, data: bytes, ctype: str = "application/octet-stream") -> bytes:
    return (
        f'Content-Type: {ctype}; name="{word(name)}"\r\nContent-Transfer-Encoding: base64\r\n'
        f'Content-Disposition: attachment; filename="{word(name)}"\r\n\r\n'
    ).encode() + b64(data)


# --- hostile archives ----------------------------------------------------------------------------


def nested_zip(depth: int) -> bytes:
    data = good_zip()
    for level in range(depth):
        data = build_zip([(f"第{level}层.zip", data)])
    return data


def zip_of_bombs() -> bytes:
    """42.zip's shape: an honest outer zip of inner zips, each a zip bomb."""
    return build_zip([(f"照片{i}.zip", zip_bomb(20 * MIB)) for i in range(4)], names="utf8")


def many_members(count: int) -> bytes:
    return write_zip(ZipEntry(f"照片/{i}.txt".encode(), b"x", deflate=False) for i in range(count))


def encrypted_zip() -> bytes:
    return write_zip([ZipEntry("稿件.docx".encode("gbk"), good_docx(), flags=ZIP_FLAG_ENCRYPTED)])


def lying_docx() -> bytes:
    """A .docx whose document.xml declares its real 2 KB and inflates to 40 MB (cpython #83522)."""
    good = zipfile.ZipFile(io.BytesIO(good_docx()))
    packed = []
    for info in good.infolist():
        item = _pack(ZipEntry(info.filename.encode(), good.read(info.filename), flags=0x0800))
        if info.filename == "word/document.xml":
            bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
            item = replace(item, payload=bomb.compress(bytes(40 * MIB)) + bomb.flush())
        packed.append(item)
    out, central = io.BytesIO(), []
    for item in packed:
        central.append(_central_record(item, out.tell()))
        out.write(_local_record(item))
    directory = b"".join(central)
    start = out.tell()
    return out.getvalue() + directory + _end_record(len(central), len(directory), start)


def docx_with_document(xml: str) -> bytes:
    """The good manuscript with word/document.xml replaced."""
    good = zipfile.ZipFile(io.BytesIO(good_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in good.infolist():
            data = xml.encode() if info.filename == "word/document.xml" else good.read(info.filename)
            package.writestr(info.filename, data)
    return out.getvalue()


def _document_xml() -> str:
    return zipfile.ZipFile(io.BytesIO(good_docx())).read("word/document.xml").decode()


def entity_bomb_docx() -> bytes:
    xml = _document_xml()
    head, _, rest = xml.partition("?>")
    dtd = (
        '<!DOCTYPE w:document [<!ENTITY a "啊啊啊啊啊啊啊啊啊啊">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + "]>"
    )
    body = rest.replace(f"<w:t>{BODY[0]}</w:t>", "<w:t>&j;</w:t>", 1)
    return docx_with_document(head + "?>" + dtd + body)


def external_entity_docx() -> bytes:
    xml = _document_xml()
    head, _, rest = xml.partition("?>")
    dtd = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    body = rest.replace(f"<w:t>{BODY[0]}</w:t>", "<w:t>&xxe;</w:t>", 1)
    return docx_with_document(head + "?>" + dtd + body)


def paragraph_flood_docx(count: int = 400_000) -> bytes:
    xml = _document_xml()
    at = xml.index("<w:body>") + len("<w:body>")
    return docx_with_document(xml[:at] + "<w:p><w:r><w:t>段</w:t></w:r></w:p>" * count + xml[at:])


def footer_whitespace_docx() -> bytes:
    """A footer line with 200,000 spaces: the label regexes once rescanned the run per position."""
    return build_docx(TITLE, BODY, ["撰稿人：张三" + " " * 200_000 + "（办公室）", "初审人：李四  复审人：王五"])


def pixel_bomb_png() -> bytes:
    """20,000 x 20,000 pixels (400 MP) in about 50 KB."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    return out.getvalue()


@functools.cache
def flat_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (90, 120, 150)).save(out, "PNG")
    return out.getvalue()


# --- hostile MIME --------------------------------------------------------------------------------


def winmail_dat() -> bytes:
    """Outlook's TNEF, named winmail.dat, whose second attribute has level 0: it cannot be unwrapped."""
    tnef = struct.pack("<LH", 0x223E9F78, 0x0001) + b"\x01\x06\x90\x08\x00" + bytes(64)
    return multipart([text_part(), file_part("winmail.dat", tnef, "application/ms-tnef")])


def uuencoded_body() -> bytes:
    import binascii

    data = good_zip()
    lines = [b"begin 644 xinxi.zip"]
    lines += [binascii.b2a_uu(data[i : i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    lines += [b"`", b"end"]
    return raw_mail([b"Subject: " + word(TITLE).encode()], "请审阅。\r\n\r\n".encode() + b"\r\n".join(lines))


def single_part(part: bytes) -> bytes:
    """A message whose only part is ``part`` (its headers become the message's)."""
    return raw_mail([b"Subject: " + word(TITLE).encode(), b"MIME-Version: 1.0"], b"")[:-4] + b"\r\n" + part


def nested_multipart(depth: int) -> bytes:
    body = b""
    for level in range(depth):
        body += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
    body += file_part("信息.zip", good_zip(), "application/zip") + b"\r\n"
    for level in reversed(range(depth)):
        body += b"--b%d--\r\n" % level
    return single_part(body)


def subject_10000() -> bytes:
    return mail([("信息.zip", good_zip())], "关于" + "安全生产" * 2500, style="outlook")


def many_attachments(count: int) -> bytes:
    return multipart(
        [
            text_part(),
            file_part(f"{TITLE}.docx", good_docx()),
            *(file_part(name, data, "image/jpeg") for name, data in photos()),
            *(file_part(f"附件{i}.txt", f"第{i}个附件".encode()) for i in range(count - 4)),
        ]
    )


def message_30mb() -> bytes:
    """build_mail's textwrap is quadratic on 30 MB of base64, so this one is written here."""
    video = os.urandom(22 * MIB)  # incompressible, as a phone video is
    return multipart(
        [
            text_part(),
            file_part("信息.zip", good_zip(), "application/zip"),
            file_part("现场视频.mp4", video, "video/mp4"),
        ]
    )


def html_only(html: str, attachments: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    part = b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(html.encode())
    if not attachments:
        return single_part(part)
    return multipart([part, *(file_part(n, d, "application/zip") for n, d in attachments)])


# --- the corpus ----------------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    # archives: bombs
    Case(
        "zip bomb, 50 MB of zeros at 1000:1",
        lambda: mail([("信息.zip", zip_bomb(50 * MIB))]),
        "rejection",
        ("archive_bomb",),
        says=("压缩包“信息.zip”的压缩比异常",),
    ),
    Case(
        "zip in zip in zip in zip",
        lambda: mail([("信息.zip", nested_zip(3))]),
        "rejection",
        ("archive_nested_too_deep",),
    ),
    Case("zip of zip bombs (42.zip)", lambda: mail([("照片.zip", zip_of_bombs())]), "rejection", ("archive_bomb",)),
    Case(
        "10,000 tiny members",
        lambda: mail([("照片.zip", many_members(10_000))]),
        "rejection",
        ("archive_too_many_members",),
        says=("压缩包中的文件过多（500）",),
    ),
    Case(
        "overlapping entries (CVE-2024-0450)",
        lambda: mail([("信息.zip", zip_overlapping_bomb())]),
        "rejection",
        ("archive_corrupt",),
    ),
    Case(
        "7z bomb, 30 MB of zeros",
        lambda: mail([("信息.7z", build_7z([("稿件.docx", bytes(30 * MIB))]))]),
        "rejection",
        ("archive_bomb",),
    ),
    Case(
        "unpacks past max_archive_bytes",
        lambda: mail([("信息.zip", build_zip([*good_members(), ("视频.mp4", os.urandom(3 * MIB))]))]),
        "rejection",
        ("archive_too_large",),
        limits={"max_archive_bytes": 2 * MIB},
        says=("压缩包解压后过大（超过 2 MB）",),
    ),
    # archives: paths
    Case(
        "zip member ../../",
        lambda: mail([("信息.zip", build_zip([*good_members(), ("../../etc/cron.d/evil.docx", b"x")], names="utf8"))]),
        "rejection",
        ("archive_unsafe_path",),
        says=("“../../etc/cron.d/evil.docx”路径不安全",),
    ),
    Case(
        "zip member with an absolute path",
        lambda: mail([("信息.zip", build_zip([*good_members(), ("/etc/passwd", b"x")], names="utf8"))]),
        "rejection",
        ("archive_unsafe_path",),
    ),
    Case(
        "zip member ..\\..\\ (Windows)",
        lambda: mail([("信息.zip", build_zip([*good_members(), ("..\\..\\Windows\\evil.dll", b"x")]))]),
        "rejection",
        ("archive_unsafe_path",),
    ),
    Case(
        "zip member C:\\",
        lambda: mail([("信息.zip", build_zip([*good_members(), ("C:\\Windows\\evil.dll", b"x")]))]),
        "rejection",
        ("archive_unsafe_path",),
    ),
    Case(
        "rar member ..\\..\\",
        lambda: mail([("信息.rar", build_rar([*good_members(), ("..\\..\\evil.docx", b"x")]))]),
        "rejection",
        ("archive_unsafe_path",),
    ),
    Case(
        "zip symlink member",
        lambda: mail([("信息.zip", zip_symlink("照片", "/etc"))]),
        "rejection",
        ("archive_unsafe_path",),
    ),
    Case(
        "rar symlink member (rarfile #114)",
        lambda: mail([("信息.rar", rar_symlink("照片", "/etc"))]),
        "rejection",
        ("archive_unsafe_path",),
    ),
    # archives: passwords
    Case(
        "encrypted zip",
        lambda: mail([("信息.zip", encrypted_zip())]),
        "rejection",
        ("archive_encrypted",),
        says=("“稿件.docx”设置了密码",),
    ),
    Case(
        "encrypted 7z, names visible",
        lambda: mail([("信息.7z", build_7z(good_members(), password="1234"))]),
        "rejection",
        ("archive_encrypted",),
    ),
    Case(
        "encrypted 7z, names hidden",
        lambda: mail([("信息.7z", build_7z(good_members(), password="1234", encrypt_headers=True))]),
        "rejection",
        ("archive_encrypted",),
    ),
    Case(
        "encrypted rar",
        lambda: mail([("信息.rar", build_rar(good_members(), encrypted=True))]),
        "rejection",
        ("archive_encrypted",),
    ),
    Case(
        "rar with encrypted headers",
        lambda: mail([("信息.rar", build_rar(good_members(), encrypt_headers=True))]),
        "rejection",
        ("archive_encrypted",),
    ),
    # archives: damaged
    Case(
        "truncated zip",
        lambda: mail([("信息.zip", good_zip()[: len(good_zip()) // 2])]),
        "rejection",
        ("archive_corrupt",),
    ),
    Case(
        "truncated 7z", lambda: mail([("信息.7z", build_7z(good_members())[:-200])]), "rejection", ("archive_corrupt",)
    ),
    Case(
        "truncated rar",
        lambda: mail([("信息.rar", build_rar(good_members())[:-500])]),
        "rejection",
        ("archive_corrupt",),
    ),
    Case("zero-byte .zip", lambda: mail([("信息.zip", b"")]), "rejection", ("archive_corrupt",)),
    Case("zero-byte .7z", lambda: mail([("信息.7z", b"")]), "rejection", ("archive_corrupt",)),
    Case("zero-byte .rar", lambda: mail([("信息.rar", b"")]), "rejection", ("archive_corrupt",)),
    Case("random bytes named .zip", lambda: mail([("信息.zip", os.urandom(4096))]), "rejection", ("archive_corrupt",)),
    # manuscripts
    Case(
        ".docx that is plain text",
        lambda: mail([("稿件.docx", "这不是Word文档".encode()), *photos()]),
        "rejection",
        ("manuscript_not_docx",),
    ),
    Case(
        ".doc renamed .docx",
        lambda: mail([("稿件.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)), *photos()]),
        "rejection",
        ("manuscript_not_docx",),
        says=("稿件“稿件.docx”不是真正的 .docx 文件",),
    ),
    Case(
        ".docx with an XML entity bomb",
        lambda: mail([("稿件.docx", entity_bomb_docx()), *photos()]),
        "rejection",
        ("manuscript_corrupt",),
    ),
    Case(
        ".docx with an external entity (XXE)",
        lambda: mail([("稿件.docx", external_entity_docx()), *photos()]),
        "rejection",
        ("manuscript_corrupt",),
    ),
    Case(
        ".docx whose sizes lie (40 MB body)",
        lambda: mail([("稿件.docx", lying_docx()), *photos()]),
        "rejection",
        ("manuscript_corrupt",),
    ),
    Case(
        ".docx of 400,000 empty paragraphs",
        lambda: mail([("稿件.docx", paragraph_flood_docx()), *photos()]),
        "rejection",
        ("manuscript_too_complex",),
    ),
    Case(
        ".docx with four million <w:br/> in one paragraph",
        lambda: mail(
            [("稿件.docx", with_breaks(build_docx(*STORIES["fire"], ["撰稿人：张三"]), 4_000_000)), *photos()]
        ),
        "rejection",
        ("manuscript_too_complex",),
    ),
    Case(
        ".docx footer with 200,000 spaces",
        lambda: mail([("稿件.docx", footer_whitespace_docx()), *photos()]),
        "receipt",
    ),
    # photos
    Case(
        "decompression-bomb PNG (400 MP)",
        lambda: mail([("信息.zip", build_zip([*good_members(), ("全景.png", pixel_bomb_png())]))]),
        "rejection",
        ("photo_bomb",),
        says=("照片“全景.png”的像素数异常",),
    ),
    Case(
        "30 flat 64 MP PNGs (40 s to decode in full)",
        lambda: mail(
            [("信息.zip", build_zip([*good_members(), *((f"图{i}.png", flat_png(8000)) for i in range(30))]))]
        ),
        "receipt",
    ),
    # message size and shape
    Case("30 MB message", message_30mb, "receipt"),
    Case(
        "30 MB message over a 20 MB limit",
        message_30mb,
        "rejection",
        ("oversized_message",),
        limits={"max_message_bytes": 20 * MIB},
        says=("邮件过大（30.5 MB）",),
    ),
    Case("500 attachments", lambda: many_attachments(500), "receipt"),
    Case(
        "5,000 attachments",
        lambda: many_attachments(5000),
        "rejection",
        ("archive_too_many_members",),
        note="a reason of its own (too_many_attachments): this one says 压缩包",
    ),
    Case(
        "many archives, each within the limits, together past them",
        lambda: mail(
            [
                ("信息.zip", good_zip()),
                *((f"视频{i}.zip", build_zip([(f"视频{i}.mp4", os.urandom(MIB))])) for i in range(6)),
            ]
        ),
        "rejection",
        ("archive_too_large",),
        limits={"max_archive_bytes": 4 * MIB},
    ),
    Case(
        "many archives whose members add up past max_archive_members",
        lambda: mail([("信息.zip", good_zip()), *((f"照片{i}.zip", many_members(300)) for i in range(3))]),
        "rejection",
        ("archive_too_many_members",),
    ),
    Case("no attachment", lambda: mail([], body="稿件见附件。"), "rejection", ("no_attachment",)),
    Case(
        "HTML-only body, no attachment",
        lambda: html_only("<p>稿件见附件</p><script>x</script>"),
        "rejection",
        ("no_attachment",),
    ),
    Case(
        "HTML-only body, 超大附件 link",
        lambda: html_only('<div>从QQ邮箱发来的超大附件</div><a href="https://wx.mail.qq.com/ftn/x">信息.zip</a>'),
        "rejection",
        ("large_attachment_link",),
    ),
    Case("HTML-only body with the archive", lambda: html_only("<p>请审阅</p>", [("信息.zip", good_zip())]), "receipt"),
    Case("HTML of 200,000 unclosed <script>", lambda: html_only("<script>" * 200_000), "rejection", ("no_attachment",)),
    Case("winmail.dat (application/ms-tnef) that does not unwrap", winmail_dat, "rejection", ("outlook_tnef",)),
    Case("uuencoded archive in the body (mail-parser #80)", uuencoded_body, "receipt"),
    Case(
        "'begin 644' in the body that is not uuencode",
        lambda: raw_mail([b"Subject: x"], "请审阅\r\nbegin 644 稿件.zip\r\n这不是编码\r\nend\r\n".encode()),
        "rejection",
        ("no_attachment",),
    ),
    Case(
        "missing closing boundary",
        lambda: multipart([text_part(), file_part("信息.zip", good_zip(), "application/zip")], close=False),
        "receipt",
    ),
    Case(
        "boundary never used",
        lambda: raw_mail(
            [b"Subject: x", b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="never"'],
            b"--other\r\n" + file_part("信息.zip", good_zip()) + b"\r\n--other--\r\n",
        ),
        "rejection",
        ("no_attachment",),
    ),
    Case(
        "multipart without a boundary parameter",
        lambda: raw_mail(
            [b"Subject: x", b"MIME-Version: 1.0", b"Content-Type: multipart/mixed"],
            b"--b\r\n" + file_part("信息.zip", good_zip()) + b"\r\n--b--\r\n",
        ),
        "rejection",
        ("no_attachment",),
    ),
    Case(
        "2000-deep nested multipart",
        lambda: nested_multipart(2000),
        "rejection",
        ("no_attachment",),
        via_maildir=False,
        note="a reason of its own (message_unreadable) instead of no_attachment",
    ),
    Case(
        "duplicate Content-Type headers",
        lambda: multipart(
            [text_part(), file_part("信息.zip", good_zip(), "application/zip")],
            headers=[b'Content-Type: multipart/mixed; boundary="bad-input-boundary"', b"Content-Type: text/plain"],
        ),
        "receipt",
    ),
    Case(
        "Content-Type of 1 MB of ';' inside a quote",
        lambda: raw_mail(
            [b"Subject: x", b'Content-Type: multipart/mixed; boundary="b"; x="' + b";" * MIB],
            b"--b\r\n" + file_part("信息.zip", good_zip()) + b"\r\n--b--\r\n",
        ),
        "receipt",
        via_maildir=False,
    ),
    Case(
        "RFC 2231 name*= and name*0= together",
        lambda: multipart(
            [
                text_part(),
                (
                    b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
                    b"Content-Disposition: attachment; filename*=utf-8''%E4%BF%A1.zip; filename*0=x.zip\r\n\r\n"
                    + b64(good_zip())
                ),
            ]
        ),
        "receipt",
    ),
    # headers
    Case(
        "headers in unknown charsets",
        lambda: multipart(
            [
                text_part(),
                file_part("x", good_zip(), "application/zip").replace(
                    word("x").encode(),
                    "=?x-klingon?B?{}?=".format(base64.b64encode("信息.zip".encode()).decode()).encode(),
                ),
            ],
            headers=[
                b'Content-Type: multipart/mixed; boundary="bad-input-boundary"',
                b"Subject: =?x-klingon?Q?=E5=85=B3=E4=BA=8E?= =?bogus*zh?B?5oql6YCB?=",
            ],
        ),
        "receipt",
    ),
    Case(
        "charset label with a NUL",
        lambda: raw_mail([b"Subject: x", b"Content-Type: text/plain; charset=utf\x008"], "稿件见附件".encode()),
        "rejection",
        ("no_attachment",),
    ),
    Case(
        "Date with an absurd zone",
        lambda: mail([("信息.zip", good_zip())], headers=[]).replace(
            b"Date: ", b"Date: Mon, 1 Jan 2024 00:00:00 +99999999999999999999\r\nX-Old-Date: ", 1
        ),
        "receipt",
    ),
    Case(
        "CR/LF and Bcc in the subject",
        lambda: mail([], word("关于\r\nBcc: victim@evil.example\r\nX-Injected: yes"), body="稿件见附件"),
        "rejection",
        ("no_attachment",),
    ),
    Case(
        "CR/LF and Bcc in a file name",
        lambda: multipart(
            [text_part(), file_part("稿件.docx\r\nBcc: victim@evil.example\r\nX-Injected: yes", b"not a docx")]
        ),
        "rejection",
        ("no_manuscript",),
    ),
    Case("10,000-character subject", subject_10000, "receipt"),
    Case(
        "subject '【' and 10,000 spaces",
        lambda: mail([("信息.zip", good_zip())], "【" + " " * 10_000, style="outlook"),
        "receipt",
    ),
    Case(
        "200 KB subject of '=?utf-8?q?a'",
        lambda: raw_mail([b"Subject: " + b"=?utf-8?q?a" * 20_000], "稿件见附件".encode()),
        "rejection",
        ("no_attachment",),
    ),
    # not mail at all
    Case(
        "not MIME at all (RFC 822 text)",
        lambda: raw_mail([b"Subject: hello"], b"plain text, no MIME"),
        "rejection",
        ("no_attachment",),
    ),
    Case("binary garbage", lambda: os.urandom(64 * 1024), "ignored", ("no_sender",)),
    Case("empty message", lambda: b"", "ignored", ("no_sender",)),
    Case(
        "headers only, no body",
        lambda: f"From: <{LIAISON}>\r\nSubject: hi\r\n".encode(),
        "rejection",
        ("no_attachment",),
    ),
    # senders
    Case(
        "From missing",
        lambda: mail([("信息.zip", good_zip())]).replace(b"From: <", b"X-Was-From: <", 1),
        "ignored",
        ("no_sender",),
    ),
    Case(
        "From malformed",
        lambda: mail([("信息.zip", good_zip())]).replace(
            f"From: <{LIAISON}>".encode(), b"From: <<@@>> not an address", 1
        ),
        "ignored",
        ("no_sender",),
    ),
    Case("From of 5,000 '('", lambda: raw_mail([b"Subject: x"], b"hi", sender=b"(" * 5000), "ignored", ("no_sender",)),
    Case(
        "From whose encoded name is a liaison's address",
        lambda: mail([("信息.zip", good_zip())]).replace(
            f"From: <{LIAISON}>".encode(), f"From: {word(LIAISON)} <attacker@evil.example>".encode(), 1
        ),
        "held",
        ("unknown_sender",),
    ),
    Case(
        "stranger whose address is an encoded word",
        lambda: raw_mail([b"Subject: x"], b"hi", sender=b"=?utf-8?q?=FF?=@evil.example"),
        "held",
        ("unknown_sender",),
    ),
    Case(
        "garbage from a stranger",
        lambda: raw_mail([b"Subject: x"], os.urandom(4096), sender=STRANGER.encode()),
        "held",
        ("unknown_sender",),
    ),
)

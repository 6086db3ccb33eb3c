"""The benchmark's mailbox: a realistic, deterministic mix of submissions, cached on disk.

Message i is a pure function of (i, GEN_VERSION, the registered senders), so a quick run (the first
100) and a full run (the first 1,000) share the cache under bench/.cache/, and reruns only read files.

The mix (per 1,000): ~75% a GBK-named zip with one .docx and 3 photos of 1-2 MB (3000x2000 JPEG
with camera-like noise), 5% 7z, 5% a .docx and photos attached loose, 10% rejections of ten kinds,
2% re-sends (duplicates), 1% unknown senders (held), 1% auto-replies (ignored) and 4 messages of
20-30 MB (10-14 photos). The sample generators of mailbot.samples build every part; only their
base64 line wrapping is swapped for an equivalent that is 100x faster (see _fast_b64).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter

import mailbot.samples.mail as sample_mail
from mailbot.samples.archives import build_7z, build_zip
from mailbot.samples.corpus import RESEARCH_SECTIONS, STORIES
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo

GEN_VERSION = 1
POOL_SIZE = 24
BIG = frozenset({37, 290, 540, 790})  # 20-30 MB messages; a quick run of 100 still has one
DRAFTERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周涛", "吴霞", "徐明", "孙丽"]
REVIEWERS = [("李建国", "王志刚"), ("孙八", "李九"), ("马东", "高峰"), ("郭颖", "何平")]
REJECTIONS = [
    "missing_second_reviewer",
    "placeholder_left",
    "missing_photos",
    "legacy_document",
    "archive_corrupt",
    "no_attachment",
    "research_too_short",
    "photo_too_small",
    "multiple_manuscripts",
    "photo_broken",
]


def _fast_b64(data: bytes) -> str:
    """Byte-for-byte what samples.mail._b64 writes (76-column lines, CRLF), without textwrap:
    textwrap.wrap takes ~6 s for a 4.5 MB attachment, this takes ~10 ms."""
    return base64.encodebytes(data).decode("ascii").rstrip("\n").replace("\n", "\r\n")


def _install_fast_b64() -> None:
    probe = os.urandom(5000)
    if sample_mail._b64(probe) != _fast_b64(probe):  # noqa: SLF001 - must stay identical
        raise RuntimeError("mailbot.samples.mail._b64 changed: update bench/corpus.py:_fast_b64")
    sample_mail._b64 = _fast_b64  # noqa: SLF001


def kind_of(i: int) -> str:
    if i in BIG:
        return "big"
    if i % 100 == 55:
        return "held"
    if i % 100 == 77:
        return "ignored"
    if i % 50 == 21:
        return "duplicate"
    if i % 10 == 3:
        return "reject:" + REJECTIONS[(i // 10) % len(REJECTIONS)]
    if i % 20 == 9:
        return "7z"
    if i % 20 == 14:
        return "docx+photos"
    return "zip"


def expected_verdict(kind: str) -> str:
    if kind.startswith("reject:"):
        return "rejection"
    return {"held": "held", "ignored": "ignored", "duplicate": "duplicate"}.get(kind, "receipt")


# -- photos -------------------------------------------------------------------------------------


def _photo(k: int) -> bytes:
    """A 6-megapixel JPEG of 1-2 MB: shapes from make_photo plus sensor-like noise and lens blur."""
    rng = random.Random(1000 + k)
    w, h = (3000, 2000) if k % 4 else (2000, 3000)
    base = Image.open(io.BytesIO(make_photo(w, h, seed=1000 + k))).convert("RGB")
    noise = Image.effect_noise((w, h), rng.uniform(7, 18)).convert("RGB")
    img = ImageChops.add(base, noise, 1.0, -128).filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


def unique_photo(data: bytes, tag: str) -> bytes:
    """The same picture with a JPEG comment: different bytes and hash, the same decoding cost."""
    comment = f"mailbot-bench {tag}".encode()
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


# -- messages -----------------------------------------------------------------------------------

_POOL: list[bytes] = []
_SENDERS: list[tuple[str, str]] = []  # (unit name, liaison email)


def _init_worker(pool_dir: str, senders: list[tuple[str, str]]) -> None:
    _install_fast_b64()
    _POOL[:] = [Path(pool_dir, f"p{k:02d}.jpg").read_bytes() for k in range(POOL_SIZE)]
    _SENDERS[:] = senders


def _story(i: int, rng: random.Random) -> tuple[str, list[str]]:
    title, body = list(STORIES.values())[i % len(STORIES)]
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    extra = (
        f"据统计，{month}月{day}日以来，共检查生产经营单位{rng.randint(12, 380)}家次，"
        f"发现并督促整改各类隐患{rng.randint(5, 240)}处，约谈企业负责人{rng.randint(1, 30)}人（编号{i:05d}）。"
    )
    return title, [*body, extra]


def _footer(unit: str, rng: random.Random) -> list[str]:
    first, second = rng.choice(REVIEWERS)
    return [f"撰稿人：{unit}{rng.choice(DRAFTERS)}", f"初审人：{first}    复审人：{second}"]


def _photos(i: int, rng: random.Random, count: int) -> list[tuple[str, bytes]]:
    return [(f"现场照片{n + 1}.jpg", unique_photo(rng.choice(_POOL), f"{i}-{n}")) for n in range(count)]


def build_message(i: int) -> bytes:
    kind = kind_of(i)
    rng = random.Random(i * 7919 + GEN_VERSION)
    unit, sender = _SENDERS[i % len(_SENDERS)]
    style = ("foxmail", "foxmail", "foxmail", "outlook", "webmail")[i % 5]
    if kind == "duplicate":  # the same manuscript as message i-10, re-sent with new photos
        rng = random.Random((i - 10) * 7919 + GEN_VERSION)
        unit, sender = _SENDERS[(i - 10) % len(_SENDERS)]
    title, body = _story(i if kind != "duplicate" else i - 10, rng)
    footer = _footer(unit, rng)
    docx = build_docx(title, body, footer)
    subject = f"报送信息：{title}"
    if kind == "duplicate":
        zipped = build_zip([(f"{title}.docx", docx), *_photos(i, rng, 3)])
        return build_mail(sender, f"重发：{title}", [("信息报送（重发）.zip", zipped)], style=style)
    if kind == "held":
        zipped = build_zip([(f"{title}.docx", docx), *_photos(i, rng, 3)])
        return build_mail(f"someone{i}@example.org", subject, [("信息.zip", zipped)], style=style)
    if kind == "ignored":
        return build_mail(
            sender,
            "自动回复: 本周信息",
            [],
            body="您好，我正在休假，回来后回复。",
            headers=[("Auto-Submitted", "auto-replied")],
            style=style,
        )
    if kind == "big":
        zipped = build_zip([(f"{title}.docx", docx), *_photos(i, rng, rng.randint(10, 14))])
        return build_mail(sender, subject, [("信息报送（高清原图）.zip", zipped)], style=style)
    if kind == "7z":
        return build_mail(
            sender, subject, [("信息报送.7z", build_7z([(f"{title}.docx", docx), *_photos(i, rng, 3)]))], style=style
        )
    if kind == "docx+photos":
        return build_mail(sender, subject, [(f"{title}.docx", docx), *_photos(i, rng, 3)], style=style)
    if kind.startswith("reject:"):
        return _rejection(kind.split(":", 1)[1], i, rng, sender, unit, title, body, footer, style)
    return build_mail(
        sender, subject, [("信息报送.zip", build_zip([(f"{title}.docx", docx), *_photos(i, rng, 3)]))], style=style
    )


def _rejection(
    code: str,
    i: int,
    rng: random.Random,
    sender: str,
    unit: str,
    title: str,
    body: list[str],
    footer: list[str],
    style: str,
) -> bytes:
    photos = _photos(i, rng, 3)
    members: list[tuple[str, bytes]]
    if code == "missing_second_reviewer":
        members = [(f"{title}.docx", build_docx(title, body, [footer[0], "初审人：李四"])), *photos]
    elif code == "placeholder_left":
        members = [
            (
                "示例.docx",
                build_docx(
                    "市应急局参加XXX企业突发事故应急处置演练",
                    body,
                    ["撰稿人:XX单位(科室)XXX", "初审人:XXX    复审人:XXX"],
                ),
            ),
            *photos,
        ]
    elif code == "missing_photos":
        members = [(f"{title}.docx", build_docx(title, body, footer))]
    elif code == "legacy_document":
        members = [(f"{title}.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(60_000)), *photos]
    elif code == "archive_corrupt":
        zipped = build_zip([(f"{title}.docx", build_docx(title, body, footer)), *photos])
        return build_mail(sender, title, [("信息报送.zip", zipped[: len(zipped) // 2])], style=style)
    elif code == "no_attachment":
        return build_mail(sender, f"本周信息：{title}", [], body="稿件见附件。", style=style)
    elif code == "research_too_short":
        short = build_docx(f"关于{title[:8]}工作的调研", body, footer)
        return build_mail(
            sender, f"【调研】关于{title[:8]}工作的调研", [("调研.zip", build_zip([("调研.docx", short)]))], style=style
        )
    elif code == "photo_too_small":
        members = [(f"{title}.docx", build_docx(title, body, footer)), ("小图.jpg", make_photo(160, 120, seed=i))]
    elif code == "multiple_manuscripts":
        research = build_docx("调研材料", RESEARCH_SECTIONS[:2], footer)
        members = [(f"{title}.docx", build_docx(title, body, footer)), ("另一篇.docx", research), *photos]
    elif code == "photo_broken":
        members = [
            (f"{title}.docx", build_docx(title, body, footer)),
            *photos[:2],
            ("损坏照片.jpg", photos[2][1][: len(photos[2][1]) // 3]),
        ]
    else:
        raise ValueError(code)
    return build_mail(sender, title, [("信息报送.zip", build_zip(members))], style=style)


def build_big30(target: int = 30_000_000) -> bytes:
    """One message of just under 30 MB: a docx and as many photos as fit."""
    _, sender = _SENDERS[0]
    rng = random.Random(30)
    title, body = _story(99_999, rng)
    members = [(f"{title}.docx", build_docx(title, body, _footer(_SENDERS[0][0], rng)))]
    while True:
        nxt = members + _photos(99_999 + len(members), rng, 1)
        nxt[-1] = (f"现场照片{len(members)}.jpg", nxt[-1][1])
        raw = build_mail(sender, f"报送信息：{title}（高清原图）", [("信息报送.zip", build_zip(nxt))])
        if len(raw) > target:
            break
        members, best = nxt, raw
    return best


# -- cache --------------------------------------------------------------------------------------


def _gen_one(args: tuple[int, str]) -> tuple[int, int]:
    i, path = args
    raw = build_message(i)
    tmp = f"{path}.{os.getpid()}.tmp"
    Path(tmp).write_bytes(raw)
    os.replace(tmp, path)
    return i, len(raw)


class Corpus:
    def __init__(self, cache: Path, senders: list[tuple[str, str]]) -> None:
        key = hashlib.sha256(json.dumps([GEN_VERSION, senders]).encode()).hexdigest()[:10]
        self.dir = cache / f"v{GEN_VERSION}-{key}"
        self.pool_dir = cache / "photos"
        self.senders = senders

    def path(self, i: int) -> Path:
        return self.dir / f"msg-{i:05d}.eml"

    @property
    def big30_path(self) -> Path:
        return self.dir / "big30.eml"

    def ensure(self, n: int, say: Callable[[str], None], workers: int = 2) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pool_dir.mkdir(parents=True, exist_ok=True)
        missing_photos = [k for k in range(POOL_SIZE) if not (self.pool_dir / f"p{k:02d}.jpg").exists()]
        ctx = get_context("fork")
        if missing_photos:
            say(f"generating {len(missing_photos)} camera-like 6 MP photos for the pool (once)")
            with ctx.Pool(workers) as pool:
                for k, data in zip(missing_photos, pool.map(_photo, missing_photos), strict=True):
                    (self.pool_dir / f"p{k:02d}.jpg").write_bytes(data)
        todo = [(i, str(self.path(i))) for i in range(n) if not self.path(i).exists()]
        if not self.big30_path.exists():
            _init_worker(str(self.pool_dir), self.senders)
            self.big30_path.write_bytes(build_big30())
        if not todo:
            say(f"corpus: {n} messages cached in {self.dir.relative_to(self.dir.parents[2])}")
            return
        say(f"generating {len(todo)} of {n} messages into {self.dir} ({workers} processes)")
        started, last, done, size = time.monotonic(), 0.0, 0, 0
        with ctx.Pool(workers, initializer=_init_worker, initargs=(str(self.pool_dir), self.senders)) as pool:
            for _i, length in pool.imap_unordered(_gen_one, todo, chunksize=2):
                done, size = done + 1, size + length
                now = time.monotonic()
                if now - last > 5 or done == len(todo):
                    last = now
                    say(f"  generated {done}/{len(todo)} messages, {size / 1e6:.0f} MB, {now - started:.0f} s")

#!/usr/bin/env python3
"""Per-stage cost of one typical submission, today and with the changes bench/README.md proposes.

    .venv/bin/python bench/hotspots.py [--message N]   (needs the cache that bench/run.py builds)

Best of 7 repetitions per stage, in this process, no servers: robust against a busy machine where
the end-to-end figures of bench/run.py wander. The "proposed" functions are prototypes that show
the gain is real; they are not product code.
"""

from __future__ import annotations

import argparse
import binascii
import email
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from PIL import Image  # noqa: E402

from mailbot.adapters.storage import Storage  # noqa: E402
from mailbot.domain.archive import Limits, read_archive  # noqa: E402
from mailbot.domain.manuscript import read_docx  # noqa: E402
from mailbot.domain.mime import parse_message  # noqa: E402
from mailbot.domain.photos import inspect_photo  # noqa: E402
from mailbot.domain.submission import unpack  # noqa: E402


def best(fn: Callable[[], Any], reps: int = 7) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


# -- prototypes ---------------------------------------------------------------------------------


def split_base64_bodies(raw: bytes, minimum: int = 64 * 1024) -> tuple[bytes, dict[bytes, bytes]]:
    """Cut every large base64 body out of the raw message (bytes.find on the part's blank line
    and the next boundary line) and decode it with binascii; the email package then parses only
    headers and small parts. A parse_message fast path would substitute the decoded bytes for the
    placeholder payloads, and fall back to today's code for anything it does not recognise."""
    out, bodies, pos, n = [], {}, 0, 0
    lower = raw.lower()
    while True:
        cte = lower.find(b"content-transfer-encoding: base64", pos)
        if cte < 0:
            break
        start = raw.find(b"\r\n\r\n", cte)
        if start < 0:
            break
        start += 4
        end = raw.find(b"\r\n--", start)
        end = len(raw) if end < 0 else end
        if end - start < minimum:
            out.append(raw[pos:end])
            pos = end
            continue
        token = b"QkVOQ0g%d" % n
        bodies[token] = binascii.a2b_base64(raw[start:end])
        out.append(raw[pos:start] + token)
        pos, n = end, n + 1
    out.append(raw[pos:])
    return b"".join(out), bodies


def parse_fast(raw: bytes) -> list[bytes]:
    small, bodies = split_base64_bodies(raw)
    msg = email.message_from_bytes(small)
    payloads = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        body = part.get_payload()
        key = body.strip().encode() if isinstance(body, str) else b""
        payloads.append(bodies[key] if key in bodies else part.get_payload(decode=True) or b"")
    return payloads


def inspect_photo_draft(data: bytes) -> tuple[int, int]:
    """Same checks, but JPEG decoded at 1/8 scale (libjpeg DCT scaling): every byte of the entropy
    -coded data is still read, so truncation still raises; the pixels are 64x fewer."""
    with Image.open(io.BytesIO(data)) as img:
        size = img.size
        img.verify()
    with Image.open(io.BytesIO(data)) as img:
        if img.format == "JPEG":
            img.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
        img.load()
    return size


def inspect_photo_header(data: bytes) -> tuple[int, int]:
    """Header and structure only: Pillow reads the size from SOF; a JPEG that was cut short lacks
    its EOI marker (FF D9) at the end. No pixel is decoded."""
    with Image.open(io.BytesIO(data)) as img:
        size = img.size
        if img.format == "JPEG" and not data.rstrip(b"\0\r\n").endswith(b"\xff\xd9"):
            raise OSError("image file is truncated")
    return size


class NoSyncStorage(Storage):
    """Storage.put without the two fsyncs per file (to price them; durability needs one sync)."""

    def put(self, data: bytes, area: str, suffix: str = "") -> tuple[str, str]:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        rel = f"{area}/{digest[:2]}/{digest}{suffix}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return digest, rel


def main() -> int:
    from corpus import Corpus
    from run import CACHE, senders_from_config

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--message", type=int, default=0, help="corpus index (default 0: zip, docx + 3 photos)")
    args = ap.parse_args()
    path = Corpus(CACHE, senders_from_config()).path(args.message)
    if not path.exists():
        print(f"{path} missing: run bench/run.py --quick once to build the cache")
        return 1
    raw = path.read_bytes()
    mail = parse_message(raw)
    att = max(mail.attachments, key=lambda a: len(a.data))
    members = read_archive(att.data, att.name, Limits())
    photos = [m.data for m in members if m.path.lower().endswith(".jpg")]
    docx = next(m.data for m in members if m.path.endswith(".docx"))

    # the prototype must find exactly the bytes the email package finds
    assert sorted(parse_fast(raw), key=len)[-1] == att.data
    truncated = photos[0][: len(photos[0]) // 2]
    assert inspect_photo("t.jpg", truncated).problem == "photo_broken"
    for probe in (inspect_photo_draft, inspect_photo_header):
        try:
            probe(truncated)
        except OSError:
            continue
        raise AssertionError(f"{probe.__name__} missed a truncated JPEG")

    rows: list[tuple[str, float, str, float | None]] = []
    rows.append(
        (
            "parse_message (email + lifted base64, pybase64)",
            best(lambda: parse_message(raw)),
            "the first prototype: binascii",
            best(lambda: parse_fast(raw)),
        )
    )
    rows.append(
        (
            f"inspect_photo x{len(photos)} (marker walk + probe)",
            best(lambda: [inspect_photo("p.jpg", p) for p in photos]),
            "decoded at 1/8 scale (until 2a1d80a)",
            best(lambda: [inspect_photo_draft(p) for p in photos]),
        )
    )
    rows.append(("", 0.0, "JPEG header + EOI marker only", best(lambda: [inspect_photo_header(p) for p in photos])))
    rows.append(("read_archive (zip)", best(lambda: read_archive(att.data, att.name, Limits())), "", None))
    rows.append(("read_docx", best(lambda: read_docx(docx)), "", None))
    rows.append(("unpack (archive + docx + photos)", best(lambda: unpack(mail.attachments, Limits()), 3), "", None))
    files = [raw, att.data, docx, *photos]
    with tempfile.TemporaryDirectory(dir=BENCH) as tmp:
        counter = iter(range(10**6))

        def store(cls: type[Storage]) -> None:
            s = cls(Path(tmp) / str(next(counter)))
            for f in files:
                s.put(f, "x")

        rows.append(
            (
                f"Storage.put x{len(files)} ({sum(map(len, files)) / 1e6:.1f} MB, fsync)",
                best(lambda: store(Storage), 5),
                "without the per-file fsyncs",
                best(lambda: store(NoSyncStorage), 5),
            )
        )
        only_raw = [raw, docx, *photos]
        rows.append(
            (
                "  of which the archive, stored again",
                best(lambda: Storage(Path(tmp) / str(next(counter))).put(att.data, "x"), 5),
                "skip: it is inside the raw .eml",
                0.0,
            )
        )
        del only_raw
    print(
        f"message {args.message}: {len(raw) / 1e6:.1f} MB, attachment {att.name} {len(att.data) / 1e6:.1f} MB, "
        f"{len(photos)} photos\n"
    )
    print(f"{'stage':44} {'today':>8}   {'proposed':34} {'then':>8}")
    for stage, now, proposal, then in rows:
        before = f"{1000 * now:7.1f}ms" if stage else ""
        after = "" if then is None else f"{1000 * then:7.1f}ms"
        print(f"{stage:44} {before:>9}  {proposal:34} {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Whatever a stranger sends, mailbot gives a clear verdict in bounded time and writes nowhere else.

Each case of tests/reliability/corpus.py goes the whole way: into a Maildir inbox, through
`poll_once` (parse, unpack, check, record, queue the reply, file the message), and out through a
DirectoryTransport as an .eml file, which is parsed back and checked: one reply, to the right
person, with the Chinese reason for every code, and no header an attacker put there.

The second half pins the domain fixes this corpus led to, at unit level, with time bounds.
"""

from __future__ import annotations

import base64
import email
import email.policy
import io
import mailbox
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from mailbot.adapters.db import Message, Outbox
from mailbot.bootstrap import App
from mailbot.domain.archive import Limits
from mailbot.domain.charsets import decode_header_value
from mailbot.domain.checks import Rules, reason
from mailbot.domain.footer import parse_footer
from mailbot.domain.manuscript import ManuscriptError, read_docx
from mailbot.domain.mime import Attachment, parse_message
from mailbot.domain.photos import DecodeBudget, inspect_photo
from mailbot.domain.submission import item_kind, unpack
from mailbot.domain.triage import Outcome
from mailbot.passes import poll_once
from mailbot.ports import MailRef
from mailbot.samples.photos import make_photo
from tests.helpers import ingest
from tests.reliability.corpus import (
    CASES,
    LIAISON,
    OFFICE,
    Case,
    deadline,
    good_docx,
    make_app,
    paragraph_flood_docx,
    word,
)

# One case, end to end, on a laptop takes < 2 s (the 30 MB message) and usually ~50 ms.
CASE_SECONDS = 10
INJECTED = ("bcc", "cc", "x-injected")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory and a temp directory that must still be empty after the case."""
    (tmp_path / "cwd").mkdir()
    (tmp_path / "tmp").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path


def run(app: App, raw: bytes, *, via_maildir: bool) -> Outcome:
    """The whole path for one message; returns its outcome."""
    if not via_maildir:
        outcome = ingest(app.desk, MailRef("bad-input", "INBOX", 1, "1"), raw)
        app.desk.drain_outbox(app.transport)
        return outcome
    app.source.open()
    app.source._inbox().add(raw)  # type: ignore[attr-defined]  # noqa: SLF001 - seeding our own inbox
    app.source.close()
    report = poll_once(app.source, app.desk, app.transport)
    ((_uid, outcome),) = report.outcomes
    return outcome


def replies(root: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for p in sorted((root / "outbox").glob("*.eml"))
    ]


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def assert_clean_headers(msg: EmailMessage, to: str) -> None:
    """Nothing the sender wrote became a header: one To, ours; no Bcc, Cc or invented header."""
    assert [str(a.addr_spec) for a in msg["To"].addresses] == [to]
    assert len(msg.get_all("To")) == 1 and len(msg.get_all("Subject")) == 1
    for name in INJECTED:
        assert msg.get_all(name) is None, f"{name} header in the reply"
    assert len(msg["Subject"]) <= 210  # compose() bounds subjects; a 10,000-char one must not pass
    for name, value in msg.items():
        assert "\r" not in value and "\n" not in value, name


def assert_nothing_outside(root: Path) -> None:
    """Only the inbox, the outbox, the storage dir and the database were written."""
    assert list((root / "cwd").iterdir()) == []
    assert list((root / "tmp").iterdir()) == []
    allowed = {"inbox", "outbox", "storage", "cwd", "tmp"}
    for path in root.iterdir():
        assert path.name in allowed or path.name.startswith("mailbot.db"), path


def _params(cases: tuple[Case, ...]) -> list:  # type: ignore[type-arg]
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.known_bug)] if c.known_bug else [])
        for c in cases
    ]


@pytest.mark.parametrize("case", _params(CASES))
def test_bad_input_gets_a_clear_verdict(case: Case, sandbox: Path) -> None:
    raw = case.build()
    app = make_app(sandbox, **case.limits)
    started = time.monotonic()
    with deadline(CASE_SECONDS):
        outcome = run(app, raw, via_maildir=case.via_maildir)
    elapsed = time.monotonic() - started

    assert (outcome.verdict, outcome.reasons) == (case.verdict, case.codes), f"{elapsed:.1f}s"
    with Session(app.engine) as s:
        row = s.exec(select(Message)).one()
        queued = s.exec(select(Outbox)).all()
    assert (row.verdict, tuple(row.reasons.split())) == (case.verdict, case.codes)
    assert row.state == ("filed" if case.via_maildir else "recorded")
    kept = app.desk.storage.get(row.raw_path)
    if row.size > len(kept):  # refused by its size: only the header was read; the mail stays in the mailbox
        assert raw.startswith(kept) and kept.endswith((b"\r\n\r\n", b"\n\n")) and row.size == len(raw)
        assert any(p.stat().st_size == len(raw) for p in (sandbox / "inbox").rglob("*") if p.is_file())
    else:
        assert kept == raw  # the raw message is kept, byte for byte
    assert all(q.state == "sent" for q in queued)

    sent = replies(sandbox)
    if case.verdict == "ignored":
        assert sent == []
    elif case.verdict == "held":
        (notice,) = sent
        assert_clean_headers(notice, OFFICE)
        assert LIAISON not in notice["To"]
    else:
        (reply,) = sent
        assert_clean_headers(reply, LIAISON)
        text = text_of(reply)
        if case.verdict == "rejection":
            assert "未能收录" in text
            for code in case.codes:
                assert reason(code, "", Rules()).hint in text, code
        else:
            assert outcome.item_number and outcome.item_number in text
        for words in case.says:
            assert words in text, words
        assert "root:" not in text  # the XXE case: /etc/passwd never reaches a reply

    if case.via_maildir:
        inbox = mailbox.Maildir(sandbox / "inbox", factory=None, create=False)
        assert inbox.keys() == []
        assert len(inbox.get_folder(app.desk.folder_for(case.verdict))) == 1
    assert_nothing_outside(sandbox)


def test_the_corpus_is_large_enough_and_named_uniquely() -> None:
    names = [c.name for c in CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)
    assert {c.verdict for c in CASES} == {"receipt", "rejection", "held", "ignored"}


@pytest.mark.parametrize("case", [c for c in CASES if not c.via_maildir], ids=lambda c: c.name)
def test_maildir_files_every_message_it_can_hold(case: Case, sandbox: Path) -> None:
    app = make_app(sandbox, **case.limits)
    with deadline(3):
        outcome = run(app, case.build(), via_maildir=True)
    assert outcome.verdict == case.verdict


# --- the domain fixes, pinned at unit level ---------------------------------------------------------


DEEP = [b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(3000)]


def fast(seconds: float = 2.0) -> deadline:  # type: ignore[valid-type]
    return deadline(seconds)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            b"From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Disposition: "
            b"attachment; filename*=utf-8''a; filename*0=b\r\n\r\ndata\r\n--x--\r\n",
            id="rfc2231 mixed",
        ),
        pytest.param(
            b"From: a@b.cn\r\nContent-Type: multipart/mixed; boundary*=x; boundary*0=y\r\n\r\n--x--\r\n",
            id="rfc2231 boundary",
        ),
        pytest.param(
            b"From: a@b.cn\r\nContent-Type: text/plain; name*" + b"9" * 5000 + b"=x\r\n\r\nhi",
            id="5000-digit continuation",
        ),
        pytest.param(b"From: a@b.cn\r\nContent-Type: text/plain; charset=utf\x008\r\n\r\nhi", id="NUL charset"),
        pytest.param(b"From: a@b.cn\r\nDate: 1 Jan 2024 00:00:00 +99999999999999999999\r\n\r\nhi", id="date"),
        pytest.param(b"From: " + b"(" * 5000 + b"\r\n\r\nhi", id="from (((("),
        pytest.param(b"From: " + b"a:" * 5000 + b"\r\n\r\nhi", id="from a:a:"),
        pytest.param(b"From: a@b.cn\r\n" + b"".join(DEEP), id="3000-deep multipart"),
    ],
)
def test_parse_message_never_raises(raw: bytes) -> None:
    with fast():
        mail = parse_message(raw)
    assert isinstance(mail.subject, str)


def test_too_deep_a_message_is_read_for_its_headers() -> None:
    raw = b"From: a@b.cn\r\nSubject: deep\r\n" + b"".join(DEEP)
    mail = parse_message(raw)
    assert (mail.sender, mail.subject, mail.attachments) == ("a@b.cn", "deep", ())
    assert "RecursionError" in mail.unreadable
    assert parse_message(b"From: a@b.cn\r\n\r\nhi").unreadable == ""


def test_an_encoded_display_name_cannot_pose_as_the_sender() -> None:
    raw = f"From: {word('Boss <' + LIAISON + '>')} <attacker@evil.example>\r\n\r\nhi".encode()
    mail = parse_message(raw)
    assert mail.sender == "attacker@evil.example"
    assert mail.sender_name == f"Boss <{LIAISON}>"
    gbk = parse_message("From: 张镕 <Zhang@163.com>\r\n\r\nhi".encode("gbk"))
    assert (gbk.sender_name, gbk.sender) == ("张镕", "zhang@163.com")


@pytest.mark.parametrize(
    "label, build",
    [
        ("200 KB of '=?utf-8?q?a'", lambda: decode_header_value("=?utf-8?q?a" * 20_000)),
        (
            "1 MB Content-Type of ';' in a quote",
            lambda: parse_message(b'From: a@b.cn\r\nContent-Type: text/plain; a="' + b";" * 1_000_000 + b"\r\n\r\nhi"),
        ),
        (
            "1 MB multipart boundary header",
            lambda: parse_message(
                b'From: a@b.cn\r\nContent-Type: multipart/mixed; b="' + b";" * 1_000_000 + b"\r\n\r\n"
            ),
        ),
        (
            "200,000 '<script>'",
            lambda: parse_message(b"From: a@b.cn\r\nContent-Type: text/html\r\n\r\n" + b"<script>" * 200_000),
        ),
        ("1 MB of '<'", lambda: parse_message(b"From: a@b.cn\r\nContent-Type: text/html\r\n\r\n" + b"<" * 1_000_000)),
        (
            "100,000 'begin 644' lines and one 'end'",
            lambda: parse_message(b"From: a@b.cn\r\n\r\n" + b"begin 644 a.zip\r\n!!\r\n" * 100_000 + b"end\r\n"),
        ),
        ("footer with 200,000 spaces", lambda: parse_footer(["撰稿人：张三" + " " * 200_000 + "x"])),
        ("footer with 200,000 spaced-out characters", lambda: parse_footer(["撰稿人：" + "张 " * 200_000])),
        ("footer value with a long run before a field", lambda: parse_footer(["初审人：李四" + "\t " * 100_000 + "x"])),
        ("subject '【' and 100,000 spaces", lambda: item_kind("【" + " " * 100_000, "")),
    ],
)
def test_linear_time_on_hostile_text(label: str, build: object) -> None:
    with fast():
        build()  # type: ignore[operator]


def test_words_decode_as_before() -> None:
    assert decode_header_value("=?utf-8?B?5YWz?= =?utf-8?B?5LqO?=") == "关于"  # space between words dropped
    head, tail = (base64.b64encode(b).decode() for b in ("关于".encode()[:1], "关于".encode()[1:]))
    assert decode_header_value(f"=?utf-8?B?{head}?=\r\n =?UTF-8?B?{tail}?=") == "关于"  # a character split
    assert decode_header_value("Re: =?gb2312?Q?=B9=D8=D3=DA?= 报道") == "Re: 关于 报道"
    assert decode_header_value("=?utf-8*zh?Q?=E5=85=B3_x?=") == "关 x"
    assert decode_header_value("=?utf-8?q?a?b?=") == "=?utf-8?q?a?b?="
    # Stray characters and bad padding are skipped, as the email package does: a word left as
    # written would be decoded again, to surrogates, when a reply's Subject is set from it.
    assert decode_header_value("=?utf-8?B?5YW z5Lq`O?=") == decode_header_value("=?utf-8?B?5YWz5LqO5?=") == "关于"


def test_html_text_keeps_what_a_reader_sees() -> None:
    raw = (
        b"From: a@b.cn\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + "<p>稿件<script>alert(1)</script>见<STYLE x>p{}</style >附件<b>，</b>谢谢".encode()
    )
    assert parse_message(raw).text == "稿件 见 附件 ， 谢谢"


def test_item_kind_reads_tags_with_spaces() -> None:
    assert item_kind("【 调研 】关于", "") == "research"
    assert item_kind("[经验]做法", "") == "experience"
    assert item_kind("【" + " " * 50, "") == "routine"


def test_manuscript_with_too_many_paragraphs_is_refused_quickly() -> None:
    data = paragraph_flood_docx(60_000)
    with fast(5), pytest.raises(ManuscriptError) as caught:
        read_docx(data)
    assert caught.value.code == "manuscript_corrupt"
    assert read_docx(good_docx()).title  # a normal manuscript is untouched


def test_only_a_lone_manuscript_is_opened() -> None:
    flood = paragraph_flood_docx(45_000)
    many = tuple(Attachment(f"稿件{i}.docx", "application/octet-stream", flood) for i in range(20))
    with fast(5):
        sub = unpack(many, Limits())
    assert sub.manuscripts == () and sub.findings == ()
    assert len([f for f in sub.files if f.kind == "manuscript"]) == 20


def test_photo_decoding_has_a_budget_but_truncation_is_still_caught() -> None:
    jpeg = make_photo(1600, 1200, seed=7)
    assert inspect_photo("a.jpg", jpeg[: len(jpeg) * 2 // 3], DecodeBudget(0)).problem == "photo_broken"  # no EOI
    assert inspect_photo("a.jpg", jpeg).problem is None
    out = io.BytesIO()
    Image.new("RGB", (4000, 4000), (1, 2, 3)).save(out, "PNG")
    png = out.getvalue()
    budget = DecodeBudget(20_000_000)
    with fast(5):
        results = [inspect_photo(f"{i}.png", png, budget) for i in range(40)]
    assert all(p.problem is None and p.width == 4000 for p in results)
    assert budget.left == 20_000_000 - 16_000_000  # one decoded in full, the rest verified only
    assert inspect_photo("cut.png", png[: len(png) // 2], DecodeBudget(0)).problem == "photo_broken"

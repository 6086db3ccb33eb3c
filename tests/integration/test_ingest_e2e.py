"""A week of realistic mail through real Dovecot and a real SMTP server, via `mailbot poll --once`."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from mailbot.adapters.db import Item, Message, Outbox, make_engine
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.domain.checks import CATALOGUE
from mailbot.samples.archives import build_zip
from mailbot.samples.corpus import STORIES, Sample, week_of_mail
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import FROM, REPO, reply_text, write_config  # noqa: F401 - also imported from here by older tests
from tests.servers import DovecotServer, SmtpSink


def extra_cases() -> list[Sample]:
    """Cases beyond the demo week: list mail, bulk mail, broken and tiny photos, two manuscripts."""
    title, body = STORIES["fire"]
    docx = build_docx(title, body, ["撰稿人：市消防救援支队（宣传科）冯超", "初审人：李四", "复审人：王五"])
    sender = "xiaofang.zhidui@example.com"
    return [
        Sample("邮件列表", build_mail(sender, "周报", [], headers=[("List-Id", "<news.example.com>")]), "ignored"),
        Sample("群发", build_mail(sender, "通知", [], headers=[("Precedence", "bulk")]), "ignored"),
        Sample(
            "照片损坏",
            build_mail(
                sender, title, [("a.zip", build_zip([("稿件.docx", docx), ("坏照片.jpg", make_photo(seed=3)[:800])]))]
            ),
            "rejection",
            ("photo_broken",),
        ),
        Sample(
            "只有缩略图",
            build_mail(
                sender, title, [("b.zip", build_zip([("稿件.docx", docx), ("小图.jpg", make_photo(160, 120, seed=4))]))]
            ),
            "rejection",
            ("photo_too_small",),
        ),
        Sample(
            "两篇稿件",
            build_mail(
                sender,
                title,
                [("c.zip", build_zip([("稿件一.docx", docx), ("稿件二.docx", docx), ("图.jpg", make_photo(seed=5))]))],
            ),
            "rejection",
            ("multiple_manuscripts",),
        ),
        Sample(
            "嵌套压缩包，GBK 文件名",
            build_mail(
                sender,
                f"{title}（含照片包）",
                [
                    (
                        "外层.zip",
                        build_zip(
                            [
                                (
                                    "稿件/消防宣传.docx",
                                    build_docx(
                                        title + "（续）", body, ["撰稿人：冯超", "初审人：李四", "复审人：王五"]
                                    ),
                                ),
                                ("照片.zip", build_zip([("照片/现场1.jpg", make_photo(seed=6))])),
                            ]
                        ),
                    )
                ],
            ),
            "receipt",
        ),
    ]


def test_week_of_mail_end_to_end(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp_sink)
    config = load_config(config_path)
    samples = week_of_mail(config.units) + extra_cases()
    assert len(samples) >= 20
    for sample in samples:
        dovecot.append(sample.raw)

    assert main(["--config", str(config_path), "poll", "--once"]) == 0

    engine = make_engine(config.database_url())
    with Session(engine) as s:
        rows = {m.message_id: m for m in s.exec(select(Message))}
    answered = [smp for smp in samples if smp.verdict in ("receipt", "rejection", "duplicate")]
    held = [smp for smp in samples if smp.verdict == "held"]
    received = smtp_sink.wait_for(len(answered) + len(held), timeout=10)
    replies = {}
    for r in received:
        msg = email.message_from_bytes(r.data, policy=email.policy.default)
        replies[str(msg["In-Reply-To"] or msg["Subject"])] = (r, msg)

    for sample in samples:
        original = email.message_from_bytes(sample.raw, policy=email.policy.default)
        msgid = str(original["Message-ID"])
        row = rows[msgid]
        assert row.verdict == sample.verdict, sample.label
        assert set(sample.codes) <= set(row.reasons.split()), (sample.label, row.reasons)
        if sample.verdict not in ("receipt", "rejection", "duplicate"):
            assert msgid not in replies, f"{sample.label}: must not be answered"
            continue
        envelope, reply = replies[msgid]
        assert envelope.rcpt_tos == [row.sender], sample.label
        assert msgid in str(reply["References"])
        assert str(reply["Subject"]).startswith("Re: ")
        assert reply["Auto-Submitted"] == "auto-replied"
        text = reply_text(reply)
        if sample.verdict == "receipt":
            assert "已收录" in text and "信息编号" in text
        elif sample.verdict == "duplicate":
            assert "重复报送" in text
        for code in sample.codes:
            assert CATALOGUE[code][1].split("{")[0][:8] in text, (sample.label, code)

    receipts = [m for m in rows.values() if m.verdict == "receipt"]
    assert len(receipts) == sum(1 for smp in samples if smp.verdict == "receipt")
    with Session(engine) as s:
        items = s.exec(select(Item).order_by(Item.seq)).all()
        assert [i.number[-4:] for i in items] == [f"{n:04d}" for n in range(1, len(receipts) + 1)]
        two = next(i for i in items if i.title == STORIES["flood"][0])
        assert two.points == pytest.approx(0.3)

    # Every message left INBOX for the folder its verdict names.
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids("mailbot.rejected")) == sum(1 for smp in samples if smp.verdict == "rejection")
    assert len(dovecot.uids("mailbot.held")) == len(held)

    # A second pass sends nothing and records nothing.
    before = len(smtp_sink.messages)
    assert main(["--config", str(config_path), "poll", "--once"]) == 0
    assert len(smtp_sink.messages) == before
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Message)).one() == len(samples)
        assert s.exec(select(func.count()).select_from(Outbox).where(Outbox.state != "sent")).one() == 0


def test_receipt_reads_back_in_chinese(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receipt carries what the issue asks: number, title, drafters with unit, reviewers, photos, points."""
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp_sink)
    config = load_config(config_path)
    flood = next(s for s in week_of_mail(config.units) if s.label.startswith("7z"))
    dovecot.append(flood.raw)
    assert main(["--config", str(config_path), "poll", "--once"]) == 0
    (received,) = smtp_sink.wait_for(1)
    msg = email.message_from_bytes(received.data, policy=email.policy.default)
    text = reply_text(msg)
    title = STORIES["flood"][0]
    assert title in text
    assert "赵六（兴隆台区应急管理局（防汛办），0.15 分）" in text
    assert "钱七（双台子区应急管理局（办公室），0.15 分）" in text
    assert "初 审 人：孙八" in text and "复 审 人：李九" in text
    assert "照　　片：2 张" in text and "本稿得分：0.3 分" in text
    assert str(msg["Subject"]) == f"Re: {title}"
    html = msg.get_body(preferencelist=("html",))
    assert html is not None and title in html.get_content()
    assert msg["From"].addresses[0].display_name == "盘锦市应急管理局信息报送"

"""What real clients send, through real Dovecot and a real SMTP server via `mailbot poll --once`:
iPhone HEIC photos, Outlook's winmail.dat, a footer typed into Word's page footer, a 【回执】 subject."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.adapters.db import Item, Message, make_engine
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_heic, make_photo
from mailbot.samples.tnef import build_tnef
from tests.helpers import reply_text, write_config
from tests.servers import DovecotServer, SmtpSink

SENDER = "panshan.yjj@example.com"  # 孙悦 of 盘山县应急管理局 in config.toml
TITLE = "盘山县开展防灾减灾宣传周活动"
BODY = [
    "5月12日是全国防灾减灾日。盘山县应急管理局联合县消防救援大队在县城中心广场开展防灾减灾宣传周活动，"
    "现场发放宣传资料2000余份，解答群众咨询300余人次。",
    "活动中，工作人员演示了家用灭火器和应急包的使用方法，并组织群众体验地震避险和火场逃生。",
]
FOOTER = ["撰稿人：盘山县应急管理局（办公室）张三", "初审人：李四", "复审人：王五"]


def submit(
    raw: bytes, dovecot: DovecotServer, smtp: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Message, str, Item | None]:
    """One message through the desk: its ledger row, the plain text of the reply, and the item if any."""
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp)
    dovecot.append(raw)
    assert main(["--config", str(config_path), "poll", "--once"]) == 0
    (received,) = smtp.wait_for(1)
    reply = email.message_from_bytes(received.data, policy=email.policy.default)
    with Session(make_engine(load_config(config_path).database_url())) as s:
        (row,) = s.exec(select(Message)).all()
        item = s.exec(select(Item)).first()
    assert received.rcpt_tos == [SENDER]
    return row, reply_text(reply), item


def test_zip_of_iphone_heic_photos_gets_a_receipt_counting_them(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = [(f"IMG_{n:04d}.HEIC", make_heic(1200, 900, seed=n)) for n in (4101, 4102, 4103)]
    archive = build_zip([("防灾减灾宣传周.docx", build_docx(TITLE, BODY, FOOTER)), *photos])
    raw = build_mail(SENDER, TITLE, [("防灾减灾宣传周.zip", archive)], style="webmail")
    row, text, item = submit(raw, dovecot, smtp_sink, tmp_path, monkeypatch)
    assert row.verdict == "receipt", row.reasons
    assert item is not None and item.photo_count == 3
    assert "照　　片：3 张" in text
    assert "HEIC" not in text and "兼容格式" not in text


def test_outlook_winmail_dat_gets_a_receipt(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [
        ("关于开展防灾减灾宣传周活动的信息.docx", build_docx(TITLE, BODY, FOOTER)),
        ("现场照片1.jpg", make_photo(1600, 1200, seed=4201)),
        ("现场照片2.jpg", make_photo(1600, 1200, seed=4202)),
    ]
    raw = build_mail(SENDER, TITLE, [("winmail.dat", build_tnef(files))], style="outlook")
    row, text, item = submit(raw, dovecot, smtp_sink, tmp_path, monkeypatch)
    assert row.verdict == "receipt", row.reasons
    assert item is not None and item.title == TITLE and item.photo_count == 2
    assert "照　　片：2 张" in text and "初 审 人：李四" in text


def test_unreadable_winmail_dat_gets_the_outlook_rejection(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = build_tnef([("关于开展防灾减灾宣传周活动的信息.docx", build_docx(TITLE, BODY, FOOTER))])
    raw = build_mail(SENDER, TITLE, [("winmail.dat", whole[: len(whole) // 3])], style="outlook")
    row, text, item = submit(raw, dovecot, smtp_sink, tmp_path, monkeypatch)
    assert row.verdict == "rejection" and row.reasons.split() == ["outlook_tnef"]
    assert item is None
    assert "winmail.dat" in text and "设置为 HTML 或纯文本" in text
    assert "没有找到 Word 稿件" not in text


def test_footer_in_word_page_footer_gets_a_receipt_with_the_warning(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docx = build_docx(TITLE, BODY, FOOTER, footer_in="page_footer")
    archive = build_zip([("防灾减灾宣传周.docx", docx), ("现场.jpg", make_photo(1600, 1200, seed=4301))])
    row, text, item = submit(
        build_mail(SENDER, TITLE, [("防灾减灾.zip", archive)]), dovecot, smtp_sink, tmp_path, monkeypatch
    )
    assert row.verdict == "receipt", row.reasons
    assert row.reasons.split() == ["footer_in_page_footer"]
    assert item is not None and (item.first_reviewer, item.second_reviewer) == ("李四", "王五")
    assert "撰稿人、初审人、复审人写在了 Word 的页脚" in text
    assert "应写在正文末尾，本次已从页脚读取" in text
    assert "缺少" not in text


def test_huizhi_subject_is_no_column(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = build_zip([("宣传周.docx", build_docx(TITLE, BODY, FOOTER)), ("现场.jpg", make_photo(seed=4401))])
    raw = build_mail(SENDER, f"Re:【回执】{TITLE}", [("宣传周.zip", archive)])
    row, text, item = submit(raw, dovecot, smtp_sink, tmp_path, monkeypatch)
    assert row.verdict == "receipt", row.reasons
    assert "column_unknown" not in row.reasons.split() and "column_near_miss" not in row.reasons.split()
    assert item is not None and item.column_name in (None, "")
    assert "栏目" not in text and "请注意" not in text
    category = next(line for line in text.splitlines() if "类　　别" in line)
    assert "正文字数" not in category

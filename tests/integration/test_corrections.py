"""A corrected re-send replaces the piece it corrects, through real Dovecot and a real SMTP server:
the same number, a new version, the points counted once; an adopted piece is held for the office."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot import office
from mailbot.adapters.db import Author, Item, ItemVersion, Message, make_engine
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import reply_text, write_config
from tests.servers import DovecotServer, SmtpSink

SENDER = "panshan.yjj@example.com"  # 孙悦 of 盘山县应急管理局 in config.toml
TITLE = "盘山县开展汛期防汛应急演练"
BODY = [
    "6月18日，盘山县防汛抗旱指挥部在绕阳河堤防开展汛期防汛应急演练，县应急管理局、水利局等8个部门参加。",
    "演练模拟强降雨导致河道水位上涨，检验了预警发布、人员转移、抢险救援等环节的协同配合能力。",
]
FOOTER = ["撰稿人：盘山县应急管理局（办公室）张三", "初审人：李四", "复审人：王五"]


def submission(body: list[str], photos: int, **kw: object) -> bytes:
    files = [("防汛演练.docx", build_docx(TITLE, body, FOOTER))]
    files += [(f"现场{n}.jpg", make_photo(1600, 1200, seed=600 + n)) for n in range(photos)]
    return build_mail(SENDER, f"报送信息：{TITLE}", [("防汛演练.zip", build_zip(files))], **kw)  # type: ignore[arg-type]


class Desk:
    def __init__(self, dovecot: DovecotServer, smtp: SmtpSink, tmp_path: Path, mp: pytest.MonkeyPatch) -> None:
        mp.setenv("TEST_IMAP_PASSWORD", dovecot.password)
        self.dovecot, self.smtp = dovecot, smtp
        self.config = write_config(tmp_path, dovecot, smtp)
        self.engine = make_engine(load_config(self.config).database_url())

    def send(self, raw: bytes) -> email.message.EmailMessage:
        """One message through `poll --once`; the newest mail that reached the SMTP sink."""
        before = len(self.smtp.messages)
        self.dovecot.append(raw)
        assert main(["--config", str(self.config), "poll", "--once"]) == 0
        got = self.smtp.wait_for(before + 1)
        return email.message_from_bytes(got[-1].data, policy=email.policy.default)  # type: ignore[return-value]


@pytest.fixture
def desk(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Desk:
    return Desk(dovecot, smtp_sink, tmp_path, monkeypatch)


def test_a_correction_by_reply_keeps_the_number_and_scores_once(desk: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    first = desk.send(submission(BODY, photos=1))
    assert "已收录" in reply_text(first)
    with Session(desk.engine) as s:
        (item,) = s.exec(select(Item)).all()
    number = item.number
    fixed = [BODY[0].replace("8个部门", "9个部门"), BODY[1]]
    second = desk.send(submission(fixed, photos=2, headers=[("In-Reply-To", str(first["Message-ID"]))]))
    text = reply_text(second)
    assert f"信息 {number} 已更新（第2版）" in text and "编号和计分不变" in text
    assert "照片：1 张 → 2 张" in text and "正文：内容有修改" in text
    assert second["In-Reply-To"] and "已收录" not in text.split("本次修改")[0]
    with Session(desk.engine) as s:
        (item,) = s.exec(select(Item)).all()  # still one piece
        assert item.number == number and item.version == 2 and item.photo_count == 2
        assert sum(a.share for a in s.exec(select(Author))) == pytest.approx(0.3)  # the points once
        versions = s.exec(select(ItemVersion).order_by(ItemVersion.version)).all()
        assert [v.version for v in versions] == [1, 2] and [v.photo_count for v in versions] == [1, 2]
        verdicts = [m.verdict for m in s.exec(select(Message).order_by(Message.id))]
    assert verdicts == ["receipt", "correction"]
    assert main(["--config", str(desk.config), "show", number]) == 0
    shown = capsys.readouterr().out
    assert shown.count("版本") == 2 and "第2版" in shown and "（当前）" in shown
    # The first version sent again is a re-send of this item, not a new piece.
    again = desk.send(submission(BODY, photos=1, message_id="<again@example.com>"))
    assert number in reply_text(again)
    with Session(desk.engine) as s:
        assert len(s.exec(select(Item)).all()) == 1


def test_the_same_title_again_within_days_is_a_correction_too(desk: Desk) -> None:
    desk.send(submission(BODY, photos=1))
    second = desk.send(submission([BODY[0], BODY[1] + "演练结束后，指挥部对演练情况进行了点评。"], photos=1))
    assert "已更新（第2版）" in reply_text(second)
    with Session(desk.engine) as s:
        assert len(s.exec(select(Item)).all()) == 1


def test_a_correction_of_an_adopted_piece_is_held_for_the_office(desk: Desk) -> None:
    first = desk.send(submission(BODY, photos=1))
    with Session(desk.engine) as s:
        (item,) = s.exec(select(Item)).all()
        office.adopt(s, item.number, "city", "《盘锦信息》第12期", date(2026, 12, 1), "test")
        s.commit()
        number, chars = item.number, item.body_chars
    notice = desk.send(
        submission([BODY[0], "（修改稿）" + BODY[1]], photos=1, headers=[("In-Reply-To", str(first["Message-ID"]))])
    )
    assert notice["To"] == "office@example.com" and "来信暂存" in str(notice["Subject"])
    text = reply_text(notice)
    assert f"原稿 {number}《{TITLE}》已被采用" in text and f"修改稿为《{TITLE}》" in text
    with Session(desk.engine) as s:
        (kept,) = s.exec(select(Item)).all()
        assert kept.version == 1 and kept.body_chars == chars
        assert s.exec(select(Message).order_by(Message.id.desc())).first().reasons == "correction_of_judged"  # type: ignore[union-attr]

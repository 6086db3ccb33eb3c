"""MIME decoding on bytes: the charsets and attachment-name habits of Chinese mail clients."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from mailbot.domain.charsets import decode_bytes, decode_header_value
from mailbot.domain.mime import _html_to_text, parse_message
from mailbot.samples.mail import build_mail

RONG = "盘山县应急局镕照片.zip"  # 镕 is in GBK but not in GB2312


@pytest.mark.parametrize("style", ["foxmail", "outlook", "webmail"])
def test_client_styles_decode_subject_sender_and_names(style: str) -> None:
    raw = build_mail("Liaison@163.com", "关于镕的报道", [(RONG, b"PK\x03\x04")], sender_name="张镕", style=style)
    mail = parse_message(raw)
    assert mail.subject == "关于镕的报道"
    assert mail.sender == "liaison@163.com" and mail.sender_name == "张镕"
    assert [a.name for a in mail.attachments] == [RONG]
    assert mail.attachments[0].data == b"PK\x03\x04"
    assert mail.text == "请审阅，谢谢！"


def _part(disposition: bytes) -> bytes:
    return (
        b"From: a@b.cn\r\nMessage-ID: <m@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Disposition: " + disposition + b"\r\n\r\nAAAA\r\n--b--\r\n"
    )


@pytest.mark.parametrize(
    "disposition, name",
    [
        (b"attachment; filename*=gb2312''" + urllib.parse.quote(RONG.encode("gb18030")).encode(), RONG),
        (b"attachment; filename*0*=utf-8''%E7%85%A7; filename*1*=%E7%89%87.jpg", "照片.jpg"),
        (b'attachment; filename="' + RONG.encode("gbk") + b'"', RONG),  # raw 8-bit GBK, no encoding at all
        (b'attachment; filename="=?GBK?B?' + base64.b64encode(RONG.encode("gbk")) + b'?="', RONG),
        (b'attachment; filename="' + "原始.docx".encode("gbk") + b'"', "原始.docx"),  # also valid UTF-8 bytes
        (b'attachment; filename="report\r\n .docx"', "report .docx"),
    ],
)
def test_attachment_names(disposition: bytes, name: str) -> None:
    (att,) = parse_message(_part(disposition)).attachments
    assert att.name == name


def test_gb2312_label_decoded_as_gb18030() -> None:
    word = "=?gb2312?B?" + base64.b64encode("堃镕".encode("gb18030")).decode() + "?="
    assert decode_header_value(word) == "堃镕"
    assert decode_bytes("堃镕".encode("gb18030"), "GB2312") == "堃镕"


def test_unknown_charset_falls_back_without_error() -> None:
    assert decode_bytes("稿件".encode(), "x-no-such-charset") == "稿件"
    assert decode_header_value("=?x-bogus?B?5YWz5LqO?=") == "关于"


def test_crlf_in_subject_is_flattened() -> None:
    mail = parse_message(
        b"From: a@b.cn\r\nSubject: =?utf-8?B?" + base64.b64encode("关于\r\nBcc: x@y".encode()) + b"?=\r\n\r\nbody\r\n"
    )
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_not_mime_at_all() -> None:
    mail = parse_message(b"just some bytes without headers \xff\xfe")
    assert mail.sender == "" and mail.attachments == ()


def test_html_only_body_becomes_text() -> None:
    raw = (
        b"From: a@qq.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + "<div>从QQ邮箱发来的超大附件<a href='x'>下载</a></div>".encode()
    )
    assert "超大附件" in parse_message(raw).text


def test_references_fall_back_to_in_reply_to() -> None:
    mail = parse_message(b"From: a@b.cn\r\nIn-Reply-To: <x@y>\r\n\r\nhi\r\n")
    assert mail.references == ("<x@y>",)


def _slow(raw: bytes) -> object:
    import email as std_email

    from mailbot.domain import mime

    return mime._facts(std_email.message_from_bytes(raw, _class=mime._Message))


BIG = bytes(range(256)) * 800  # 200 KB: above the size at which bodies are lifted


@pytest.mark.parametrize(
    "label, raw",
    [
        (
            "attachments of every client style",
            build_mail("a@b.cn", "报道", [("照片.jpg", BIG), ("稿件.zip", BIG[::-1])]),
        ),
        ("outlook names", build_mail("a@b.cn", "报道", [("照片.jpg", BIG)], style="outlook")),
        (
            "LF line endings are left to the email package",
            build_mail("a@b.cn", "报道", [("照片.jpg", BIG)]).replace(b"\r\n", b"\n"),
        ),
        (
            "a quoted-printable body that mentions the header, then a big text",
            b"From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            b"see below:\r\ncontent-transfer-encoding: base64\r\n\r\n" + b"plain words " * 10000 + b"\r\n--b--\r\n",
        ),
        ("broken padding", build_mail("a@b.cn", "x", [("a.jpg", BIG)]).replace(b"=\r\n\r\n--", b"=x=\r\n\r\n--")),
    ],
)
def test_lifted_base64_gives_exactly_what_the_email_package_gives(label: str, raw: bytes) -> None:
    assert parse_message(raw) == _slow(raw), label


def test_html_entities_become_the_characters_they_name() -> None:
    assert _html_to_text("<p>&#37319;&#29992; &amp;</p>") == "采用 &"
    assert _html_to_text("<p>a&nbsp;b &lt;p&gt;</p>") == "a b <p>"

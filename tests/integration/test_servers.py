"""The test servers themselves: if these fail, every integration test is suspect."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from tests.servers import DovecotServer, SmtpSink

SUBJECT = "关于政务信息报送的通知"


def _chinese_message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "联络员 <liaison@example.test>"
    msg["To"] = "bureau@example.test"
    msg["Subject"] = SUBJECT
    msg.set_content("请查收附件中的稿件。\n")
    return msg.as_bytes(policy=SMTP)


RAW_UTF8_HEADERS = (
    "From: liaison@example.test\r\n"
    "To: bureau@example.test\r\n"
    f"Subject: {SUBJECT}\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "正文第一行\r\n"
).encode()


@pytest.mark.parametrize("raw", [_chinese_message(), RAW_UTF8_HEADERS], ids=["encoded-words", "raw-utf8"])
def test_append_chinese_subject_reads_back_byte_identical(dovecot: DovecotServer, raw: bytes) -> None:
    dovecot.append(raw)

    assert dovecot.fetch_all("INBOX") == [raw]
    assert len(dovecot.uids()) == 1


def test_capabilities_after_login(dovecot: DovecotServer) -> None:
    with dovecot.connect() as client:
        capabilities = set(client.capabilities())
        server_id = dict(client.id_({"name": "mailbot-tests"}) or ())

    assert {b"IDLE", b"MOVE", b"ID", b"UIDPLUS"} <= capabilities
    assert server_id[b"name"] == b"Dovecot"


def test_idle_reports_new_mail(dovecot: DovecotServer) -> None:
    with dovecot.connect() as client:
        client.select_folder("INBOX")
        client.idle()
        dovecot.append(RAW_UTF8_HEADERS)
        # Dovecot batches change notifications for about half a second.
        responses = client.idle_check(timeout=5)
        client.idle_done()

    assert any(response[1] == b"EXISTS" for response in responses)


def test_restart_keeps_data_and_port(dovecot: DovecotServer) -> None:
    dovecot.append(_chinese_message())
    with dovecot.connect() as client:
        client.create_folder("Processed")
    port, uids = dovecot.port, dovecot.uids()

    dovecot.restart()

    assert dovecot.port == port
    assert dovecot.uids() == uids
    assert "Processed" in dovecot.folders()
    assert dovecot.fetch_all() == [_chinese_message()]


def test_stopped_server_refuses_connections(dovecot: DovecotServer) -> None:
    dovecot.stop()

    with pytest.raises(ConnectionRefusedError):
        dovecot.connect(timeout=1)


def test_reset_empties_folders_and_messages(dovecot: DovecotServer) -> None:
    with dovecot.connect() as client:
        client.create_folder("Processed")
        client.create_folder("Processed.2024")
        client.subscribe_folder("Processed.2024")
    dovecot.append(RAW_UTF8_HEADERS, folder="Processed.2024")
    dovecot.append(RAW_UTF8_HEADERS)
    dovecot.stop()

    dovecot.reset()

    assert dovecot.folders() == ["INBOX"]
    assert dovecot.uids() == []
    with dovecot.connect() as client:
        assert client.list_sub_folders() == []


def test_instances_are_independent(dovecot: DovecotServer) -> None:
    with DovecotServer() as other:
        other.append(RAW_UTF8_HEADERS)

        assert other.port != dovecot.port
        assert dovecot.uids() == []
        assert len(other.uids()) == 1


def test_sink_receives_utf8_message(smtp_sink: SmtpSink) -> None:
    raw = _chinese_message()

    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.sendmail("bureau@example.test", ["liaison@example.test"], raw)

    [received] = smtp_sink.wait_for(1, timeout=5)
    assert received.mail_from == "bureau@example.test"
    assert received.rcpt_tos == ["liaison@example.test"]
    assert received.data == raw
    assert received.message["Subject"] == SUBJECT
    assert received.message.get_content().rstrip() == "请查收附件中的稿件。"


def test_sink_accepts_smtputf8_addresses(smtp_sink: SmtpSink) -> None:
    msg = EmailMessage()
    msg["From"] = "bureau@example.test"
    msg["To"] = "联络员@例子.测试"
    msg["Subject"] = SUBJECT
    msg.set_content("8-bit everywhere\n")

    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.send_message(msg)

    [received] = smtp_sink.wait_for(1, timeout=5)
    assert received.rcpt_tos == ["联络员@例子.测试"]
    assert received.message["Subject"] == SUBJECT


def test_sink_stop_and_start_on_same_port(smtp_sink: SmtpSink) -> None:
    port = smtp_sink.port
    with smtplib.SMTP(smtp_sink.host, port, timeout=5) as client:
        client.sendmail("a@example.test", ["b@example.test"], RAW_UTF8_HEADERS)

    smtp_sink.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp_sink.host, port, timeout=1)
    smtp_sink.start()

    assert smtp_sink.port == port
    with smtplib.SMTP(smtp_sink.host, port, timeout=5) as client:
        client.sendmail("a@example.test", ["b@example.test"], RAW_UTF8_HEADERS)
    assert len(smtp_sink.wait_for(2, timeout=5)) == 2


@pytest.mark.parametrize("status", ["451 4.3.0 Try again later", "554 5.7.1 Rejected for testing"])
def test_failure_mode_answers_given_status(smtp_sink: SmtpSink, status: str) -> None:
    smtp_sink.fail_next(1, status)

    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@example.test", ["b@example.test"], RAW_UTF8_HEADERS)
        client.sendmail("a@example.test", ["b@example.test"], RAW_UTF8_HEADERS)

    code, text = status.split(" ", 1)
    assert refused.value.smtp_code == int(code)
    assert refused.value.smtp_error == text.encode()
    assert smtp_sink.rejected == 1
    assert len(smtp_sink.wait_for(1, timeout=5)) == 1


def test_wait_for_times_out_and_clear_forgets(smtp_sink: SmtpSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.sendmail("a@example.test", ["b@example.test"], RAW_UTF8_HEADERS)
    smtp_sink.wait_for(1, timeout=5)

    smtp_sink.clear()

    assert smtp_sink.messages == []
    with pytest.raises(TimeoutError):
        smtp_sink.wait_for(1, timeout=0.1)

"""The commands as an operator runs them: real processes, real servers."""

from __future__ import annotations

import email
from pathlib import Path

import pytest

from tests.helpers import REPO, mailbot, write_config
from tests.servers import DovecotServer, SmtpSink


def test_demo_runs_on_the_example_config(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = mailbot("--config", str(REPO / "config.toml"), "demo", "--dir", str(out))
    assert result.returncode == 0, result.stderr
    assert "17 messages, 17 verdicts as expected" in result.stdout
    assert "GBK 压缩包" in result.stdout and "Traceback" not in result.stderr
    replies = sorted((out / "outbox").glob("*.eml"))
    assert len(replies) == 15
    first = email.message_from_bytes(replies[0].read_bytes(), policy=email.policy.default)
    assert first["Auto-Submitted"] == "auto-replied"
    assert "已收录" in first.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # Every message was filed out of the inbox into the folder of its verdict.
    assert not any((out / "inbox" / "new").iterdir()) and not any((out / "inbox" / "cur").iterdir())
    assert len(list((out / "inbox" / ".rejected" / "new").iterdir())) == 8


def test_check_passes_against_live_servers(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    result = mailbot("--config", str(config), "check", env={"TEST_IMAP_PASSWORD": dovecot.password})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"mailbox {dovecot.host}:{dovecot.port} " in result.stdout
        and f"smtp 127.0.0.1:{smtp_sink.port} " in result.stdout
    )
    assert result.stdout.count(": ok") >= 3 and "FAILED" not in result.stdout
    assert "match no [[units]]" not in result.stdout  # every column's units resolve in the example config


def test_check_fails_on_wrong_password_without_printing_it(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    result = mailbot("--config", str(config), "check", env={"TEST_IMAP_PASSWORD": "wrong-secret-123"})
    assert result.returncode == 1
    assert f"mailbox {dovecot.host}:{dovecot.port} " in result.stdout and "FAILED: login refused" in result.stdout
    assert "wrong-secret-123" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("[mailbox]\nkind = 'pop3'\n", "kind must be"),
        (
            "[mailbox]\nhost = 'imap.163.com'\nusername = 'x@163.com'\nsecurity = 'tls'\n"
            "[smtp]\nhost = 's'\nfrom_address = 'x@163.com'\n",
            "security must be one of",
        ),
        ("[mailbox]\nhost = 'h'\nusername = 'u'\npasword_env = 'X'\n", "unknown key(s): pasword_env"),
        ("not toml = = =", "config.toml"),
    ],
)
def test_bad_config_is_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    result = mailbot("--config", str(path), "check")
    assert result.returncode == 1 and "config: FAILED" in result.stdout
    assert message in result.stdout + result.stderr


def test_poll_once_exits_zero_and_logs_one_line_per_message(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    from mailbot.config import load_config
    from mailbot.samples.corpus import week_of_mail

    config = write_config(tmp_path, dovecot, smtp_sink)
    for sample in week_of_mail(load_config(config).units)[:3]:
        dovecot.append(sample.raw)
    result = mailbot("--config", str(config), "poll", "--once", env={"TEST_IMAP_PASSWORD": dovecot.password})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if " verdict=" in line]
    assert len(lines) == 3 and all("from=" in line and "item=" in line for line in lines)
    assert dovecot.password not in result.stderr


def test_check_warns_about_column_units_that_match_no_unit(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    from tests.integration.test_reminders import config_file

    path = config_file(tmp_path, smtp_sink)
    path.write_text(
        path.read_text(encoding="utf-8") + '[[columns]]\nname = "部门文件"\nchannel = "website"\n'
        'cycle = "monthly"\nunits = ["法规科"]\npoints = 0.5\npenalty = 0.5\nphotos = false\n',
        encoding="utf-8",
    )
    result = mailbot("--config", str(path), "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: column 部门文件: responsible unit(s) 法规科 match no [[units]] name" in result.stdout


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "工作总结.docx").write_bytes(b"the user's own file")
    result = mailbot("--config", str(REPO / "config.toml"), "demo", "--dir", str(mine))
    assert result.returncode == 2
    assert "不是演示创建的文件夹" in result.stdout and "Traceback" not in result.stderr
    assert [p.name for p in mine.iterdir()] == ["工作总结.docx"]
    assert (mine / "工作总结.docx").read_bytes() == b"the user's own file"


def test_demo_recreates_only_its_own_folder(tmp_path: Path) -> None:
    from mailbot.cli.mail import DEMO_MARKER, prepare_demo_dir

    out = tmp_path / "demo"
    assert prepare_demo_dir(out) is None and (out / DEMO_MARKER).is_file()
    (out / "old.eml").write_text("from an earlier demo")
    assert prepare_demo_dir(out) is None
    assert not (out / "old.eml").exists() and (out / DEMO_MARKER).is_file()
    (out / DEMO_MARKER).unlink()
    (out / "keep.txt").write_text("x")
    assert prepare_demo_dir(out) is not None and (out / "keep.txt").exists()


def test_check_says_an_unset_password_is_unset_and_writes_nothing(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    result = mailbot("--config", str(config), "check", env={"TEST_IMAP_PASSWORD": ""})
    assert result.returncode == 1
    assert "the password is not set: variable TEST_IMAP_PASSWORD is empty or unset" in result.stdout
    assert "login refused" not in result.stdout
    assert "address(es) are still the example's placeholders" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"], "check created files"
    assert "INFO" not in result.stderr


def test_check_names_the_host_that_cannot_be_found(tmp_path: Path, smtp_sink: SmtpSink, dovecot: DovecotServer) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    config.write_text(
        config.read_text(encoding="utf-8").replace(f'host = "{dovecot.host}"', 'host = "imap.invalid"', 1)
    )
    result = mailbot("--config", str(config), "check", env={"TEST_IMAP_PASSWORD": "x"})
    assert result.returncode == 1
    assert f"mailbox imap.invalid:{dovecot.port} " in result.stdout and "host name not found" in result.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (("items", "--period", "bogus"), "期间“bogus”无法识别"),
        (("digest", "monthly", "--period", "2026-13"), "期间“2026-13”无法识别"),
        (("digest", "monthly", "--period", "2026-W03"), "不是一个月"),
        (("remind", "--date", "2026-02-30"), "日期“2026-02-30”无法识别"),
        (("adopt", "2026-0001", "--level", "city", "--date", "yesterday"), "日期“yesterday”无法识别"),
        (("show", "0137"), "信息编号“0137”无法识别"),
        (("deduct", "宣教科", "-5", "--reason", "x"), "分值 -5 超出范围"),
        (("purge", "--before", "soon"), "日期“soon”无法识别"),
        (("grade", "2026-0001", "7"), "invalid choice"),
        (("nonsense",), "invalid choice"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_code_2(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    result = mailbot("--config", str(REPO / "config.toml"), *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    output = (result.stdout + result.stderr).strip()
    assert says in output and len(output.splitlines()) == 1, output
    assert "Traceback" not in output

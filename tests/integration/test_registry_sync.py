"""What the office decides about a liaison survives a restart that re-reads config.toml and a re-import."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from mailbot import office
from mailbot.adapters.db import Liaison, Unit, make_engine
from mailbot.adapters.registry_store import sync_units
from mailbot.domain.units import Liaison as Person
from mailbot.domain.units import Unit as Listed
from tests.servers import database_url

LISTED = (
    Listed("办公室", liaisons=(Person("张三", "zhangsan@example.gov.cn"), Person("李四", "lisi@example.gov.cn"))),
    Listed("救援协调科", liaisons=(Person("王五", "wangwu@example.gov.cn"),)),
    Listed("兴隆台区应急管理局", kind="县区", liaisons=(Person("赵六", ""),)),
)


def rows(engine: object) -> dict[str, list[tuple[str, bool]]]:
    """Each liaison's rows as (unit name, active)."""
    with Session(engine) as s:  # type: ignore[arg-type]
        units = {u.id: u.name for u in s.exec(select(Unit))}
        out: dict[str, list[tuple[str, bool]]] = {}
        for r in s.exec(select(Liaison).order_by(col(Liaison.id))):
            out.setdefault(r.name, []).append((units[r.unit_id], r.active))
        return out


def test_a_restart_keeps_what_the_office_registered_moved_and_retired(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path))
    assert sync_units(engine, LISTED) == (4, 0)
    with Session(engine) as s:
        office.retire(s, "张三", "办公室", "web:admin")
        office.move(s, "李四", "救援协调科", "web:admin")
        office.retire(s, "赵六", "兴隆台区应急管理局", "web:admin")
        office.enrol(s, "孙七", "办公室", "sunqi@example.gov.cn", "web:admin")
        s.commit()
    decided = rows(engine)

    # the daemon restarts: config.toml is read again, unchanged
    assert sync_units(engine, LISTED) == (0, 0)
    # and the annex-4 table is imported again (it has no addresses)
    sync_units(engine, (Listed("兴隆台区应急管理局", liaisons=(Person("赵六", ""),)),), source="import", kinds=False)

    assert rows(engine) == decided
    assert decided["张三"] == [("办公室", False)]
    assert decided["李四"] == [("救援协调科", True)]
    assert decided["赵六"] == [("兴隆台区应急管理局", False)]
    assert decided["孙七"] == [("办公室", True)]


def test_config_still_governs_the_liaisons_the_office_has_not_touched(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path))
    sync_units(engine, LISTED)
    with Session(engine) as s:
        office.retire(s, "张三", "办公室", "web:admin")
        s.commit()
    # 王五 is dropped from config.toml and 周八 added: both take effect; 张三 stays retired
    changed = (LISTED[0], Listed("救援协调科", liaisons=(Person("周八", "zhouba@example.gov.cn"),)), LISTED[2])
    assert sync_units(engine, changed) == (1, 1)
    after = rows(engine)
    assert after["王五"] == [("救援协调科", False)]
    assert after["周八"] == [("救援协调科", True)]
    assert after["张三"] == [("办公室", False)]

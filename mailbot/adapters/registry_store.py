"""The registry of units and liaisons as sources fill it: config.toml, an imported annex-4 table, the office.

Each source retires only what it listed itself, and what the office decided (登记/调整/停用) is never
undone by a restart that re-reads config.toml or by a later import.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.adapters.db import Item, Liaison, Unit
from mailbot.domain.units import Unit as RegisteredUnit

OFFICE_SOURCE = "office"  # a liaison row the office has registered, moved or retired


def sync_units(
    engine: Engine, units: tuple[RegisteredUnit, ...], *, source: str = "config", kinds: bool = True
) -> tuple[int, int]:
    """Make the registry match `units` for one source (config.toml, or an imported annex-4 table).

    Liaisons the source no longer lists are made inactive, never deleted, so the history of who
    submitted what is kept; an import only touches the units its file names. A liaison listed without
    an address (annex 4 has no email column) is known by name in the unit, and an address the office
    confirmed meanwhile is kept; `kinds` False (annex 4 has no 类别 column) leaves registered units' kinds
    as they are. A liaison the office has registered, moved or retired since (登记/调整/停用) is the office's
    from then on: neither source brings them back, moves them or adds them again. Returns (added, retired).
    """
    added = retired = 0
    with Session(engine) as session:
        listed: set[int] = set()
        touched: set[int] = set()
        office = session.exec(select(Liaison).where(Liaison.source == OFFICE_SOURCE)).all()
        office_emails = {r.email for r in office if r.email}
        office_names = {(r.name, r.unit_id) for r in office}
        for cfg in units:
            unit = session.exec(select(Unit).where(Unit.name == cfg.name)).first()
            if unit is None or kinds:
                unit = unit or Unit(name=cfg.name)
                unit.kind = cfg.kind
            if cfg.aliases or source == "config":
                unit.aliases = "\n".join(cfg.aliases)
            session.add(unit)
            session.flush()
            assert unit.id is not None
            touched.add(unit.id)
            for person in cfg.liaisons:
                if (person.email in office_emails) if person.email else ((person.name, unit.id) in office_names):
                    continue
                same = Liaison.email == person.email if person.email else Liaison.name == person.name
                row = session.exec(
                    select(Liaison).where(Liaison.unit_id == unit.id, same).order_by(col(Liaison.active).desc())
                ).first()
                if row is None or not row.active:
                    added += 1
                row = row or Liaison(unit_id=unit.id, email=person.email or None)
                row.name, row.phone, row.wechat, row.active, row.source = (
                    person.name,
                    person.phone,
                    person.wechat,
                    True,
                    source,
                )
                session.add(row)
                session.flush()
                assert row.id is not None
                listed.add(row.id)
        for row in session.exec(
            select(Liaison).where(
                Liaison.active == True,  # noqa: E712
                Liaison.source == source,
            )
        ):
            if row.id not in listed and (source == "config" or row.unit_id in touched):
                row.active = False
                retired += 1
                session.add(row)
        session.commit()
    return added, retired


def registry_rows(engine: Engine) -> list[tuple[str, ...]]:
    """The registry as the office reads it: one row per liaison, retired ones marked, items counted."""
    with Session(engine) as s:
        counts: dict[int | None, int] = dict(
            s.exec(select(Item.unit_id, func.count()).group_by(col(Item.unit_id))).all()
        )
        rows: list[tuple[str, ...]] = []
        for unit in s.exec(select(Unit).order_by(col(Unit.id))):
            people = s.exec(
                select(Liaison).where(Liaison.unit_id == unit.id).order_by(col(Liaison.active).desc(), col(Liaison.id))
            ).all()
            for i, p in enumerate(people or [None]):
                first = i == 0
                rows.append(
                    (
                        unit.name if first else "",
                        unit.kind if first else "",
                        p.name if p else "-",
                        (p.email or "（待登记）") if p else "-",
                        p.phone if p else "",
                        p.wechat if p else "",
                        ("在用" if p.active else "停用") if p else "",
                        str(counts.get(unit.id, 0)) if first else "",
                    )
                )
        return rows


EXPORT_HEADERS = ("单位（科室）", "姓名", "联系电话", "微信号", "邮箱", "类别")


def registry_export(engine: Engine) -> list[tuple[str, ...]]:
    """Active liaisons as annex 4 lists them, plus 邮箱 and 类别, so the file imports back unchanged."""
    with Session(engine) as s:
        return [
            (unit.name, p.name, p.phone, p.wechat, p.email or "", unit.kind)
            for unit in s.exec(select(Unit).order_by(col(Unit.id)))
            for p in s.exec(
                select(Liaison).where(Liaison.unit_id == unit.id, col(Liaison.active)).order_by(col(Liaison.id))
            )
        ]

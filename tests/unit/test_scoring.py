"""The points ledger against hand-computed bulletins (the rules' section 三, default PointTable).

Units: 1 = 应急指挥中心, 2 = 大洼区应急管理局, 3 = 执法支队. Each scenario lists its inputs and, per period,
the expected totals per unit and per (person, unit), with the arithmetic in a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.domain.calendar import parse_period
from mailbot.domain.report import competition_ranks
from mailbot.domain.scoring import (
    Adoption,
    Deduction,
    Entry,
    PointTable,
    ScoredItem,
    SolicitationGrade,
    ledger,
    split_evenly,
    totals,
)

TABLE = PointTable()
ZHANG, LI, WANG = "张三", "李四", "王五"


def item(
    item_id: int,
    received: str,
    *drafters: tuple[str, int],
    unit: int = 1,
    kind: str = "routine",
    status: str = "received",
) -> ScoredItem:
    return ScoredItem(item_id, unit, kind, date.fromisoformat(received), tuple(drafters), status)


def adopted(item_id: int, level: str, on: str) -> Adoption:
    return Adoption(item_id, level, date.fromisoformat(on))


def graded(item_id: int, grade: int, deadline: str) -> SolicitationGrade:
    return SolicitationGrade(item_id, grade, date.fromisoformat(deadline))


def deducted(unit_id: int, points: float, on: str, reason: str, person: str | None = None) -> Deduction:
    return Deduction(unit_id, points, date.fromisoformat(on), reason, person)


Units = dict[int, float]
People = dict[tuple[str, int], float]


@dataclass(frozen=True)
class Scenario:
    name: str
    items: tuple[ScoredItem, ...]
    expected: dict[str, tuple[Units, People]]  # period label -> (per unit, per person)
    adoptions: tuple[Adoption, ...] = ()
    grades: tuple[SolicitationGrade, ...] = ()
    deductions: tuple[Deduction, ...] = ()


SCENARIOS = [
    Scenario(  # 0.3 for one routine item, all to its only drafter
        "one routine item, one drafter",
        (item(1, "2026-03-10", (ZHANG, 1)),),
        {"2026-03": ({1: 0.3}, {(ZHANG, 1): 0.3})},
    ),
    Scenario(  # 0.3 / 2 = 0.15 each, each to the drafter's own unit
        "two drafters in two units",
        (item(1, "2026-03-10", (ZHANG, 1), (LI, 2)),),
        {"2026-03": ({1: 0.15, 2: 0.15}, {(ZHANG, 1): 0.15, (LI, 2): 0.15})},
    ),
    Scenario(  # 0.3 / 3 = 0.1 each; unit 1 has two drafters: 0.1 + 0.1 = 0.2; 0.2 + 0.1 = 0.3
        "three drafters",
        (item(1, "2026-03-10", (ZHANG, 1), (LI, 1), (WANG, 2)),),
        {"2026-03": ({1: 0.2, 2: 0.1}, {(ZHANG, 1): 0.1, (LI, 1): 0.1, (WANG, 2): 0.1})},
    ),
    Scenario(  # research piece: 1
        "research piece",
        (item(1, "2026-06-15", (ZHANG, 1), kind="research"),),
        {"2026-06": ({1: 1.0}, {(ZHANG, 1): 1.0})},
    ),
    Scenario(  # research 1 + city adoption 1 = 2 (三(二)3: 被市政府采用计2分)
        "research adopted by the city",
        (item(1, "2026-06-15", (ZHANG, 1), kind="research"),),
        {"2026-06": ({1: 2.0}, {(ZHANG, 1): 2.0})},
        adoptions=(adopted(1, "city", "2026-06-25"),),
    ),
    Scenario(  # March: 0.3 + city 1 = 1.3; April: the province tops it up to 3 (+2); year: 0.3 + 3 = 3.3
        # (an item adopted at several levels earns its highest level, not the sum of all)
        "routine adopted by the city, later by the province",
        (item(1, "2026-03-10", (ZHANG, 1)),),
        {
            "2026-03": ({1: 1.3}, {(ZHANG, 1): 1.3}),
            "2026-04": ({1: 2.0}, {(ZHANG, 1): 2.0}),
            "2026-Q1": ({1: 1.3}, {(ZHANG, 1): 1.3}),
            "2026-Q2": ({1: 2.0}, {(ZHANG, 1): 2.0}),
            "2026": ({1: 3.3}, {(ZHANG, 1): 3.3}),
        },
        adoptions=(adopted(1, "city", "2026-03-20"), adopted(1, "province", "2026-04-15")),
    ),
    Scenario(  # (0.3 + national 5) / 2 = 0.15 + 2.5 = 2.65 each
        "national adoption split between two people",
        (item(1, "2026-05-06", (ZHANG, 1), (LI, 2)),),
        {"2026-05": ({1: 2.65, 2: 2.65}, {(ZHANG, 1): 2.65, (LI, 2): 2.65})},
        adoptions=(adopted(1, "national", "2026-05-28"),),
    ),
    Scenario(  # a graded 约稿 is scored by its grade: 3 (received 03-10, before the 03-12 deadline)
        "solicited, graded 3, on time",
        (item(1, "2026-03-10", (ZHANG, 1)),),
        {"2026-03": ({1: 3.0}, {(ZHANG, 1): 3.0})},
        grades=(graded(1, 3, "2026-03-12"),),
    ),
    Scenario(  # received on the deadline day still counts: 2
        "solicited, graded 2, on the deadline day",
        (item(1, "2026-03-12", (ZHANG, 1)),),
        {"2026-03": ({1: 2.0}, {(ZHANG, 1): 2.0})},
        grades=(graded(1, 2, "2026-03-12"),),
    ),
    Scenario(  # received 03-13 after the 03-12 deadline: 未及时报送的计0分 (三(二)1), the grade is its score
        "solicited, graded 2 but late",
        (item(1, "2026-03-13", (ZHANG, 1)),),
        {"2026-03": ({1: 0.0}, {(ZHANG, 1): 0.0})},
        grades=(graded(1, 2, "2026-03-12"),),
    ),
    Scenario(  # grade 1 / 3 = 0.3334 + 0.3333 + 0.3333, the grade alone
        "solicited, graded 1, three drafters",
        (item(1, "2026-03-10", (ZHANG, 1), (LI, 2), (WANG, 3)),),
        {"2026-03": ({1: 0.3334, 2: 0.3333, 3: 0.3333}, {(ZHANG, 1): 0.3334, (LI, 2): 0.3333, (WANG, 3): 0.3333})},
        grades=(graded(1, 1, "2026-03-31"),),
    ),
    Scenario(  # unit 1: 0.3 - 0.5 = -0.2; the unit-level deduction names nobody, so 张三 keeps 0.3
        "deduction against the unit",
        (item(1, "2026-03-10", (ZHANG, 1)), item(2, "2026-03-11", (LI, 2), unit=2)),
        {"2026-03": ({1: -0.2, 2: 0.3}, {(ZHANG, 1): 0.3, (LI, 2): 0.3})},
        deductions=(deducted(1, 0.5, "2026-03-31", "数据有误"),),
    ),
    Scenario(  # 张三: 0.3 - 1 = -0.7, and his unit with him
        "deduction against a person",
        (item(1, "2026-03-10", (ZHANG, 1)),),
        {"2026-03": ({1: -0.7}, {(ZHANG, 1): -0.7})},
        deductions=(deducted(1, 1, "2026-03-31", "多处错别字", ZHANG),),
    ),
    Scenario(  # item 1 returned at 终审: no 0.3, no province 3; item 2 earns its 0.3
        "returned item earns nothing even if adopted",
        (
            item(1, "2026-03-10", (ZHANG, 1), status="returned"),
            item(2, "2026-03-10", (LI, 2), unit=2, status="approved"),
        ),
        {"2026-03": ({2: 0.3}, {(LI, 2): 0.3})},
        adoptions=(adopted(1, "province", "2026-03-20"),),
        grades=(graded(1, 3, "2026-03-31"),),
    ),
    Scenario(  # item 12-31 (0.3), city 01-02 (1), province 01-04 (topped up to 3: +2); W53 runs 12-28..01-03
        "received on new year's eve, adopted in january",
        (item(1, "2026-12-31", (ZHANG, 1)),),
        {
            "2026-12": ({1: 0.3}, {(ZHANG, 1): 0.3}),
            "2027-01": ({1: 3.0}, {(ZHANG, 1): 3.0}),  # 1 + 2: the highest level, 3
            "2026-Q4": ({1: 0.3}, {(ZHANG, 1): 0.3}),
            "2027-Q1": ({1: 3.0}, {(ZHANG, 1): 3.0}),
            "2026": ({1: 0.3}, {(ZHANG, 1): 0.3}),
            "2027": ({1: 3.0}, {(ZHANG, 1): 3.0}),
            "2026-W53": ({1: 1.3}, {(ZHANG, 1): 1.3}),  # 0.3 + 1
            "2027-W01": ({1: 2.0}, {(ZHANG, 1): 2.0}),  # the top-up to the province's 3
        },
        adoptions=(adopted(1, "city", "2027-01-02"), adopted(1, "province", "2027-01-04")),
    ),
    Scenario(  # Sunday 03-01 closes W09, Monday 03-02 opens W10; March has both: 0.6
        "week boundary",
        (item(1, "2026-03-01", (ZHANG, 1)), item(2, "2026-03-02", (ZHANG, 1))),
        {
            "2026-W09": ({1: 0.3}, {(ZHANG, 1): 0.3}),
            "2026-W10": ({1: 0.3}, {(ZHANG, 1): 0.3}),
            "2026-03": ({1: 0.6}, {(ZHANG, 1): 0.6}),
            "2026-02": ({}, {}),
        },
    ),
    Scenario(  # Q1: unit 1 0.3 x 3 = 0.9, unit 2 research 1 + city 1 = 2; the April item is Q2
        "quarter roll-up",
        (
            item(1, "2026-01-05", (ZHANG, 1)),
            item(2, "2026-02-10", (ZHANG, 1)),
            item(3, "2026-03-31", (LI, 1)),
            item(4, "2026-03-15", (WANG, 2), unit=2, kind="research"),
            item(5, "2026-04-01", (ZHANG, 1)),
        ),
        {
            "2026-Q1": ({1: 0.9, 2: 2.0}, {(ZHANG, 1): 0.6, (LI, 1): 0.3, (WANG, 2): 2.0}),
            "2026-Q2": ({1: 0.3}, {(ZHANG, 1): 0.3}),
            "2026-03": ({1: 0.3, 2: 2.0}, {(LI, 1): 0.3, (WANG, 2): 2.0}),
        },
        adoptions=(adopted(4, "city", "2026-03-30"),),
    ),
    Scenario(  # 2026: 0.3 x 4 + experience 1 + province 3 - deduction 0.6 = 4.6; the 2025 item stays in 2025
        "year roll-up",
        (
            item(1, "2026-02-02", (ZHANG, 3), unit=3),
            item(2, "2026-05-05", (ZHANG, 3), unit=3),
            item(3, "2026-08-08", (LI, 3), unit=3),
            item(4, "2026-11-11", (LI, 3), unit=3),
            item(5, "2026-09-01", (ZHANG, 3), unit=3, kind="experience"),
            item(6, "2025-12-30", (ZHANG, 3), unit=3),
        ),
        {
            "2026": ({3: 4.6}, {(ZHANG, 3): 4.6, (LI, 3): 0.6}),  # 张三 0.3 + 0.3 + 1 + 3; 李四 0.3 + 0.3
            "2025": ({3: 0.3}, {(ZHANG, 3): 0.3}),
        },
        adoptions=(adopted(5, "province", "2026-10-10"),),
        deductions=(deducted(3, 0.6, "2026-12-31", "网站栏目少报2条"),),
    ),
    Scenario(  # no drafter named: the submitting unit 2 gets 0.3 + city 1 = 1.3, nobody personally
        "no drafters credits the unit",
        (item(1, "2026-03-10", unit=2),),
        {"2026-03": ({2: 1.3}, {})},
        adoptions=(adopted(1, "city", "2026-03-11"),),
    ),
    Scenario(  # the office recorded the same city adoption twice: paid once, 0.3 + 1 = 1.3
        "the same adoption recorded twice",
        (item(1, "2026-03-10", (ZHANG, 1)),),
        {"2026-03": ({1: 1.3}, {(ZHANG, 1): 1.3})},
        adoptions=(adopted(1, "city", "2026-03-20"), adopted(1, "city", "2026-03-22")),
    ),
    Scenario(  # experience 1 + province 3 = 4, / 2 = 2 each
        "experience piece adopted by the province, two drafters",
        (item(1, "2026-07-01", (ZHANG, 1), (LI, 1), kind="experience"),),
        {"2026-07": ({1: 4.0}, {(ZHANG, 1): 2.0, (LI, 1): 2.0})},
        adoptions=(adopted(1, "province", "2026-07-20"),),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_totals(scenario: Scenario) -> None:
    entries = ledger(scenario.items, scenario.adoptions, scenario.grades, scenario.deductions, TABLE)
    for label, (units, people) in scenario.expected.items():
        period = parse_period(label)
        assert totals(entries, period, "unit") == units, label
        assert totals(entries, period, "person") == people, label


def test_entries_explain_each_figure() -> None:
    entries = ledger(
        [item(7, "2026-03-10", (ZHANG, 1), (LI, 2))],
        [adopted(7, "province", "2026-03-20")],
        [graded(7, 0, "2026-03-01")],
        [deducted(2, 0.3, "2026-03-31", "数据有误", LI)],
        TABLE,
    )
    # A graded 约稿 is scored by its grade (here 0: late), with no submission or adoption points besides.
    assert entries == [
        Entry(date(2026, 3, 10), 1, ZHANG, 0.0, "solicitation", 7, "约稿逾期 0 分 ÷ 2 人"),
        Entry(date(2026, 3, 10), 2, LI, 0.0, "solicitation", 7, "约稿逾期 0 分 ÷ 2 人"),
        Entry(date(2026, 3, 31), 2, LI, -0.3, "deduction", None, "扣分：数据有误"),
    ]
    summed = ledger(
        [item(7, "2026-03-10", (ZHANG, 1), (LI, 2))],
        [adopted(7, "province", "2026-03-20")],
        [graded(7, 0, "2026-03-01")],
        [],
        PointTable(solicitation="sum"),
    )
    assert [(e.source, e.points) for e in summed] == [
        ("submission", 0.15),
        ("submission", 0.15),
        ("solicitation", 0.0),
        ("solicitation", 0.0),
        ("adoption", 1.5),
        ("adoption", 1.5),
    ]


def test_notes_name_the_kind_and_the_grade() -> None:
    entries = ledger(
        [item(1, "2026-03-10", (ZHANG, 1), kind="research"), item(2, "2026-03-10", unit=3)],
        [adopted(1, "city", "2026-03-11")],
        [graded(2, 3, "2026-03-10")],
        [],
        TABLE,
    )
    assert [e.note for e in entries] == ["报送调研 1 分", "约稿评 3 分", "市级采用 1 分"]


def test_a_configured_table_changes_the_figures() -> None:
    table = PointTable(routine=0.5, adopted_city=2.0)
    entries = ledger([item(1, "2026-03-10", (ZHANG, 1))], [adopted(1, "city", "2026-03-11")], [], [], table)
    assert totals(entries, parse_period("2026-03"), "unit") == {1: 2.5}  # 0.5 + 2


RANKINGS = [
    ({}, {}),
    ({1: 0.3}, {1: 1}),
    ({1: 2.0, 2: 3.0, 3: 3.0, 4: 1.0}, {2: 1, 3: 1, 1: 3, 4: 4}),  # 3, 3 share 1st; next is 3rd, not 2nd
    ({1: 1.0, 2: 1.0, 3: 1.0}, {1: 1, 2: 1, 3: 1}),
    ({1: -0.2, 2: 0.0, 3: 0.3, 4: 0.0}, {3: 1, 2: 2, 4: 2, 1: 4}),  # a deduction can push below zero
    ({(ZHANG, 1): 2.65, (LI, 2): 2.65, (WANG, 3): 5.0}, {(WANG, 3): 1, (ZHANG, 1): 2, (LI, 2): 2}),
]


@pytest.mark.parametrize(("points", "expected"), RANKINGS)
def test_rank_is_standard_competition_ranking(points: dict, expected: dict) -> None:
    assert competition_ranks(list(points.values())) == tuple(expected[k] for k in points)


def test_rank_of_a_month_with_ties() -> None:
    """Unit 1 and 2 tie at 0.3 + city 1 = 1.3 (unit 2 from two half-shares), unit 3 has 0.3."""
    entries = ledger(
        [
            item(1, "2026-03-02", (ZHANG, 1)),
            item(2, "2026-03-03", (LI, 2), (WANG, 2), unit=2),
            item(3, "2026-03-04", (ZHANG, 3), unit=3),
        ],
        [adopted(1, "city", "2026-03-09"), adopted(2, "city", "2026-03-09")],
        [],
        [],
        TABLE,
    )
    month = totals(entries, parse_period("2026-03"), "unit")
    assert dict(zip(month, competition_ranks(list(month.values())), strict=True)) == {1: 1, 2: 1, 3: 3}


@pytest.mark.parametrize("grade", [-1, 4, True, 2.5])
def test_grades_outside_0_to_3_are_rejected(grade: object) -> None:
    with pytest.raises(ValueError, match="0, 1, 2 or 3"):
        SolicitationGrade(1, grade, date(2026, 3, 1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Adoption(1, "county", date(2026, 3, 1)), "adoption level"),
        (lambda: ScoredItem(1, 1, "news", date(2026, 3, 1), ()), "kind"),
        (lambda: ScoredItem(1, 1, "routine", date(2026, 3, 1), (), "rejected"), "status"),
        (lambda: Deduction(1, -0.3, date(2026, 3, 1), "x"), "positive"),
        (lambda: Deduction(1, 0, date(2026, 3, 1), "x"), "positive"),
    ],
)
def test_invalid_inputs_are_rejected(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("items", "adoptions", "grades", "message"),
    [
        ([], [adopted(9, "city", "2026-03-01")], [], "item 9"),
        ([], [], [graded(9, 1, "2026-03-01")], "item 9"),
        ([item(1, "2026-03-01")], [], [graded(1, 1, "2026-03-05"), graded(1, 2, "2026-03-05")], "two solicitation"),
        ([item(1, "2026-03-01"), item(1, "2026-03-02")], [], [], "twice"),
    ],
)
def test_inconsistent_inputs_fail_instead_of_a_wrong_bulletin(
    items: list, adoptions: list, grades: list, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ledger(items, adoptions, grades, [], TABLE)


def test_split_evenly_is_exact() -> None:
    assert split_evenly(0.3, 3) == (0.1, 0.1, 0.1)
    assert split_evenly(1.0, 3) == (0.3334, 0.3333, 0.3333)
    assert split_evenly(0.3, 0) == ()


@given(
    st.integers(min_value=1, max_value=12),
    st.sampled_from(["routine", "research", "experience"]),
    st.lists(st.sampled_from(["city", "province", "national"]), unique=True),
    st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
)
def test_an_items_shares_always_add_up_to_its_points(
    people: int, kind: str, levels: list[str], grade: int | None
) -> None:
    drafters = [(f"人{i}", i % 3 + 1) for i in range(people)]
    adoptions = [adopted(1, level, "2026-03-20") for level in levels]
    grades = [] if grade is None else [graded(1, grade, "2026-03-31")]
    entries = ledger([item(1, "2026-03-10", *drafters, kind=kind)], adoptions, grades, [], TABLE)
    if grade is not None:  # a graded 约稿 is scored by its grade alone
        expected = float(grade)
    else:  # the submission, and the highest level of adoption reached
        expected = {"routine": 0.3, "research": 1.0, "experience": 1.0}[kind]
        expected += max((({"city": 1, "province": 3, "national": 5}[level]) for level in levels), default=0)
    march = parse_period("2026-03")
    assert sum(totals(entries, march, "unit").values()) == pytest.approx(expected, abs=1e-9)
    assert sum(totals(entries, march, "person").values()) == pytest.approx(expected, abs=1e-9)


def test_reading_5_graded_solicitation_and_highest_adoption() -> None:
    """三(二)1 scores a 约稿 0-3 "根据完成质量及采用情况": the grade is its score, adoption included; an item
    adopted by the city and the province earns the province's 3, not 1 + 3."""
    solicited = ledger(
        [item(1, "2026-03-10", (ZHANG, 1))], [adopted(1, "city", "2026-03-20")], [graded(1, 2, "2026-03-12")], [], TABLE
    )
    assert totals(solicited, parse_period("2026-03"), "unit") == {1: 2.0}
    both = [adopted(2, "province", "2026-03-20"), adopted(2, "city", "2026-03-25")]
    routine = ledger([item(2, "2026-03-10", (ZHANG, 1))], both, [], [], TABLE)
    assert totals(routine, parse_period("2026-03"), "unit") == {1: 3.3}  # 0.3 + province 3; the city adds nothing
    summed = ledger([item(2, "2026-03-10", (ZHANG, 1))], both, [], [], PointTable(adoption_levels="sum"))
    assert totals(summed, parse_period("2026-03"), "unit") == {1: 4.3}
    # An ungraded 约稿 earns its submission points until the office grades it.
    assert totals(ledger([item(3, "2026-03-10", (ZHANG, 1))], [], [], [], TABLE), parse_period("2026-03"), "unit") == {
        1: 0.3
    }


@pytest.mark.parametrize("later_first", [False, True])
def test_an_adoption_recorded_twice_counts_once_on_its_earliest_date(later_first: bool) -> None:
    """Whatever order the rows come in, the earliest date of an (item, level) adoption is the one credited."""
    twice = [adopted(1, "province", "2026-03-05"), adopted(1, "province", "2026-04-20")]
    entries = ledger(
        [item(1, "2026-03-02", (ZHANG, 1))], list(reversed(twice)) if later_first else twice, [], [], TABLE
    )
    credited = [e for e in entries if e.source == "adoption"]
    assert [e.on for e in credited] == [date(2026, 3, 5)]
    assert credited[0].points == TABLE.adopted_province

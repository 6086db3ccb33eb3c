"""Quotas, shortfalls and reminder days on real 2026 weeks (see test_calendar for the 2026 schedule)."""

from __future__ import annotations

from datetime import date, timedelta
from types import MappingProxyType

import pytest

from mailbot.domain.calendar import WorkCalendar, month_of, parse_period, week_of
from mailbot.domain.quota import (
    QuotaPolicy,
    QuotaRule,
    Shortfall,
    deadline,
    monthly_due,
    monthly_reminder_window,
    shortfalls,
    weekly_due,
    weekly_reminder_day,
)

OFFICIAL = WorkCalendar()
POLICY = QuotaPolicy(by_kind={"县区": QuotaRule(weekly=2, monthly=6)})
W08 = parse_period("2026-W08")  # 02-16..02-22, all Spring Festival
W40 = week_of(date(2026, 9, 28))  # Mon-Wed working, then National Day
W41 = week_of(date(2026, 10, 5))  # National Day to 10-07, then Thu, Fri and make-up Sat 10-10
W42 = week_of(date(2026, 10, 12))  # an ordinary week
OCTOBER = month_of(date(2026, 10, 1))


def test_rule_for_uses_the_kind_or_the_default() -> None:
    assert POLICY.rule_for("县区") == QuotaRule(2, 6)
    assert POLICY.rule_for("科室") == QuotaRule(1, 4)
    assert QuotaPolicy(default=QuotaRule(1, 5)).rule_for("科室").monthly == 5


def test_policy_is_frozen_against_later_edits() -> None:
    kinds = {"县区": QuotaRule(2, 6)}
    policy = QuotaPolicy(by_kind=kinds)
    kinds["科室"] = QuotaRule(9, 9)
    assert policy.rule_for("科室") == QuotaRule()
    assert isinstance(policy.by_kind, MappingProxyType)
    assert hash(policy) == hash(QuotaPolicy(by_kind={"县区": QuotaRule(2, 6)}))
    assert policy == QuotaPolicy(by_kind={"县区": QuotaRule(2, 6)})


def test_weekly_due_per_kind_in_an_ordinary_week() -> None:
    assert weekly_due(POLICY, "科室", W42, OFFICIAL) == 1
    assert weekly_due(POLICY, "县区", W42, OFFICIAL) == 2


def test_a_week_without_enough_working_days_owes_nothing() -> None:
    assert weekly_due(POLICY, "县区", W08, OFFICIAL) == 0
    assert weekly_due(QuotaPolicy(relax_short_weeks=False), "科室", W08, OFFICIAL) == 1


def test_national_day_2026_weeks_keep_three_working_days_so_they_still_owe_by_default() -> None:
    """Both weeks keep 3 working days (W41 thanks to the make-up Saturday): 3 is not fewer than 3."""
    assert weekly_due(POLICY, "科室", W40, OFFICIAL) == 1
    assert weekly_due(POLICY, "科室", W41, OFFICIAL) == 1
    stricter = QuotaPolicy(min_workdays_for_weekly=4)
    assert weekly_due(stricter, "科室", W40, OFFICIAL) == 0
    assert weekly_due(stricter, "科室", W41, OFFICIAL) == 0
    assert weekly_due(stricter, "科室", W42, OFFICIAL) == 1
    without_make_up_day = WorkCalendar(extra_holidays=frozenset({date(2026, 10, 10)}))
    assert weekly_due(POLICY, "科室", W41, without_make_up_day) == 0


def test_weeks_relaxed_by_hand() -> None:
    policy = QuotaPolicy(relaxed_weeks=frozenset({"2026-w41"}))
    assert policy.relaxed_weeks == frozenset({"2026-W41"})
    assert weekly_due(policy, "科室", W41, OFFICIAL) == 0
    assert weekly_due(policy, "科室", W42, OFFICIAL) == 1
    assert monthly_due(policy, "科室", OCTOBER, OFFICIAL) == 4  # relaxing a week leaves the month alone


def test_relaxed_weeks_must_be_week_labels() -> None:
    with pytest.raises(ValueError, match="not an ISO week"):
        QuotaPolicy(relaxed_weeks=frozenset({"2026-10"}))
    with pytest.raises(ValueError, match="is not one of"):
        QuotaPolicy(relaxed_weeks=frozenset({"W41"}))


def test_monthly_due_per_kind_holidays_or_not() -> None:
    assert monthly_due(POLICY, "科室", OCTOBER, OFFICIAL) == 4
    assert monthly_due(POLICY, "县区", OCTOBER, OFFICIAL) == 6
    assert monthly_due(POLICY, "科室", month_of(date(2026, 2, 1)), OFFICIAL) == 4


def test_due_refuses_the_wrong_kind_of_period() -> None:
    with pytest.raises(ValueError, match="expected a week, got month 2026-10"):
        weekly_due(POLICY, "科室", OCTOBER, OFFICIAL)
    with pytest.raises(ValueError, match="expected a month, got week 2026-W41"):
        monthly_due(POLICY, "科室", W41, OFFICIAL)


def test_shortfalls_lists_only_short_units_with_what_is_missing() -> None:
    units = [(1, "科室"), (2, "县区"), (3, "科室"), (4, "县区"), (5, "科室")]
    counts = {1: 1, 2: 5, 4: 6, 5: 7}  # unit 3 sent nothing

    found = shortfalls(units, counts, OCTOBER, lambda kind: monthly_due(POLICY, kind, OCTOBER, OFFICIAL))

    assert found == [Shortfall(1, OCTOBER, 1, 4), Shortfall(2, OCTOBER, 5, 6), Shortfall(3, OCTOBER, 0, 4)]
    assert [s.missing for s in found] == [3, 1, 4]


def test_no_shortfall_in_a_relaxed_week() -> None:
    assert shortfalls([(1, "科室")], {}, W08, lambda kind: weekly_due(POLICY, kind, W08, OFFICIAL)) == []


def test_missing_is_never_negative() -> None:
    assert Shortfall(1, W42, 3, 1).missing == 0


def test_weekly_reminder_day_leaves_a_working_day() -> None:
    assert weekly_reminder_day(W40, OFFICIAL) == date(2026, 9, 29)  # Tue, before the holiday Wed
    assert weekly_reminder_day(W41, OFFICIAL) == date(2026, 10, 9)  # Fri, make-up Sat still to come
    assert weekly_reminder_day(W42, OFFICIAL) == date(2026, 10, 15)  # Thu of an ordinary week
    assert weekly_reminder_day(week_of(date(2026, 9, 14)), OFFICIAL) == date(2026, 9, 18)  # make-up Sun 09-20


def test_weekly_reminder_day_with_one_or_no_working_day() -> None:
    assert weekly_reminder_day(week_of(date(2024, 2, 12)), OFFICIAL) == date(2024, 2, 18)  # only make-up Sun
    assert weekly_reminder_day(W08, OFFICIAL) is None


def test_monthly_reminder_window_is_the_last_working_days() -> None:
    assert monthly_reminder_window(OCTOBER, OFFICIAL) == (date(2026, 10, 28), date(2026, 10, 30))
    february = month_of(date(2026, 2, 1))
    assert monthly_reminder_window(february, OFFICIAL) == (date(2026, 2, 26), date(2026, 2, 28))  # make-up Sat
    assert monthly_reminder_window(february, OFFICIAL, days=1) == (date(2026, 2, 28), date(2026, 2, 28))
    assert monthly_reminder_window(OCTOBER, OFFICIAL, days=5) == (date(2026, 10, 26), date(2026, 10, 30))


def test_monthly_reminder_window_in_a_month_with_few_or_no_working_days() -> None:
    january = month_of(date(2027, 1, 1))
    days = [january.start + timedelta(days=i) for i in range(31)]
    nearly_off = WorkCalendar(
        extra_holidays=frozenset(d for d in days if d not in (date(2027, 1, 5), date(2027, 1, 6)))
    )
    assert monthly_reminder_window(january, nearly_off) == (date(2027, 1, 5), date(2027, 1, 6))
    assert monthly_reminder_window(january, WorkCalendar(extra_holidays=frozenset(days))) is None
    with pytest.raises(ValueError, match="at least 1 working day"):
        monthly_reminder_window(january, OFFICIAL, days=0)


def test_deadline_is_the_last_working_day() -> None:
    assert deadline(W41, OFFICIAL) == date(2026, 10, 10)  # the make-up Saturday
    assert deadline(W40, OFFICIAL) == date(2026, 9, 30)
    assert deadline(month_of(date(2026, 9, 1)), OFFICIAL) == date(2026, 9, 30)
    assert deadline(W08, OFFICIAL) == date(2026, 2, 22)  # no working day: the week's last day
    w53 = parse_period("2026-W53")
    assert deadline(w53, OFFICIAL) == date(2027, 1, 1)  # Mon-Fri fallback for 2027
    assert deadline(w53, WorkCalendar(extra_holidays=frozenset({date(2027, 1, 1)}))) == date(2026, 12, 31)


# ---- 三(一)1's weekly minimum in bulletins ---------------------------------------------------------------


def test_reading_4_four_items_in_one_week_miss_the_other_weeks() -> None:
    """每月不少于4条, 每周不少于1条: both minimums, each week of the month on its own."""
    from mailbot.domain.quota import missed_weeks, quota_met, weeks_ending_in

    october = parse_period("2026-10")
    # W40 (09-28..10-04) closes in October, W44 (10-26..11-01) in November: each week is judged once.
    assert [w.label for w in weeks_ending_in(october)] == ["2026-W40", "2026-W41", "2026-W42", "2026-W43"]
    policy, calendar = QuotaPolicy(), WorkCalendar()
    bunched = {"2026-W42": 4}
    missed = missed_weeks(policy, "科室", october, calendar, bunched, date(2026, 11, 2))
    assert [w.label for w in missed] == ["2026-W40", "2026-W41", "2026-W43"]
    assert not quota_met(4, 4, missed)  # four in the month, but three weeks without one
    steady = {"2026-W40": 1, "2026-W41": 1, "2026-W42": 1, "2026-W43": 1}
    assert missed_weeks(policy, "科室", october, calendar, steady, date(2026, 11, 2)) == []
    assert quota_met(4, 4, [])
    # A week still open is not missed yet; weeks before mailbot's records owe nothing.
    assert [w.label for w in missed_weeks(policy, "科室", october, calendar, bunched, date(2026, 10, 20))] == [
        "2026-W40",
        "2026-W41",
    ]
    assert missed_weeks(policy, "科室", october, calendar, bunched, date(2026, 11, 2), date(2026, 10, 12)) == [
        week_of(date(2026, 10, 19))
    ]
    # Holiday weeks follow the quota calendar: the Spring Festival week 2026-W08 owes nothing.
    february = parse_period("2026-02")
    assert "2026-W08" not in {w.label for w in missed_weeks(policy, "科室", february, calendar, {}, date(2026, 3, 2))}

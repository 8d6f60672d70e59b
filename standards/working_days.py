"""Working days (工作日) in mainland China, for the deadlines of the network's procedures (a dispute must be
accepted within 3 working days). The `chinesecalendar` package knows the State Council's public holidays and
the weekends worked in lieu (调休) of the years it was published with; beyond them (a year it does not know
yet) every Monday to Friday is a working day, which errs early around holidays: update the package when the
State Council publishes a new year's arrangement (each November)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

# China Standard Time, UTC+8 all year (no daylight saving since 1991): the calendar the working days are of.
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
MAX_DAYS = 3650


def working_day_known(day: dt.date) -> bool:
    """True if the holiday calendar covers `day`'s year (otherwise Monday to Friday stands in)."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: dt.date) -> bool:
    """A working day: not a public holiday, and a weekday or a weekend day worked in lieu (调休)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def _china(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(CHINA_TIME)


def working_days_after(start: dt.datetime, days: int) -> dt.datetime:
    """The moment `days` working days after `start`: the `days`-th working day after start's date in China
    (start's own day never counts, as in the Civil Procedure Law's counting of periods), at start's clock
    time in China. 0 days is `start` itself. Raises ValueError for a naive `start` or `days` outside
    0..3650."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from 0 to {MAX_DAYS}")
    local = _china(start)
    day, counted = local.date(), 0
    while counted < days:
        day += dt.timedelta(days=1)
        counted += is_working_day(day)
    return dt.datetime.combine(day, local.timetz()).astimezone(start.tzinfo)


def calendar_days_after(start: dt.datetime, days: int) -> dt.datetime:
    """`days` calendar days after `start`; when that falls on a non-working day in China, the next working
    day at the same clock time (民事诉讼法: a period whose last day is a holiday ends on the first day after
    it)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from 0 to {MAX_DAYS}")
    local = _china(start) + dt.timedelta(days=days)
    day = local.date()
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, local.timetz()).astimezone(start.tzinfo)

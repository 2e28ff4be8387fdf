"""Periods (year, quarter, month, ISO week) and working days.

Working days follow China's public holidays and make-up working days (调休) from the
`chinese_calendar` package, less the admin-entered company days off. For a year the package
does not cover yet, Monday to Friday are the working days.
"""

import datetime as dt
from functools import lru_cache

import chinese_calendar
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from performance.models import CompanyDayOff, PeriodType

Period = tuple[dt.date, dt.date]

# The period type each one is split into over time.
SUB_PERIOD = {
    PeriodType.YEAR: PeriodType.QUARTER,
    PeriodType.QUARTER: PeriodType.MONTH,
    PeriodType.MONTH: PeriodType.WEEK,
}


def today() -> dt.date:
    """Today in the installation time zone."""
    return timezone.localdate()


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def period_bounds(period_type: str, day: dt.date) -> Period:
    """The period of the given type that contains `day`."""
    if period_type == PeriodType.YEAR:
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    if period_type == PeriodType.QUARTER:
        first = 3 * ((day.month - 1) // 3) + 1
        return dt.date(day.year, first, 1), _month_end(day.year, first + 2)
    if period_type == PeriodType.MONTH:
        return day.replace(day=1), _month_end(day.year, day.month)
    if period_type == PeriodType.WEEK:
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    raise ValueError(period_type)


def sub_periods(period_type: str, start: dt.date, end: dt.date) -> list[Period]:
    """The periods of the next shorter type that make up [start, end]; weeks that straddle
    the edges are cut to the days inside."""
    child_type = SUB_PERIOD[period_type]
    periods = []
    day = start
    while day <= end:
        child_start, child_end = period_bounds(child_type, day)
        periods.append((max(child_start, start), min(child_end, end)))
        day = child_end + dt.timedelta(days=1)
    return periods


def shift_year(start: dt.date, end: dt.date, years: int = -1) -> Period:
    """The same calendar period `years` years away (29 February falls back to the 28th)."""

    def move(day: dt.date) -> dt.date:
        try:
            return day.replace(year=day.year + years)
        except ValueError:
            return day.replace(year=day.year + years, day=28)

    new_start, new_end = move(start), move(end)
    # A month-end stays a month-end (28 February to 29 February in a leap year).
    if end == _month_end(end.year, end.month):
        new_end = _month_end(new_end.year, new_end.month)
    return new_start, new_end


def period_label(period_type: str, start: dt.date, end: dt.date) -> str:
    if period_type == PeriodType.YEAR:
        return str(start.year)
    if period_type == PeriodType.QUARTER:
        return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month + 2) // 3}
    if period_type == PeriodType.MONTH:
        return date_format(start, "YEAR_MONTH_FORMAT")
    year, week, _weekday = start.isocalendar()
    return _("%(year)s W%(week)02d (%(start)s–%(end)s)") % {
        "year": year,
        "week": week,
        "start": date_format(start, "SHORT_DATE_FORMAT"),
        "end": date_format(end, "SHORT_DATE_FORMAT"),
    }


@lru_cache(maxsize=64)
def _public_working_days(year: int) -> frozenset[dt.date]:
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    try:
        return frozenset(chinese_calendar.get_workdays(first, last, include_weekends=True))
    except NotImplementedError:
        # chinesecalendar raises this for a year whose holidays the State Council has not
        # published yet: count Monday to Friday until a release of the library covers it.
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        return frozenset(day for day in days if day.weekday() < 5)


def working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """The working days in [start, end], both included."""
    if end < start:
        return []
    days_off = set(
        CompanyDayOff.objects.filter(date__range=(start, end)).values_list("date", flat=True)
    )
    result = []
    for year in range(start.year, end.year + 1):
        result.extend(
            day for day in _public_working_days(year) if start <= day <= end and day not in days_off
        )
    return sorted(result)


def count_working_days(start: dt.date, end: dt.date) -> int:
    return len(working_days(start, end))


class WorkingDayCounter:
    """Counts working days for many ranges inside one span with a single query for the
    company's days off."""

    def __init__(self, start: dt.date, end: dt.date):
        self.days = working_days(start, end)

    def count(self, start: dt.date, end: dt.date) -> int:
        return sum(1 for day in self.days if start <= day <= end)

"""The demo company's targets: this year's revenue target for the whole company, decomposed
through the real services to the regions, their squads and reps, and over quarters, months
and weeks (by working days), so the planning grid, My targets and the leaderboard have
something to show on first start.

The company target is this year's won revenue so far projected over the whole year's
working days and rounded up to the next million, so some reps are ahead of pace and others
behind. Safe to run twice: nothing is added when targets already exist.
"""

from decimal import ROUND_CEILING, Decimal

from performance import periods, selectors, services
from performance.models import Metric, PerformanceSettings, PeriodType, Target
from teams.models import Role, Team, User

MILLION = Decimal("1000000")
# The target when the demo company has won nothing yet this year.
FALLBACK_TARGET = Decimal("50000000")


def _company_target(year_start, today) -> Decimal:
    won = sum(
        selectors.actuals_by_user(metric=Metric.REVENUE, start=year_start, end=today).values(),
        Decimal(0),
    )
    clock = selectors.PaceClock(year_start, year_start.replace(month=12, day=31), today)
    if not won or not clock.share:
        return FALLBACK_TARGET
    projected = won / clock.share
    return (projected / MILLION).to_integral_value(ROUND_CEILING) * MILLION


def _split_down(by: User, target: Target) -> int:
    """Splits a team target over its people and sub-teams, then every target over time down
    to weeks; returns how many targets were made."""
    made = 0
    scope_children = []
    if target.team_id:
        scope_children = services.target_decompose(by=by, target=target, split=services.SPLIT_TEAM)
        made += len(scope_children)
    time_children = services.target_decompose(by=by, target=target, split=services.SPLIT_TIME)
    made += len(time_children)
    for child in time_children:
        if child.period_type in periods.SUB_PERIOD:
            made += _split_time(by, child)
    for child in scope_children:
        made += _split_down(by, child)
    return made


def _split_time(by: User, target: Target) -> int:
    children = services.target_decompose(by=by, target=target, split=services.SPLIT_TIME)
    made = len(children)
    for child in children:
        if child.period_type in periods.SUB_PERIOD:
            made += _split_time(by, child)
    return made


def seed(log) -> dict:
    if Target.objects.exists():
        log("Performance: targets already exist; not adding demo targets.")
        return {}
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    company = Team.objects.filter(parent__isnull=True).order_by("pk").first()
    if admin is None or company is None:
        log("Performance: no demo organisation found; seed the teams first.")
        return {}
    today = periods.today()
    year_start, _end = periods.period_bounds(PeriodType.YEAR, today)
    value = _company_target(year_start, today)
    year = services.target_create(
        by=admin,
        period_type=PeriodType.YEAR,
        start=year_start,
        team=company,
        metric=Metric.REVENUE,
        value=value,
        note="公司年度收入目标 · Company revenue target",
    )
    made = 1 + _split_down(admin, year)
    settings = PerformanceSettings.load()
    settings.leaderboard_scope = PerformanceSettings.LeaderboardScope.COMPANY
    settings.save()
    log(f"Performance: a {value} revenue target for {today.year}, split into {made} targets.")
    return {}

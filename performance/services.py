"""Writes of the performance app: setting targets, decomposing them and copying last year's.

Who may write: admins any target; a manager the targets of the people and teams in the
subtrees they manage, but not their own; a rep reads their own targets only.

A target's children split it either over time ("time": same scope, the next shorter
periods: year → quarters → months → weeks, a week straddling two months cut at the month's
edge) or over the scope ("team": same period, the team's members other than its manager
and its sub-teams). Each split always sums exactly to its parent: shares are rounded to the
cent (whole units for counted metrics) downwards, and the remainder goes to the last child.

Weights: "even" (equal shares; weeks weigh their working days), "seasonal" (the scope's
actuals in the same periods last year) or "manual" (given per child). In a team split by
even or seasonal weights, a new rep gets the admin-set ramp percentage of their share in
their first months after the hire date and the rest goes to the others in proportion.
"""

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import services as customer_services
from customers.models import Account, Contact
from performance import periods
from performance.models import (
    COUNT_METRICS,
    CriterionKind,
    Expense,
    ImprovementAction,
    ImprovementPlan,
    KpiKind,
    PerformanceSettings,
    PeriodType,
    PlanCheckIn,
    RaterKind,
    Review,
    ReviewCriterion,
    ReviewCycle,
    ReviewFeedback,
    ReviewKind,
    ReviewKpi,
    Target,
)
from pipeline.models import Deal
from teams.models import Team, User, person_name
from teams.selectors import managed_team_paths, manager_of, user_can_see
from teams.services import notify, validate_assignable

SPLIT_TIME = "time"
SPLIT_TEAM = "team"
SPLITS = (SPLIT_TIME, SPLIT_TEAM)

MODE_EVEN = "even"
MODE_SEASONAL = "seasonal"
MODE_MANUAL = "manual"
MODES = (MODE_EVEN, MODE_SEASONAL, MODE_MANUAL)

CENT = Decimal("0.01")
UNIT = Decimal("1")


# Permissions


def can_set_targets(user: User) -> bool:
    return user.is_admin or Team.objects.filter(manager_id=user.pk).exists()


def scope_writable(by: User, *, user: User | None = None, team: Team | None = None) -> bool:
    if by.is_admin:
        return True
    paths = managed_team_paths(by)
    if user is not None:
        if user.pk == by.pk or not user.team_id:
            return False
        team_path = user.team.path
        return any(team_path.startswith(path) for path in paths)
    if team is not None:
        return any(team.path.startswith(path) for path in paths)
    return False


def _require_write(by: User, target: Target) -> None:
    if not scope_writable(by, user=target.user, team=target.team):
        raise PermissionDenied(_("You may not change this target."))


# Allocation


def quantum_for(metric: str) -> Decimal:
    return UNIT if metric in COUNT_METRICS else CENT


def allocate(total: Decimal, weights: list[Decimal], quantum: Decimal = CENT) -> list[Decimal]:
    """Splits `total` by `weights` into amounts rounded down to `quantum` that sum exactly
    to it; the remainder goes to the last share (the last one with a weight, so a share
    weighted zero stays zero). Weights must not all be zero."""
    weight_sum = sum(weights, Decimal(0))
    if not weights or weight_sum <= 0:
        raise ValueError("weights must have a positive sum")
    last = max(index for index, weight in enumerate(weights) if weight > 0)
    shares = [(total * weight / weight_sum).quantize(quantum, ROUND_DOWN) for weight in weights]
    shares[last] = total - sum(shares[:last] + shares[last + 1 :], Decimal(0))
    return shares


def ramp_factor(hire_date: dt.date | None, start: dt.date, end: dt.date, ramp: list) -> Decimal:
    """The share of a full target that someone hired on `hire_date` carries over [start,
    end]: the mean, over the months the period touches, of the ramp percentage of that month
    (first month after hiring → ramp[0] ...; 100% after the ramp, 0 before the hire)."""
    if hire_date is None:
        return Decimal(1)
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        number = (year - hire_date.year) * 12 + (month - hire_date.month) + 1
        if number <= 0:
            months.append(Decimal(0))
        elif number <= len(ramp):
            months.append(Decimal(ramp[number - 1]) / 100)
        else:
            months.append(Decimal(1))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return sum(months, Decimal(0)) / len(months)


def apply_ramp(weights: list[Decimal], factors: list[Decimal]) -> list[Decimal]:
    """Each ramping member keeps `factor` of their full share; what they give up goes to the
    fully ramped members in proportion to their shares (to everyone, when nobody is fully
    ramped)."""
    total = sum(weights, Decimal(0))
    if total <= 0:
        return weights
    full = [w for w, f in zip(weights, factors, strict=True) if f >= 1]
    full_total = sum(full, Decimal(0))
    if full_total <= 0:
        return [w * f for w, f in zip(weights, factors, strict=True)]
    freed = sum((w * (1 - f) for w, f in zip(weights, factors, strict=True) if f < 1), Decimal(0))
    return [
        w * f if f < 1 else w + freed * w / full_total
        for w, f in zip(weights, factors, strict=True)
    ]


# Children of a split


def _same_segment(target: Target) -> dict:
    return {
        "metric": target.metric,
        "product_category_id": target.product_category_id,
        "industry_id": target.industry_id,
        "tier": target.tier,
    }


def split_children(target: Target, split: str):
    """The existing children of one split of the target."""
    children = target.children.all()
    if split == SPLIT_TIME:
        return children.filter(user_id=target.user_id, team_id=target.team_id).exclude(
            period_type=target.period_type
        )
    return children.filter(period_type=target.period_type, start=target.start, end=target.end)


def split_of(child: Target) -> str:
    parent = child.parent
    if child.user_id == parent.user_id and child.team_id == parent.team_id:
        return SPLIT_TIME
    return SPLIT_TEAM


def scope_key(*, user_id=None, team_id=None) -> str:
    return f"user:{user_id}" if user_id else f"team:{team_id}"


def _child_key(split: str, target: Target) -> str:
    if split == SPLIT_TIME:
        return target.start.isoformat()
    return scope_key(user_id=target.user_id, team_id=target.team_id)


def team_split_rows(cursor, team: Team) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The people (active members other than the team's manager) and the direct sub-teams
    that a team target is split over, in a stable order, as (id, name) pairs: two plain
    statements on the given cursor, since the planning grid reads them on every view."""
    cursor.execute(
        f"SELECT u.id, u.username, u.first_name, u.last_name FROM {User._meta.db_table} u "
        "WHERE u.team_id = %s AND u.is_active = %s AND u.id <> %s ORDER BY u.username",
        [team.pk, True, team.manager_id or 0],
    )
    people = [
        (pk, person_name(username, first, last)) for pk, username, first, last in cursor.fetchall()
    ]
    cursor.execute(
        f"SELECT t.id, t.name FROM {Team._meta.db_table} t WHERE t.parent_id = %s "
        "ORDER BY t.name, t.id",
        [team.pk],
    )
    return people, cursor.fetchall()


def team_split_members(team: Team) -> tuple[list[User], list[Team]]:
    """The people and sub-teams of `team_split_rows`, as users and teams."""
    with connection.cursor() as cursor:
        people, sub_teams = team_split_rows(cursor, team)
    users = User.objects.in_bulk([pk for pk, _name in people])
    teams = Team.objects.in_bulk([pk for pk, _name in sub_teams])
    return [users[pk] for pk, _name in people], [teams[pk] for pk, _name in sub_teams]


def _plan_children(target: Target, split: str) -> list[dict]:
    """The children a split creates: their key, scope and period (values come later)."""
    if split == SPLIT_TIME:
        if target.period_type not in periods.SUB_PERIOD:
            raise ValidationError({"split": _("A week target cannot be split over time.")})
        child_type = periods.SUB_PERIOD[target.period_type]
        return [
            {
                "key": start.isoformat(),
                "period_type": child_type,
                "start": start,
                "end": end,
                "user": target.user,
                "team": target.team,
            }
            for start, end in periods.sub_periods(target.period_type, target.start, target.end)
        ]
    if not target.team_id:
        raise ValidationError({"split": _("Only a team target can be split over its members.")})
    people, sub_teams = team_split_members(target.team)
    if not people and not sub_teams:
        raise ValidationError({"split": _("The team has no members or sub-teams.")})
    base = {"period_type": target.period_type, "start": target.start, "end": target.end}
    return [
        *({"key": scope_key(user_id=u.pk), "user": u, "team": None, **base} for u in people),
        *({"key": scope_key(team_id=t.pk), "user": None, "team": t, **base} for t in sub_teams),
    ]


def last_year_period(target_type: str, start: dt.date, end: dt.date) -> periods.Period:
    if target_type == PeriodType.WEEK:
        # The same weekdays 52 weeks earlier.
        return start - dt.timedelta(weeks=52), end - dt.timedelta(weeks=52)
    return periods.shift_year(start, end)


def _weights(target: Target, split: str, plan: list[dict], mode: str, manual) -> list[Decimal]:
    from performance import selectors

    if mode == MODE_MANUAL:
        if not isinstance(manual, dict):
            raise ValidationError({"weights": _("Give a weight for every child.")})
        missing = [item["key"] for item in plan if item["key"] not in manual]
        if missing:
            raise ValidationError(
                {"weights": _("Weights are missing for: %(keys)s.") % {"keys": ", ".join(missing)}}
            )
        try:
            weights = [Decimal(str(manual[item["key"]])) for item in plan]
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ValidationError({"weights": _("Weights must be numbers.")}) from exc
        if any(not w.is_finite() or w < 0 for w in weights) or sum(weights) <= 0:
            raise ValidationError({"weights": _("Weights must be zero or more, and not all zero.")})
        return weights
    if mode == MODE_SEASONAL:
        weights = selectors.last_year_weights(target, plan)
        if sum(weights, Decimal(0)) <= 0:
            raise ValidationError(
                {
                    "mode": _(
                        "There are no actuals last year to weigh by; choose even or manual weights."
                    )
                }
            )
    elif split == SPLIT_TIME and target.period_type == PeriodType.MONTH:
        counter = periods.WorkingDayCounter(target.start, target.end)
        weights = [Decimal(counter.count(item["start"], item["end"])) for item in plan]
        if sum(weights) <= 0:
            weights = [Decimal(1)] * len(plan)
    else:
        weights = [Decimal(1)] * len(plan)
    if split == SPLIT_TEAM:
        ramp = PerformanceSettings.load().ramp_percentages or []
        factors = [
            ramp_factor(item["user"].hire_date, target.start, target.end, ramp)
            if item["user"]
            else Decimal(1)
            for item in plan
        ]
        weights = apply_ramp(weights, factors)
    return weights


def _edited_descendants(targets: list[Target]) -> list[Target]:
    """The hand-edited targets among `targets` and all their descendants."""
    edited = []
    level = list(targets)
    while level:
        edited.extend(t for t in level if t.hand_edited)
        level = list(
            Target.objects.filter(parent__in=[t.pk for t in level]).select_related("user", "team")
        )
    return edited


def _rescale_descendants(target: Target) -> None:
    """After a target's value changed, scales each existing split under it in proportion to
    its current values (evenly when they are all zero), so every level still sums exactly."""
    quantum = quantum_for(target.metric)
    for split in SPLITS:
        children = list(split_children(target, split).order_by("start", "pk"))
        if not children:
            continue
        weights = [child.value for child in children]
        if sum(weights, Decimal(0)) <= 0:
            weights = [Decimal(1)] * len(children)
        for child, value in zip(children, allocate(target.value, weights, quantum), strict=True):
            changed = child.value != value or child.hand_edited
            child.value = value
            child.hand_edited = False
            if changed:
                child.save(update_fields=["value", "hand_edited", "updated_at"])
                _rescale_descendants(child)


def _refuse_hand_edits(targets: list[Target]) -> None:
    """Raises a ValidationError naming the hand-edited targets among these and below them."""
    edited = _edited_descendants(targets)
    if edited:
        names = ", ".join(f"{t.scope_name} {t.period_label}" for t in edited)
        raise ValidationError(
            {
                "overwrite": _(
                    "These targets were edited by hand: %(targets)s. Confirm to replace them."
                )
                % {"targets": names}
            }
        )


@transaction.atomic
def target_decompose(
    *,
    by: User,
    target: Target,
    split: str = SPLIT_TIME,
    mode: str = MODE_EVEN,
    weights: dict | None = None,
    overwrite: bool = False,
) -> list[Target]:
    """Splits the target over time or over its team, creating or updating the children
    (children of the split that no longer apply are removed). Children entered by hand, or
    with hand-edited targets below them, are only replaced with `overwrite=True`; otherwise
    a ValidationError names them and nothing changes."""
    _require_write(by, target)
    if split not in SPLITS:
        raise ValidationError({"split": _("Choose a split: time or team.")})
    if mode not in MODES:
        raise ValidationError({"mode": _("Choose the weights: even, seasonal or manual.")})
    target = (
        Target.objects.select_for_update(of=("self",))
        .select_related("user", "team")
        .get(pk=target.pk)
    )
    plan = _plan_children(target, split)
    values = allocate(
        target.value, _weights(target, split, plan, mode, weights), quantum_for(target.metric)
    )
    existing = {
        _child_key(split, child): child
        for child in split_children(target, split).select_related("user", "team")
    }
    if not overwrite:
        _refuse_hand_edits(list(existing.values()))
    planned_keys = {item["key"] for item in plan}
    for key, child in existing.items():
        if key not in planned_keys:
            child.delete()
    children = []
    for item, value in zip(plan, values, strict=True):
        child = existing.get(item["key"])
        if child is None:
            child = Target(
                parent=target,
                period_type=item["period_type"],
                start=item["start"],
                end=item["end"],
                user=item["user"],
                team=item["team"],
                value=value,
                created_by=by,
                **_same_segment(target),
            )
            child.full_clean()
            child.save()
        else:
            child.value = value
            child.hand_edited = False
            child.save(update_fields=["value", "hand_edited", "updated_at"])
            _rescale_descendants(child)
        children.append(child)
    return children


@transaction.atomic
def target_plan_decompose(
    *, by: User, target: Target, mode: str = MODE_EVEN, overwrite: bool = False
) -> None:
    """What the planning grid's "decompose" does: a team target over its people and
    sub-teams, then each of those (or a person's target) over the next shorter periods."""
    rows = [target]
    if target.team_id:
        rows = target_decompose(
            by=by, target=target, split=SPLIT_TEAM, mode=mode, overwrite=overwrite
        )
    if target.period_type in periods.SUB_PERIOD:
        for row in rows:
            target_decompose(by=by, target=row, split=SPLIT_TIME, mode=mode, overwrite=overwrite)


# Create, update, delete


def _check_unique(target: Target) -> None:
    clash = Target.objects.filter(
        user_id=target.user_id,
        team_id=target.team_id,
        period_type=target.period_type,
        start=target.start,
        end=target.end,
        **_same_segment(target),
    ).exclude(pk=target.pk)
    if clash.exists():
        raise ValidationError(
            {"start": _("This person or team already has a target for this period and metric.")}
        )


@transaction.atomic
def target_create(
    *,
    by: User,
    period_type: str,
    start: dt.date,
    metric: str,
    value: Decimal,
    user: User | None = None,
    team: Team | None = None,
    end: dt.date | None = None,
    product_category=None,
    industry=None,
    tier: str = "",
    parent: Target | None = None,
    note: str = "",
) -> Target:
    """A new target; `end` defaults to the end of the period holding `start`."""
    if (user is None) == (team is None):
        raise ValidationError({"user": _("Set the target for one person or one team.")})
    if not scope_writable(by, user=user, team=team):
        field = "user" if user is not None else "team"
        raise ValidationError({field: _("You may set targets only for your teams' people.")})
    if parent is not None and not Target.objects.visible_to(by).filter(pk=parent.pk).exists():
        raise ValidationError({"parent": _("Choose a target you can see.")})
    if period_type in PeriodType.values and start is not None:
        bounds = periods.period_bounds(period_type, start)
        # Only a week cut at a month's edge starts elsewhere than on its first day.
        if period_type != PeriodType.WEEK or end is None:
            start = bounds[0]
        end = end or bounds[1]
    target = Target(
        period_type=period_type,
        start=start,
        end=end,
        user=user,
        team=team,
        metric=metric,
        value=value,
        product_category=product_category,
        industry=industry,
        tier=tier or "",
        parent=parent,
        note=note,
        hand_edited=parent is not None,
        created_by=by,
    )
    target.full_clean()
    _check_unique(target)
    target.save()
    return target


def split_difference(target: Target) -> dict | None:
    """How the target's split (it and its siblings) compares with the parent: their sum, the
    parent's value and the difference (sum − parent); None for a target without parent."""
    if not target.parent_id:
        return None
    parent = target.parent
    siblings = split_children(parent, split_of(target))
    total = sum((t.value for t in siblings), Decimal(0))
    return {
        "parent": parent.pk,
        "parent_value": parent.value,
        "children_total": total,
        "difference": total - parent.value,
    }


@transaction.atomic
def target_update(
    *, by: User, target: Target, value: Decimal | None = None, note: str | None = None
) -> dict:
    """Changes the value (marking the target as edited by hand) or the note. Returns the
    target and how its split now compares with the parent (see split_difference)."""
    _require_write(by, target)
    target = (
        Target.objects.select_for_update(of=("self",)).select_related("parent").get(pk=target.pk)
    )
    fields = ["updated_at"]
    if value is not None and value != target.value:
        target.value = value
        target.hand_edited = True
        fields += ["value", "hand_edited"]
    if note is not None:
        target.note = note
        fields.append("note")
    target.full_clean()
    target.save(update_fields=fields)
    return {"target": target, "difference": split_difference(target)}


@transaction.atomic
def target_set_values(*, by: User, values: dict[int, Decimal]) -> list[dict]:
    """Several values at once (the planning grid): each changed one is edited by hand."""
    targets = Target.objects.select_for_update(of=("self",)).select_related(
        "user", "user__team", "team"
    )
    targets = {t.pk: t for t in targets.filter(pk__in=list(values))}
    if set(targets) != set(values):
        raise Http404
    changed = []
    for pk, value in values.items():
        target = targets[pk]
        _require_write(by, target)
        if value < 0:
            raise ValidationError({"value": _("A target cannot be negative.")})
        if value != target.value:
            target.value = value
            target.hand_edited = True
            target.save(update_fields=["value", "hand_edited", "updated_at"])
            changed.append(target)
    return changed


@transaction.atomic
def target_delete(*, by: User, target: Target) -> None:
    """Deletes the target and the targets split from it."""
    _require_write(by, target)
    target.delete()


# Copy from last year


def last_year_equivalent(target: Target) -> Target | None:
    start, end = last_year_period(target.period_type, target.start, target.end)
    return (
        Target.objects.filter(
            user_id=target.user_id,
            team_id=target.team_id,
            period_type=target.period_type,
            start=start,
            end=end,
            **_same_segment(target),
        )
        .order_by("pk")
        .first()
    )


def _copy_tree(by: User, source: Target, target: Target, overwrite: bool) -> None:
    """Gives `target` the splits `source` had, with last year's values, level by level."""
    for split in SPLITS:
        old_children = list(split_children(source, split).order_by("start", "pk"))
        if not old_children:
            continue
        if split == SPLIT_TIME and target.period_type == PeriodType.MONTH:
            # Weeks do not line up from one year to the next: split by this year's working days.
            target_decompose(by=by, target=target, split=split, overwrite=overwrite)
            continue
        plan = _plan_children(target, split)
        old_by_key = {}
        for child in old_children:
            if split == SPLIT_TIME:
                shifted = periods.shift_year(child.start, child.end, years=1)[0]
                old_by_key[shifted.isoformat()] = child
            else:
                old_by_key[_child_key(split, child)] = child
        matched = [old_by_key.get(item["key"]) for item in plan]
        weights = {
            item["key"]: (old.value if old else 0) for item, old in zip(plan, matched, strict=True)
        }
        if sum(weights.values()) <= 0:
            continue
        children = target_decompose(
            by=by,
            target=target,
            split=split,
            mode=MODE_MANUAL,
            weights=weights,
            overwrite=overwrite,
        )
        for child, old in zip(children, matched, strict=True):
            if old is not None:
                _copy_tree(by, old, child, overwrite)


@transaction.atomic
def target_copy_from_last_year(*, by: User, target: Target, overwrite: bool = False) -> Target:
    """Gives the target last year's value for the same scope, metric and period, and
    rebuilds its splits with last year's shares (people who left are dropped and their
    shares spread over the others, people who joined since get nothing; months are split
    into weeks by this year's working days). Hand edits below the target are replaced only
    with `overwrite=True`."""
    _require_write(by, target)
    source = last_year_equivalent(target)
    if source is None:
        raise ValidationError({"start": _("There is no target for the same period last year.")})
    if not overwrite:
        _refuse_hand_edits(list(target.children.all().select_related("user", "team")))
    target.value = source.value
    target.save(update_fields=["value", "updated_at"])
    _copy_tree(by, source, target, overwrite=True)
    return target


# Reviews, 360 feedback and improvement plans
#
# Scoring (each line scores 0-100, see performance.selectors.score_kpi):
# - higher-is-better KPIs (attainment %, new customers, win rate, average deal size,
#   interactions, satisfaction) score value / target × 100, capped at 100;
# - the expense-to-revenue ratio scores 100 up to its target and target / value × 100 above;
# - a criterion scores its level × 20 (level 1 = 20 ... level 5 = 100);
# - a line with no data (no revenue target, no closed deal, no customer answer) gets no score
#   and its weight is shared out over the scored lines: overall = Σ weight × score / Σ weight.

FEEDBACK_SALT = "performance.review-feedback"
FEEDBACK_LINK_MAX_AGE = dt.timedelta(days=30)

# Default template: (KPI, weight, target per review kind: monthly, quarterly, annual).
DEFAULT_KPIS = [
    (KpiKind.ATTAINMENT, 30, (100, 100, 100)),
    (KpiKind.NEW_CUSTOMERS, 10, (1, 3, 12)),
    (KpiKind.WIN_RATE, 10, (30, 30, 30)),
    (KpiKind.AVERAGE_DEAL, 5, (100000, 100000, 100000)),
    (KpiKind.INTERACTIONS, 5, (40, 120, 480)),
    (KpiKind.SATISFACTION, 5, (4, 4, 4)),
    (KpiKind.EXPENSE_RATIO, 5, (5, 5, 5)),
]
DEFAULT_CRITERIA = [
    (CriterionKind.TEAMWORK, 6),
    (CriterionKind.ATTITUDE, 6),
    (CriterionKind.PRODUCT_KNOWLEDGE, 6),
    (CriterionKind.SELLING_SKILLS, 6),
    (CriterionKind.CUSTOMER_FOCUS, 6),
]
REVIEW_KIND_INDEX = {ReviewKind.MONTHLY: 0, ReviewKind.QUARTERLY: 1, ReviewKind.ANNUAL: 2}


def criterion_levels(kind: str) -> list[str]:
    """What levels 1-5 of a criterion mean, in the current language."""
    levels = {
        CriterionKind.TEAMWORK: [
            _("Works alone and holds back information."),
            _("Helps when asked."),
            _("Shares leads and knowledge with the team."),
            _("Helps colleagues close and coaches newcomers."),
            _("Makes the whole team stronger; others seek them out."),
        ],
        CriterionKind.ATTITUDE: [
            _("Often misses commitments; discouraged by setbacks."),
            _("Keeps most commitments; needs pushing."),
            _("Reliable and positive."),
            _("Takes ownership and keeps going after setbacks."),
            _("Sets the tone for the team under pressure."),
        ],
        CriterionKind.PRODUCT_KNOWLEDGE: [
            _("Cannot explain the main products."),
            _("Knows the basics; escalates most questions."),
            _("Answers customers' usual questions alone."),
            _("Handles technical questions and competitor comparisons."),
            _("The team's reference on products and competitors."),
        ],
        CriterionKind.SELLING_SKILLS: [
            _("Struggles to qualify or move deals."),
            _("Follows the process with help."),
            _("Qualifies, presents and closes on their own."),
            _("Handles objections and negotiates well; large deals."),
            _("Wins complex deals and teaches others how."),
        ],
        CriterionKind.CUSTOMER_FOCUS: [
            _("Customers complain about follow-through."),
            _("Responds, but late or incompletely."),
            _("Responsive; understands the customer's needs."),
            _("Anticipates needs; customers ask for them."),
            _("Trusted advisor; customers refer others."),
        ],
    }
    return [str(text) for text in levels[kind]]


def default_cycle_template(kind: str) -> tuple[list[dict], list[dict]]:
    index = REVIEW_KIND_INDEX.get(kind, 1)
    kpis = [
        {"kind": kpi, "weight": weight, "target": Decimal(targets[index])}
        for kpi, weight, targets in DEFAULT_KPIS
    ]
    criteria = [{"kind": criterion, "weight": weight} for criterion, weight in DEFAULT_CRITERIA]
    return kpis, criteria


def can_manage_cycles(user: User) -> bool:
    return user.is_authenticated and (user.is_admin or Team.objects.filter(manager=user).exists())


def _require_team_manager(by: User, team: Team) -> None:
    if by.is_admin:
        return
    if not any(team.path.startswith(path) for path in managed_team_paths(by)):
        raise PermissionDenied(_("You can only run reviews for the teams you manage."))


def can_manage_review(user: User, review: Review) -> bool:
    """The reviewer, and anyone who sees the reviewee from above, scores and manages a
    review; the reviewee never does."""
    if user.pk == review.reviewee_id:
        return False
    return user.pk == review.reviewer_id or user_can_see(user, review.reviewee)


def _require_review_manager(by: User, review: Review) -> None:
    if not can_manage_review(by, review):
        raise PermissionDenied(_("Only the reviewer or a manager above them can do this."))


def _unique_lines(lines, kinds, errors: dict, field: str, message: str):
    """(order, line) for each template line of a known kind not given before; the others
    add `message` to errors[field]."""
    seen: set[str] = set()
    for order, line in enumerate(lines or []):
        kind = line.get("kind")
        if kind not in kinds or kind in seen:
            errors.setdefault(field, []).append(message)
            continue
        seen.add(kind)
        yield order, line


def _template_lines(kpis, criteria) -> tuple[list[ReviewKpi], list[ReviewCriterion]]:
    """Validates a cycle template: known kinds, no repeats, weights summing to 100."""
    errors: dict[str, list[str]] = {}
    kpi_rows = [
        ReviewKpi(
            kind=line["kind"], weight=line.get("weight"), target=line.get("target"), order=order
        )
        for order, line in _unique_lines(
            kpis, KpiKind.values, errors, "kpis", _("Each KPI can appear once.")
        )
    ]
    criterion_rows = [
        ReviewCriterion(
            kind=line["kind"],
            weight=line.get("weight"),
            levels=line.get("levels") or criterion_levels(line["kind"]),
            order=order,
        )
        for order, line in _unique_lines(
            criteria, CriterionKind.values, errors, "criteria", _("Each criterion can appear once.")
        )
    ]
    for row in [*kpi_rows, *criterion_rows]:
        try:
            row.full_clean(exclude=["cycle"])
        except ValidationError as error:
            field = "kpis" if isinstance(row, ReviewKpi) else "criteria"
            for messages in error.message_dict.values():
                errors.setdefault(field, []).extend(messages)
    if not criterion_rows and "criteria" not in errors:
        errors["criteria"] = [_("Choose at least one qualitative criterion.")]
    total = sum(row.weight or 0 for row in [*kpi_rows, *criterion_rows])
    if not errors and total != 100:
        errors["weights"] = [
            _("The weights add up to %(total)s; they must add up to 100.") % {"total": total}
        ]
    if errors:
        raise ValidationError(errors)
    return kpi_rows, criterion_rows


def _save_template(cycle: ReviewCycle, kpis, criteria) -> None:
    kpi_rows, criterion_rows = _template_lines(kpis, criteria)
    cycle.kpis.all().delete()
    cycle.criteria.all().delete()
    for row in [*kpi_rows, *criterion_rows]:
        row.cycle = cycle
    ReviewKpi.objects.bulk_create(kpi_rows)
    ReviewCriterion.objects.bulk_create(criterion_rows)


@transaction.atomic
def cycle_create(
    *,
    by: User,
    name: str,
    kind: str,
    start: dt.date,
    end: dt.date,
    team: Team,
    kpis: list[dict] | None = None,
    criteria: list[dict] | None = None,
) -> ReviewCycle:
    """A draft cycle; without a template it gets the default KPI lines and criteria."""
    _require_team_manager(by, team)
    cycle = ReviewCycle(name=name, kind=kind, start=start, end=end, team=team, created_by=by)
    cycle.full_clean()
    if kpis is None and criteria is None:
        kpis, criteria = default_cycle_template(kind)
    _template_lines(kpis, criteria)
    cycle.save()
    _save_template(cycle, kpis, criteria)
    return cycle


@transaction.atomic
def cycle_update(
    *, by: User, cycle: ReviewCycle, kpis=None, criteria=None, **fields
) -> ReviewCycle:
    """Changes a draft cycle; its template is fixed once the cycle opens."""
    cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
    _require_team_manager(by, cycle.team)
    if fields.get("team") is not None:
        _require_team_manager(by, fields["team"])
    if cycle.status != ReviewCycle.Status.DRAFT:
        raise ValidationError(_("Only a draft cycle can be changed."))
    unknown = set(fields) - {"name", "kind", "start", "end", "team"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in fields.items():
        setattr(cycle, name, value)
    cycle.full_clean()
    cycle.save()
    if kpis is not None or criteria is not None:
        current_kpis = [
            {"kind": k.kind, "weight": k.weight, "target": k.target} for k in cycle.kpis.all()
        ]
        current_criteria = [
            {"kind": c.kind, "weight": c.weight, "levels": c.levels} for c in cycle.criteria.all()
        ]
        _save_template(
            cycle,
            current_kpis if kpis is None else kpis,
            current_criteria if criteria is None else criteria,
        )
    return cycle


@transaction.atomic
def cycle_delete(*, by: User, cycle: ReviewCycle) -> None:
    _require_team_manager(by, cycle.team)
    if cycle.status != ReviewCycle.Status.DRAFT:
        raise ValidationError(_("Only a draft cycle can be deleted."))
    cycle.delete()


@transaction.atomic
def cycle_open(*, by: User, cycle: ReviewCycle) -> int:
    """Opens the cycle: one review per active person of the team subtree, reviewed by their
    manager. Safe to run again: people who joined since get theirs, nobody gets two.
    Returns the number of reviews created."""
    cycle = ReviewCycle.objects.select_for_update().select_related("team").get(pk=cycle.pk)
    _require_team_manager(by, cycle.team)
    if cycle.status == ReviewCycle.Status.CLOSED:
        raise ValidationError(_("This cycle is closed."))
    existing = set(cycle.reviews.values_list("reviewee_id", flat=True))
    participants = (
        User.objects.filter(is_active=True, team__path__startswith=cycle.team.path)
        .exclude(pk__in=existing)
        .select_related("team")
        .order_by("pk")
    )
    reviews = [
        Review(cycle=cycle, reviewee=person, reviewer=manager_of(person)) for person in participants
    ]
    Review.objects.bulk_create(reviews)
    if cycle.status == ReviewCycle.Status.DRAFT:
        cycle.status = ReviewCycle.Status.OPEN
        cycle.opened_at = timezone.now()
        cycle.save(update_fields=["status", "opened_at", "updated_at"])
    link = reverse("performance:cycle_detail", args=[cycle.pk])
    for reviewer_id in {review.reviewer_id for review in reviews if review.reviewer_id}:
        notify(
            recipient=User.objects.get(pk=reviewer_id),
            title=_("Reviews to write: %(cycle)s") % {"cycle": cycle.name},
            link=link,
            kind="review",
        )
    return len(reviews)


def _period_over(cycle: ReviewCycle, today: dt.date | None) -> bool:
    return (today or periods.today()) > cycle.end


def _fill_kpis(cycle: ReviewCycle, reviews: list[Review]) -> None:
    from performance import selectors

    if not reviews:
        return
    values = selectors.review_kpi_values(cycle=cycle, reviews=reviews)
    now = timezone.now()
    for review in reviews:
        review.kpi_results = values[review.pk]
        review.kpis_filled_at = now
        review.updated_at = now
    Review.objects.bulk_update(reviews, ["kpi_results", "kpis_filled_at", "updated_at"])


@transaction.atomic
def cycle_fill_kpis(*, by: User, cycle: ReviewCycle, today: dt.date | None = None) -> int:
    """Fills the KPI values of the reviews still in draft from the data, once the period is
    over; submitted reviews keep the values they were submitted with."""
    cycle = ReviewCycle.objects.select_for_update().select_related("team").get(pk=cycle.pk)
    _require_team_manager(by, cycle.team)
    if cycle.status != ReviewCycle.Status.OPEN:
        raise ValidationError(_("KPIs are filled while the cycle is open."))
    if not _period_over(cycle, today):
        raise ValidationError(_("KPIs can be filled once the period is over."))
    reviews = list(cycle.reviews.filter(status=Review.Status.DRAFT))
    _fill_kpis(cycle, reviews)
    return len(reviews)


@transaction.atomic
def cycle_close(*, by: User, cycle: ReviewCycle, today: dt.date | None = None) -> ReviewCycle:
    """Closes the cycle: the draft reviews' KPIs are filled one last time and every review's
    KPI values are frozen from then on."""
    cycle = ReviewCycle.objects.select_for_update().select_related("team").get(pk=cycle.pk)
    _require_team_manager(by, cycle.team)
    if cycle.status != ReviewCycle.Status.OPEN:
        raise ValidationError(_("Only an open cycle can be closed."))
    if not _period_over(cycle, today):
        raise ValidationError(_("A cycle can be closed once its period is over."))
    _fill_kpis(cycle, list(cycle.reviews.filter(status=Review.Status.DRAFT)))
    cycle.status = ReviewCycle.Status.CLOSED
    cycle.closed_at = timezone.now()
    cycle.save(update_fields=["status", "closed_at", "updated_at"])
    return cycle


def _clean_scores(cycle: ReviewCycle, scores, *, complete: bool) -> dict[str, int]:
    if not isinstance(scores, dict):
        raise ValidationError({"criteria_scores": _("Give a level from 1 to 5 per criterion.")})
    kinds = [criterion.kind for criterion in cycle.criteria.all()]
    errors = {}
    cleaned = {}
    for kind, level in scores.items():
        if kind not in kinds:
            errors[kind] = _("This criterion is not part of the review.")
        elif level in (None, ""):
            continue
        elif isinstance(level, bool) or str(level) not in {"1", "2", "3", "4", "5"}:
            errors[kind] = _("Give a level from 1 to 5.")
        else:
            cleaned[kind] = int(level)
    if complete:
        for kind in kinds:
            if kind not in cleaned and kind not in errors:
                errors[kind] = _("Score this criterion from 1 to 5.")
    if errors:
        raise ValidationError({"criteria_scores": [f"{k}: {v}" for k, v in errors.items()]})
    return cleaned


def _lock_review(review: Review) -> Review:
    return (
        Review.objects.select_for_update(of=("self",))
        .select_related("cycle", "reviewee", "reviewer")
        .get(pk=review.pk)
    )


@transaction.atomic
def review_save(
    *,
    by: User,
    review: Review,
    criteria_scores: dict | None = None,
    strengths: str | None = None,
    improvements: str | None = None,
) -> Review:
    """Saves the reviewer's draft scores and notes without submitting."""
    review = _lock_review(review)
    _require_review_manager(by, review)
    if review.status != Review.Status.DRAFT:
        raise ValidationError(_("This review has been submitted and can no longer change."))
    if criteria_scores is not None:
        review.criteria_scores = _clean_scores(review.cycle, criteria_scores, complete=False)
    if strengths is not None:
        review.strengths = strengths
    if improvements is not None:
        review.improvements = improvements
    review.save()
    return review


@transaction.atomic
def review_submit(
    *,
    by: User,
    review: Review,
    criteria_scores: dict,
    strengths: str = "",
    improvements: str = "",
    today: dt.date | None = None,
) -> Review:
    """The reviewer scores every criterion 1-5 and submits: the KPI values (filled now if
    they were not yet) and the overall score are frozen, and the reviewee is told."""
    from performance import selectors

    review = _lock_review(review)
    _require_review_manager(by, review)
    if review.status != Review.Status.DRAFT:
        raise ValidationError(_("This review has already been submitted."))
    if review.cycle.status == ReviewCycle.Status.DRAFT:
        raise ValidationError(_("The cycle has not been opened."))
    if not _period_over(review.cycle, today):
        raise ValidationError(_("A review can be submitted once its period is over."))
    review.criteria_scores = _clean_scores(review.cycle, criteria_scores, complete=True)
    review.strengths = strengths
    review.improvements = improvements
    if review.kpis_filled_at is None:
        _fill_kpis(review.cycle, [review])
    review.overall_score = selectors.review_breakdown(review)["overall"]
    review.status = Review.Status.SUBMITTED
    review.submitted_at = timezone.now()
    review.save()
    notify(
        recipient=review.reviewee,
        title=_("Your review for %(cycle)s is ready") % {"cycle": review.cycle.name},
        link=reverse("performance:review_detail", args=[review.pk]),
        kind="review",
    )
    return review


@transaction.atomic
def review_acknowledge(*, by: User, review: Review, comment: str = "") -> Review:
    """The reviewee has read their submitted review, with an optional comment."""
    review = _lock_review(review)
    if by.pk != review.reviewee_id:
        raise PermissionDenied(_("Only the person reviewed can acknowledge the review."))
    if review.status != Review.Status.SUBMITTED:
        raise ValidationError(_("Only a submitted review can be acknowledged."))
    review.reviewee_comment = comment
    review.status = Review.Status.ACKNOWLEDGED
    review.acknowledged_at = timezone.now()
    review.save()
    if review.reviewer_id:
        notify(
            recipient=review.reviewer,
            title=_("%(person)s acknowledged their review") % {"person": review.reviewee},
            link=reverse("performance:review_detail", args=[review.pk]),
            kind="review",
        )
    return review


def feedback_token(feedback: ReviewFeedback) -> str:
    """The signed token of a customer's no-login feedback link."""
    return signing.dumps(feedback.pk, salt=FEEDBACK_SALT, compress=True)


def feedback_link(feedback: ReviewFeedback) -> str:
    path = reverse("performance:customer_feedback", args=[feedback_token(feedback)])
    return f"{settings.SITE_URL.rstrip('/')}{path}"


@transaction.atomic
def feedback_invite(
    *,
    by: User,
    review: Review,
    rater_kind: str,
    rater: User | None = None,
    contact: Contact | None = None,
) -> ReviewFeedback:
    """Asks a rater for 360 feedback on the review: the reviewee themselves, a manager, a
    peer, a subordinate (someone the reviewee manages) or a customer contact (who answers
    through a signed link, see feedback_link)."""
    review = _lock_review(review)
    _require_review_manager(by, review)
    if review.cycle.status == ReviewCycle.Status.CLOSED:
        raise ValidationError(_("This cycle is closed."))
    if rater_kind not in RaterKind.values:
        raise ValidationError({"rater_kind": _("Choose who gives the feedback.")})
    if rater_kind == RaterKind.SELF:
        rater = rater or review.reviewee
    if rater_kind == RaterKind.CUSTOMER:
        if contact is None:
            raise ValidationError({"contact": _("Choose the customer contact to ask.")})
        if not Contact.objects.visible_to(by).filter(pk=contact.pk).exists():
            raise ValidationError({"contact": _("You cannot see this contact.")})
        rater = None
    else:
        contact = None
        if rater is None:
            raise ValidationError({"rater": _("Choose the person to ask.")})
        if rater_kind == RaterKind.SELF and rater.pk != review.reviewee_id:
            raise ValidationError({"rater": _("Self feedback comes from the person reviewed.")})
        if rater_kind != RaterKind.SELF and rater.pk == review.reviewee_id:
            raise ValidationError({"rater": _("Ask the person reviewed as “self”.")})
        if rater_kind != RaterKind.SELF:
            validate_assignable(by=by, user=rater, field="rater")
        if rater_kind == RaterKind.SUBORDINATE and not (
            user_can_see(review.reviewee, rater) and rater.pk != review.reviewee_id
        ):
            raise ValidationError({"rater": _("This person does not report to the reviewee.")})
    feedback = ReviewFeedback(
        review=review, rater_kind=rater_kind, rater=rater, contact=contact, invited_by=by
    )
    feedback.full_clean()
    feedback.save()
    if rater is not None:
        notify(
            recipient=rater,
            title=_("Feedback requested on %(person)s") % {"person": review.reviewee},
            link=reverse("performance:feedback_answer", args=[feedback.pk]),
            kind="review_feedback",
        )
    return feedback


@transaction.atomic
def feedback_answer(
    *, by: User | None, feedback: ReviewFeedback, answers: dict, comment: str = ""
) -> ReviewFeedback:
    """Records a rater's answers (a level 1-5 for every criterion of the cycle) once; a
    customer answers with `by` None through the signed link."""
    feedback = (
        ReviewFeedback.objects.select_for_update(of=("self",))
        .select_related("review__cycle")
        .get(pk=feedback.pk)
    )
    if feedback.rater_id is not None and (by is None or by.pk != feedback.rater_id):
        raise PermissionDenied(_("This feedback was asked of someone else."))
    if feedback.rater_id is None and by is not None:
        raise PermissionDenied(_("Customers answer through their own link."))
    if feedback.answered_at is not None:
        raise ValidationError(_("This feedback has already been given."))
    if feedback.review.cycle.status == ReviewCycle.Status.CLOSED:
        raise ValidationError(_("This review cycle is closed."))
    try:
        feedback.answers = _clean_scores(feedback.review.cycle, answers, complete=True)
    except ValidationError as error:
        raise ValidationError({"answers": error.message_dict["criteria_scores"]}) from error
    feedback.comment = comment
    feedback.answered_at = timezone.now()
    feedback.save()
    return feedback


def can_manage_plan(user: User, plan: ImprovementPlan) -> bool:
    return user.pk != plan.person_id and (
        user.pk == plan.owner_id or user_can_see(user, plan.person)
    )


def _require_plan_manager(by: User, plan: ImprovementPlan) -> None:
    if not can_manage_plan(by, plan):
        raise PermissionDenied(_("Only the person's managers can change this plan."))


@transaction.atomic
def plan_create(
    *,
    by: User,
    goals: str,
    start: dt.date,
    end: dt.date,
    person: User | None = None,
    review: Review | None = None,
    owner: User | None = None,
    status: str = ImprovementPlan.Status.DRAFT,
) -> ImprovementPlan:
    """A plan for one person, from their review or on its own; its owner is a manager."""
    if review is not None:
        if not can_manage_review(by, review):
            raise PermissionDenied(_("Only the reviewer or a manager above them can do this."))
        person = review.reviewee
    if person is None:
        raise ValidationError({"person": _("Choose the person the plan is for.")})
    if person.pk == by.pk or not user_can_see(by, person):
        raise PermissionDenied(_("You can only make plans for the people you manage."))
    owner = owner or by
    if owner.pk == person.pk:
        raise ValidationError({"owner": _("The person cannot own their own plan.")})
    validate_assignable(by=by, user=owner, field="owner")
    plan = ImprovementPlan(
        review=review,
        person=person,
        owner=owner,
        goals=goals,
        start=start,
        end=end,
        status=status,
    )
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def plan_update(*, by: User, plan: ImprovementPlan, **fields) -> ImprovementPlan:
    plan = ImprovementPlan.objects.select_for_update().select_related("person").get(pk=plan.pk)
    _require_plan_manager(by, plan)
    unknown = set(fields) - {"goals", "status", "start", "end", "owner"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    if fields.get("owner") is not None and fields["owner"].pk != plan.owner_id:
        validate_assignable(by=by, user=fields["owner"], field="owner")
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    plan.save()
    return plan


def _at_nine(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=timezone.get_current_timezone())


@transaction.atomic
def plan_add_action(
    *,
    by: User,
    plan: ImprovementPlan,
    description: str,
    owner: User,
    due: dt.date,
    account: Account | None = None,
) -> ImprovementAction:
    """Adds an action with its owner (the person or someone the writer sees) and due date.
    An action about an account becomes a follow-up of its owner on that account, due at
    9:00 on the due date; any other action is reminded to its owner when it falls due."""
    plan = ImprovementPlan.objects.select_for_update().select_related("person").get(pk=plan.pk)
    _require_plan_manager(by, plan)
    if plan.status in (ImprovementPlan.Status.COMPLETED, ImprovementPlan.Status.CANCELLED):
        raise ValidationError(_("This plan is finished."))
    validate_assignable(by=by, user=owner, field="owner")
    action = ImprovementAction(
        plan=plan, description=description, owner=owner, due=due, account=account
    )
    action.full_clean()
    if account is not None:
        if not Account.objects.visible_to(owner).filter(pk=account.pk).exists():
            raise ValidationError({"account": _("The action's owner cannot see this account.")})
        action.followup = customer_services.followup_create(
            by=by,
            account=account,
            title=description,
            due_at=_at_nine(due),
            assignee=owner,
            note=_("Improvement plan for %(person)s") % {"person": plan.person},
        )
    action.save()
    if owner.pk != by.pk:
        notify(
            recipient=owner,
            title=_("New improvement action due %(due)s: %(action)s")
            % {"due": due.isoformat(), "action": description},
            link=reverse("performance:plan_detail", args=[plan.pk]),
            kind="improvement_plan",
        )
    return action


@transaction.atomic
def action_set_done(*, by: User, action: ImprovementAction, done: bool = True):
    """The action's owner, the plan's person or their managers mark it done (its follow-up
    too) or not done."""
    action = (
        ImprovementAction.objects.select_for_update(of=("self",))
        .select_related("plan__person", "followup")
        .get(pk=action.pk)
    )
    if by.pk not in (action.owner_id, action.plan.person_id) and not can_manage_plan(
        by, action.plan
    ):
        raise PermissionDenied(_("You cannot change this action."))
    action.done = done
    action.done_at = timezone.now() if done else None
    action.save(update_fields=["done", "done_at", "updated_at"])
    followup = action.followup
    if done and followup is not None and followup.status == followup.Status.OPEN:
        customer_services.followup_complete(by=None, followup=followup)
    return action


@transaction.atomic
def plan_check_in(*, by: User, plan: ImprovementPlan, date: dt.date, note: str) -> PlanCheckIn:
    if by.pk != plan.person_id and not can_manage_plan(by, plan):
        raise PermissionDenied(_("You cannot add a check-in to this plan."))
    check_in = PlanCheckIn(plan=plan, date=date, note=note, by=by)
    check_in.full_clean()
    check_in.save()
    return check_in


def remind_due_improvement_actions(*, today: dt.date | None = None) -> int:
    """Tells each owner of an open action without a follow-up that it is due, once: the row
    is claimed by a conditional UPDATE, so a second run sends nothing."""
    today = today or periods.today()
    due = ImprovementAction.objects.filter(
        done=False,
        reminded_at__isnull=True,
        followup__isnull=True,
        due__lte=today,
        plan__status=ImprovementPlan.Status.ACTIVE,
    ).select_related("owner", "plan")
    sent = 0
    for action in due:
        with transaction.atomic():
            claimed = ImprovementAction.objects.filter(
                pk=action.pk, reminded_at__isnull=True
            ).update(reminded_at=timezone.now())
            if not claimed:
                continue
            notify(
                recipient=action.owner,
                title=_("Improvement action due: %(action)s") % {"action": action.description},
                link=reverse("performance:plan_detail", args=[action.plan_id]),
                kind="improvement_plan",
            )
            sent += 1
    return sent


# Expenses


def can_decide_expense(user: User, expense: Expense) -> bool:
    """A manager who sees the submitter (or an admin) approves; never the submitter."""
    return user.pk != expense.user_id and user_can_see(user, expense.user)


def _check_expense_links(by: User, account: Account | None, deal) -> None:
    if account is not None and not Account.objects.visible_to(by).filter(pk=account.pk).exists():
        raise ValidationError({"account": _("You cannot see this account.")})
    if deal is not None and not Deal.objects.visible_to(by).filter(pk=deal.pk).exists():
        raise ValidationError({"deal": _("You cannot see this deal.")})


EXPENSE_FIELDS = {"date", "category", "amount", "account", "deal", "note", "receipt"}


@transaction.atomic
def expense_submit(
    *,
    by: User,
    date: dt.date,
    category: str,
    amount: Decimal,
    account: Account | None = None,
    deal=None,
    note: str = "",
    receipt=None,
) -> Expense:
    _check_expense_links(by, account, deal)
    if deal is not None and account is None:
        account = deal.account
    expense = Expense(
        user=by,
        date=date,
        category=category,
        amount=amount,
        account=account,
        deal=deal,
        note=note,
        receipt=receipt or "",
    )
    expense.full_clean()
    expense.save()
    return expense


@transaction.atomic
def expense_update(*, by: User, expense: Expense, **fields) -> Expense:
    """The submitter changes an expense until it is decided."""
    expense = Expense.objects.select_for_update().get(pk=expense.pk)
    if by.pk != expense.user_id:
        raise PermissionDenied(_("Only the person who spent it can change an expense."))
    if expense.status != Expense.Status.SUBMITTED:
        raise ValidationError(_("This expense has been decided and can no longer change."))
    unknown = set(fields) - EXPENSE_FIELDS
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    _check_expense_links(by, fields.get("account"), fields.get("deal"))
    for name, value in fields.items():
        setattr(expense, name, value)
    expense.full_clean()
    expense.save()
    return expense


@transaction.atomic
def expense_withdraw(*, by: User, expense: Expense) -> None:
    if by.pk != expense.user_id:
        raise PermissionDenied(_("Only the person who spent it can withdraw an expense."))
    if expense.status != Expense.Status.SUBMITTED:
        raise ValidationError(_("This expense has been decided and can no longer change."))
    expense.delete()


@transaction.atomic
def _expense_decide(*, by: User, expense: Expense, status: str, reason: str = "") -> Expense:
    expense = (
        Expense.objects.select_for_update(of=("self",)).select_related("user").get(pk=expense.pk)
    )
    if not can_decide_expense(by, expense):
        raise PermissionDenied(_("Only a manager of the person who spent it can decide."))
    if expense.status != Expense.Status.SUBMITTED:
        raise ValidationError(_("This expense has already been decided."))
    expense.status = status
    expense.decided_by = by
    expense.decided_at = timezone.now()
    expense.rejection_reason = reason
    expense.save()
    if status == Expense.Status.APPROVED:
        title = _("Expense approved: %(amount)s on %(date)s")
    else:
        title = _("Expense rejected: %(amount)s on %(date)s")
    notify(
        recipient=expense.user,
        title=title % {"amount": expense.amount, "date": expense.date.isoformat()},
        body=reason,
        link=reverse("performance:expense_list"),
        kind="expense",
    )
    return expense


def expense_approve(*, by: User, expense: Expense) -> Expense:
    return _expense_decide(by=by, expense=expense, status=Expense.Status.APPROVED)


def expense_reject(*, by: User, expense: Expense, reason: str) -> Expense:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the expense is rejected.")})
    return _expense_decide(by=by, expense=expense, status=Expense.Status.REJECTED, reason=reason)

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

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from performance import periods
from performance.models import (
    COUNT_METRICS,
    PerformanceSettings,
    PeriodType,
    Target,
)
from teams.models import Team, User
from teams.selectors import managed_team_paths

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


def team_split_members(team: Team) -> tuple[list[User], list[Team]]:
    """The people (active members other than the team's manager) and the direct sub-teams
    that a team target is split over, in a stable order."""
    people = list(
        User.objects.filter(team=team, is_active=True)
        .exclude(pk=team.manager_id or 0)
        .order_by("username")
    )
    sub_teams = list(Team.objects.filter(parent=team).order_by("name", "pk"))
    return people, sub_teams


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
        if period_type != PeriodType.WEEK:
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

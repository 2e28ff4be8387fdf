"""Writes of the incentives app: plans and rules (admins), deal credits and costs, statements
(compute, approve, mark paid) and disputes.

A draft statement is rebuilt from the data every time it is computed: its lines are matched
by their source (a deal and rule, a bonus, a dispute, a correction) and updated in place,
so computing twice gives the same lines. An approved or paid statement is never written
again. When something a frozen statement paid on changes later (a deal reopened, lost after
being won, its amount or credits changed), the frozen period is computed again as it would
be now, with the target it was approved with, and the difference from what frozen
statements already paid for it becomes an adjustment (or, when nothing is due any more, a
clawback) line in the person's next draft statement.
"""

import csv
import datetime as dt
import gc
import hashlib
import io
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incentives import selectors
from incentives.calculator import LineDraft, anniversary, cents, money_text, period_lines
from incentives.models import (
    Award,
    AwardKind,
    BonusRule,
    CommissionPlan,
    CommissionRule,
    CommissionTier,
    Contest,
    DealCost,
    DealCredit,
    Dispute,
    Kudos,
    LineKind,
    RecognitionSettings,
    Statement,
    StatementLine,
)
from performance import periods
from pipeline.models import Deal
from pipeline.services import can_edit_deal
from teams.models import LadderLevel, Team, User
from teams.selectors import manager_of, user_can_see
from teams.services import notify

ZERO = Decimal("0")
HUNDRED = Decimal("100")
FROZEN = [Statement.Status.APPROVED, Statement.Status.PAID]


def _require_admin(by: User | None) -> None:
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only an admin can change commission plans."))


# Plans and rules


def validate_plan_assignments(*, plan: CommissionPlan, users, teams, ladder_levels) -> None:
    """One plan per person per period at each level of specificity: no two plans in effect
    at the same time may name the same person, team or ladder level."""
    others = [
        other
        for other in CommissionPlan.objects.exclude(pk=plan.pk).prefetch_related(
            "users", "teams", "ladder_levels"
        )
        if other.overlaps(plan)
    ]
    errors = {}
    for field, chosen, label in (
        ("users", users, _("person")),
        ("teams", teams, _("team")),
        ("ladder_levels", ladder_levels, _("ladder level")),
    ):
        chosen_ids = {item.pk for item in chosen}
        for other in others:
            clash = chosen_ids & {item.pk for item in getattr(other, field).all()}
            if clash:
                errors[field] = _(
                    "The plan “%(plan)s” already applies to this %(what)s at the same time."
                ) % {"plan": other.name, "what": label}
                break
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def commission_plan_save(
    *,
    by: User | None,
    plan: CommissionPlan,
    users: list[User] | None = None,
    teams: list[Team] | None = None,
    ladder_levels: list[LadderLevel] | None = None,
) -> CommissionPlan:
    """Saves a plan and whom it applies to (None keeps the current choice)."""
    _require_admin(by)
    plan.full_clean()
    if plan.pk:
        users = list(plan.users.all()) if users is None else users
        teams = list(plan.teams.all()) if teams is None else teams
        ladder_levels = list(plan.ladder_levels.all()) if ladder_levels is None else ladder_levels
    validate_plan_assignments(
        plan=plan, users=users or [], teams=teams or [], ladder_levels=ladder_levels or []
    )
    plan.save()
    plan.users.set(users or [])
    plan.teams.set(teams or [])
    plan.ladder_levels.set(ladder_levels or [])
    return plan


def validate_tiers(tiers: list[dict]) -> None:
    """Tiers must not overlap, and only the last may be open-ended."""
    ordered = sorted(tiers, key=lambda tier: tier["from_percent"])
    for index, tier in enumerate(ordered):
        to = tier.get("to_percent")
        if to is not None and to <= tier["from_percent"]:
            raise ValidationError({"tiers": _("Each tier must end above where it starts.")})
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if following is not None and (to is None or to > following["from_percent"]):
            raise ValidationError({"tiers": _("The tiers overlap.")})


@transaction.atomic
def commission_rule_save(
    *, by: User | None, rule: CommissionRule, tiers: list[dict] | None = None
) -> CommissionRule:
    """Saves a rule and, when given, replaces its tiers ({from_percent, to_percent, rate})."""
    _require_admin(by)
    rule.full_clean()
    if tiers is not None:
        validate_tiers(tiers)
    rule.save()
    if tiers is not None:
        rule.tiers.all().delete()
        for tier in tiers:
            row = CommissionTier(rule=rule, **tier)
            row.full_clean()
            row.save()
    return rule


def bonus_rule_save(*, by: User | None, bonus: BonusRule) -> BonusRule:
    _require_admin(by)
    with transaction.atomic():
        bonus.full_clean()
        bonus.save()
    return bonus


def config_delete(*, by: User | None, instance) -> None:
    """Deletes a plan, rule or bonus rule; a plan that statements were computed with stays."""
    from django.db.models import ProtectedError

    _require_admin(by)
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        raise ValidationError(
            _("Statements were computed with this plan; end it instead of deleting it.")
        ) from error


@transaction.atomic
def deal_credits_set(*, by: User | None, deal: Deal, shares: list[tuple[User, Decimal]]) -> None:
    """Splits a deal's credit between people by percentages summing to 100; an empty list
    gives the whole deal back to its owner."""
    if by is not None and not can_edit_deal(by, deal):
        raise PermissionDenied(_("You cannot change this deal."))
    people = [user.pk for user, _share in shares]
    if len(set(people)) != len(people):
        raise ValidationError({"shares": _("Name each person once.")})
    if shares and sum((Decimal(share) for _user, share in shares), ZERO) != HUNDRED:
        raise ValidationError({"shares": _("The shares must add up to 100%.")})
    for user, share in shares:
        if Decimal(share) <= 0:
            raise ValidationError({"shares": _("Each share must be above 0%.")})
        if by is not None and not by.is_admin and not user_can_see(by, user):
            raise ValidationError({"shares": _("You can only choose people in your own teams.")})
    DealCredit.objects.filter(deal=deal).exclude(user_id__in=people).delete()
    for user, share in shares:
        DealCredit.objects.update_or_create(deal=deal, user=user, defaults={"percent": share})
    # The deal's own timestamp marks the change for frozen statements.
    Deal.all_objects.filter(pk=deal.pk).update(updated_at=timezone.now())


def deal_cost_set(*, by: User | None, deal: Deal, cost: Decimal | None) -> DealCost | None:
    """Records (or with None removes) a deal's cost, for rules paid on margin."""
    _require_admin(by)
    with transaction.atomic():
        if cost is None:
            DealCost.objects.filter(deal=deal).delete()
            return None
        row = DealCost.objects.filter(deal=deal).first() or DealCost(deal=deal)
        row.cost = cost
        row.full_clean()
        row.save()
        return row


# Statements


def _drafts_to_lines(drafts: list[LineDraft]) -> list[LineDraft]:
    return [draft for draft in drafts if draft.amount or draft.kind == LineKind.COMMISSION]


def _previous_draft_start(statement: Statement) -> dt.date | None:
    return (
        Statement.objects.filter(
            user_id=statement.user_id, status=Statement.Status.DRAFT, start__lt=statement.start
        )
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )


def _corrected_here(statement: Statement) -> list[Statement]:
    """The frozen statements whose corrections belong in this draft: it is the first draft
    after them."""
    since = _previous_draft_start(statement)
    frozen = Statement.objects.filter(
        user_id=statement.user_id, status__in=FROZEN, end__lt=statement.start
    )
    if since is not None:
        frozen = frozen.filter(end__gte=since)
    return list(frozen.select_related("plan", "user").order_by("start"))


def _correction_lines(statement: Statement, user: User) -> list[LineDraft]:
    lines = []
    for frozen in _corrected_here(statement):
        if not selectors.frozen_deal_changed(frozen):
            continue
        _inputs, due_drafts = selectors.period_drafts(
            user=user,
            plan=frozen.plan,
            start=frozen.start,
            end=frozen.end,
            target=frozen.target,
            use_target=True,
        )
        due_by_deal: dict[int, Decimal] = {}
        due_by_key: dict[str, Decimal] = {}
        for draft in due_drafts:
            if draft.deal_id is not None:
                due_by_deal[draft.deal_id] = due_by_deal.get(draft.deal_id, ZERO) + draft.amount
            else:
                due_by_key[draft.source_key] = due_by_key.get(draft.source_key, ZERO) + draft.amount
        paid_by_deal, paid_by_key = selectors.paid_by_source(frozen)
        names = selectors.deal_names(set(due_by_deal) | set(paid_by_deal))
        period = frozen.period_label
        for deal_id in sorted(set(due_by_deal) | set(paid_by_deal)):
            due, paid = due_by_deal.get(deal_id, ZERO), paid_by_deal.get(deal_id, ZERO)
            if due == paid:
                continue
            clawback = due < paid and due == ZERO
            values = {
                "deal": names.get(deal_id, deal_id),
                "period": period,
                "paid": money_text(paid),
                "due": money_text(due),
            }
            if clawback:
                text = _("%(deal)s is no longer won for %(period)s: %(paid)s paid is taken back")
            else:
                text = _(
                    "%(deal)s changed after %(period)s was approved: %(paid)s paid, %(due)s due"
                )
            text = text % values
            lines.append(
                LineDraft(
                    kind=LineKind.CLAWBACK if clawback else LineKind.ADJUSTMENT,
                    source_key=f"adjust:{frozen.pk}:deal:{deal_id}",
                    amount=due - paid,
                    explanation=text,
                    deal_id=deal_id if deal_id in names else None,
                    basis=paid,
                    corrects_id=frozen.pk,
                )
            )
        for key in sorted(set(due_by_key) | set(paid_by_key)):
            due, paid = due_by_key.get(key, ZERO), paid_by_key.get(key, ZERO)
            if due == paid:
                continue
            text = _(
                "Bonus for %(period)s recomputed after a deal changed: %(paid)s paid, %(due)s due"
            ) % {
                "period": period,
                "paid": money_text(paid),
                "due": money_text(due),
            }
            bonus_id = int(key.split(":")[1]) if key.startswith("bonus:") else None
            lines.append(
                LineDraft(
                    kind=LineKind.CLAWBACK if due == ZERO else LineKind.ADJUSTMENT,
                    source_key=f"adjust:{frozen.pk}:{key}",
                    amount=due - paid,
                    explanation=text,
                    bonus_rule_id=bonus_id,
                    basis=paid,
                    corrects_id=frozen.pk,
                )
            )
    return lines


def _dispute_lines(statement: Statement) -> list[LineDraft]:
    """Accepted disputes whose adjustment belongs in this draft: raised on one of its own
    lines, or on a frozen statement it is the first draft after; never one already paid."""
    since = _previous_draft_start(statement)
    frozen_before = Q(line__statement__status__in=FROZEN, line__statement__end__lt=statement.start)
    if since is not None:
        frozen_before &= Q(line__statement__end__gte=since)
    paid_keys = StatementLine.objects.filter(
        statement__user_id=statement.user_id,
        statement__status__in=FROZEN,
        source_key__startswith="dispute:",
    ).values_list("source_key", flat=True)
    paid = {int(key.split(":")[1]) for key in paid_keys}
    disputes = (
        Dispute.objects.filter(
            status=Dispute.Status.ACCEPTED, line__statement__user_id=statement.user_id
        )
        .filter(Q(line__statement=statement) | frozen_before)
        .exclude(pk__in=paid)
        .select_related("line", "line__statement")
        .order_by("resolved_at", "pk")
    )
    return [
        LineDraft(
            kind=LineKind.ADJUSTMENT,
            source_key=f"dispute:{dispute.pk}",
            amount=dispute.adjustment,
            explanation=_("Dispute accepted on “%(line)s”: %(resolution)s")
            % {"line": dispute.line.explanation[:120], "resolution": dispute.resolution[:120]},
            deal_id=dispute.line.deal_id,
            corrects_id=dispute.line.statement_id
            if dispute.line.statement_id != statement.pk
            else None,
        )
        for dispute in disputes
    ]


LINE_FIELDS = (
    "kind",
    "deal_id",
    "rule_id",
    "bonus_rule_id",
    "corrects_id",
    "basis",
    "rate",
    "amount",
    "explanation",
    "position",
)


def _line_rows(drafts: list[LineDraft]) -> list[tuple[str, tuple]]:
    """Each draft as the line it makes: its source and LINE_FIELDS values."""
    return [
        (
            draft.source_key,
            (
                str(draft.kind),
                draft.deal_id,
                draft.rule_id,
                draft.bonus_rule_id,
                draft.corrects_id,
                None if draft.basis is None else cents(draft.basis),
                draft.rate,
                cents(draft.amount),
                draft.explanation[:300],
                position,
            ),
        )
        for position, draft in enumerate(drafts)
    ]


def _lines_digest(rows: list[tuple[str, tuple]], disputed=()) -> str:
    """The fingerprint of a statement's line rows and of which of its lines are disputed
    (a disputed line that is no longer due stays, at zero, only while it is disputed).
    Equal ones give the same digest; another representation of the same values (8 and
    8.000) only costs a full comparison."""
    return hashlib.blake2b(repr((rows, sorted(disputed))).encode(), digest_size=16).hexdigest()


class LineChanges:
    """The line writes that make statements' lines exactly their drafts, gathered over any
    number of statements and applied in a few bulk statements."""

    def __init__(self):
        self.create: list[tuple] = []  # rows of INSERT_COLUMNS
        self.update: list[StatementLine] = []
        self.delete: list[int] = []

    def plan(
        self,
        statement: Statement,
        rows: list[tuple[str, tuple]],
        existing: dict[str, tuple[int, tuple]],
        disputed: set[int],
    ) -> None:
        """Lines are matched by source, so a line that stays keeps its id (disputes point at
        it). A vanished line that was disputed stays, at zero. `rows` are the drafts'
        (_line_rows); `existing` holds each current line's id and LINE_FIELDS values by
        source: rows, not models, as most lines stay."""
        existing = dict(existing)
        for source_key, values in rows:
            line = existing.pop(source_key, None)
            if line is None:
                self.create.append((statement.pk, source_key, *values))
            elif line[1] != values:
                self.update.append(
                    StatementLine(pk=line[0], **dict(zip(LINE_FIELDS, values, strict=True)))
                )
        for pk, values in existing.values():
            if pk not in disputed:
                self.delete.append(pk)
                continue
            row = dict(zip(LINE_FIELDS, values, strict=True))
            if row["amount"]:
                row["amount"] = ZERO
                row["explanation"] = (_("No longer due: %(line)s") % {"line": row["explanation"]})[
                    :300
                ]
                row["position"] = len(rows)
                self.update.append(StatementLine(pk=pk, **row))

    def apply(self) -> None:
        if self.delete:
            StatementLine.objects.filter(pk__in=self.delete).delete()
        if self.update:
            StatementLine.objects.bulk_update(self.update, LINE_FIELDS, batch_size=2000)
        if self.create:
            _insert_lines(self.create)


INSERT_COLUMNS = ("statement_id", "source_key", *LINE_FIELDS)


def _insert_lines(rows: list[tuple]) -> None:
    """New lines (rows of INSERT_COLUMNS), in bulk: through COPY on PostgreSQL, elsewhere
    through bulk_create."""
    if connection.vendor == "postgresql":
        _copy_lines(rows)
    else:
        StatementLine.objects.bulk_create(
            StatementLine(**dict(zip(INSERT_COLUMNS, row, strict=True))) for row in rows
        )


def _copy_lines(rows: list[tuple]) -> None:
    """A statement run writes tens of thousands of lines: COPY takes them as one stream, with
    no statement of values to build, send and parse, nor a model per line. It runs on the
    same connection, so inside the caller's transaction. The values are plain ids, strings
    and Decimals, which csv writes as PostgreSQL reads them; csv quotes every string and
    writes None as "", which FORCE_NULL reads as NULL in the nullable columns only."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in INSERT_COLUMNS)
    nullable = ", ".join(
        quote(name) for name in INSERT_COLUMNS if StatementLine._meta.get_field(name).null
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {quote(StatementLine._meta.db_table)} ({columns}) FROM STDIN "
            f"WITH (FORMAT csv, FORCE_NULL ({nullable}))",
            buffer,
        )


def _existing_lines(statements) -> dict[int, dict[str, tuple[int, tuple]]]:
    """The current lines of draft statements by statement and source: their id and
    LINE_FIELDS values."""
    lines: dict[int, dict[str, tuple[int, tuple]]] = defaultdict(dict)
    if not statements:
        return lines
    # Unordered: the lines' ordering would join their statements and people only to sort
    # tens of thousands of rows that are read into a dict.
    rows = (
        StatementLine.objects.filter(statement__in=statements)
        .order_by()
        .values_list("pk", "statement_id", "source_key", *LINE_FIELDS)
    )
    for row in rows:
        lines[row[1]][row[2]] = (row[0], row[3:])
    return lines


def _disputed_lines(statements) -> dict[int, int]:
    """The statements' disputed lines: the statement of each by line id."""
    return dict(
        Dispute.objects.filter(line__statement__in=statements).values_list(
            "line_id", "line__statement_id"
        )
    )


# What a computation writes on the statement: its figures and its lines' digest.
FIGURES = [
    "plan",
    "currency",
    "target",
    "credited_revenue",
    "attainment",
    "commission_total",
    "bonus_total",
    "adjustment_total",
    "total",
    "lines_digest",
]
FIGURE_VALUES = ["plan_id", *FIGURES[1:]]


def _fill(statement: Statement, plan, inputs, drafts: list[LineDraft]) -> None:
    """The statement's figures and totals from its inputs and lines (half up per line)."""
    totals = dict.fromkeys(LineKind.values, ZERO)
    for draft in drafts:
        totals[draft.kind] += cents(draft.amount)
    statement.plan = plan
    statement.currency = plan.currency if plan else statement.currency
    statement.target = inputs.target if inputs else None
    statement.credited_revenue = cents(inputs.revenue) if inputs else ZERO
    attainment = inputs.attainment if inputs else None
    statement.attainment = None if attainment is None else cents(attainment)
    statement.commission_total = totals[LineKind.COMMISSION]
    statement.bonus_total = totals[LineKind.BONUS]
    statement.adjustment_total = totals[LineKind.ADJUSTMENT] + totals[LineKind.CLAWBACK]
    statement.total = sum(totals.values(), ZERO)
    statement.computed_at = timezone.now()


def _language(user: User) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


@transaction.atomic
def statement_compute(
    *, user: User, period: periods.Period, plan: CommissionPlan | None = None
) -> Statement:
    """Builds or rebuilds the person's draft statement for the period (start, end); an
    approved or paid one is returned untouched. The plan is the one in effect on the first
    day of the period unless given. Explanations are written in the person's language."""
    start, end = period
    rows = Statement.objects.select_for_update(of=("self",))
    statement = rows.filter(user=user, start=start, end=end).first()
    if statement is not None and statement.is_frozen:
        return statement
    plan = plan or selectors.plan_for(user, on=start)
    if statement is None:
        try:
            with transaction.atomic():
                statement = Statement.objects.create(user=user, start=start, end=end)
        except IntegrityError:
            statement = rows.get(user=user, start=start, end=end)
            if statement.is_frozen:
                return statement
    with translation.override(_language(user)):
        if plan is not None:
            inputs, drafts = selectors.period_drafts(user=user, plan=plan, start=start, end=end)
            drafts = _drafts_to_lines(drafts)
        else:
            inputs, drafts = None, []
        drafts += _correction_lines(statement, user)
        drafts += _dispute_lines(statement)
    rows = _line_rows(drafts)
    disputed = set(_disputed_lines([statement]))
    changes = LineChanges()
    changes.plan(statement, rows, _existing_lines([statement])[statement.pk], disputed)
    changes.apply()
    statement.lines_digest = _lines_digest(rows, disputed)
    _fill(statement, plan, inputs, drafts)
    statement.save()
    return statement


def _needs_one_by_one(ids: list[int], start: dt.date) -> set[int]:
    """People whose statement may carry corrections: they have a frozen statement before
    the period or an accepted dispute. Their statements are computed one at a time."""
    frozen = Statement.objects.filter(user_id__in=ids, status__in=FROZEN, end__lt=start)
    disputed = Dispute.objects.filter(
        status=Dispute.Status.ACCEPTED, line__statement__user_id__in=ids
    )
    return set(frozen.values_list("user_id", flat=True)) | set(
        disputed.values_list("line__statement__user_id", flat=True)
    )


@contextmanager
def _without_cycle_collection():
    """A statement run makes a few hundred thousand short-lived objects (rows, credits,
    lines) and no reference cycles: reference counting frees them all the same, while the
    cyclic collector would walk over them again and again (a fifth of the run's Python
    time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_without_cycle_collection()
def statements_compute_many(
    *, users: list[User], period: periods.Period, plans: dict[int, CommissionPlan | None]
) -> int:
    """Computes the draft statements of many people for one period, reading the inputs for
    all of them at once and writing the lines in bulk (the nightly run and the benchmark's
    path); the same lines as statement_compute gives each. Returns how many were computed."""
    start, end = period
    ids = [user.pk for user in users]
    one_by_one = _needs_one_by_one(ids, start)
    for user in users:
        if user.pk in one_by_one:
            statement_compute(user=user, period=period, plan=plans.get(user.pk))
    batch = [user for user in users if user.pk not in one_by_one and plans.get(user.pk)]
    specs = selectors.PlanSpecs()
    bonuses = {user.pk: specs.of(plans[user.pk])[1] for user in batch}
    inputs = selectors.bulk_period_inputs(
        users=batch, plans=plans, bonuses=bonuses, start=start, end=end
    )
    drafts, rows, digests = {}, {}, {}
    for user in batch:
        rules, plan_bonuses = specs.of(plans[user.pk])
        with translation.override(_language(user)):
            drafts[user.pk] = _drafts_to_lines(period_lines(rules, plan_bonuses, inputs[user.pk]))
        rows[user.pk] = _line_rows(drafts[user.pk])
        digests[user.pk] = _lines_digest(rows[user.pk])
    with transaction.atomic():
        existing = Statement.objects.select_for_update(of=("self",)).filter(
            user_id__in=ids, start=start, end=end
        )
        statements = {statement.user_id: statement for statement in existing}
        # New statements are written with their figures; existing drafts are updated only
        # where a figure changed.
        new = []
        for user in batch:
            if user.pk not in statements:
                statement = Statement(
                    user=user, start=start, end=end, lines_digest=digests[user.pk]
                )
                _fill(statement, plans[user.pk], inputs[user.pk], drafts[user.pk])
                new.append(statement)
        Statement.objects.bulk_create(new, ignore_conflicts=True)
        created = {statement.user_id for statement in new}
        statements = {
            statement.user_id: statement
            for statement in existing.filter(status=Statement.Status.DRAFT)
        }
        # Only the lines that may differ from the drafts are read and compared: those of new
        # statements and of statements whose digest differs.
        disputed = _disputed_lines(list(statements.values()))
        disputed_of = defaultdict(list)
        for line_id, statement_id in disputed.items():
            disputed_of[statement_id].append(line_id)
        for user_id, statement in statements.items():
            if statement.pk in disputed_of and user_id in digests:
                digests[user_id] = _lines_digest(rows[user_id], disputed_of[statement.pk])
        compared = {
            user_id
            for user_id, statement in statements.items()
            if user_id in digests
            and (user_id in created or statement.lines_digest != digests[user_id])
        }
        lines = _existing_lines([statements[user_id] for user_id in compared])
        disputed_ids = set(disputed)
        changes = LineChanges()
        changed = []
        for user in batch:
            statement = statements.get(user.pk)
            if statement is None:
                continue
            before = [getattr(statement, name) for name in FIGURE_VALUES]
            if user.pk in compared:
                changes.plan(statement, rows[user.pk], lines[statement.pk], disputed_ids)
                statement.lines_digest = digests[user.pk]
            if user.pk not in created:
                _fill(statement, plans[user.pk], inputs[user.pk], drafts[user.pk])
            if before != [getattr(statement, name) for name in FIGURE_VALUES]:
                changed.append(statement)
        changes.apply()
        Statement.objects.bulk_update(changed, FIGURES, batch_size=500)
        Statement.objects.filter(pk__in=[s.pk for s in statements.values()]).update(
            computed_at=timezone.now(), updated_at=timezone.now()
        )
    return len(one_by_one) + len(statements)


def statements_recompute(*, on: dt.date | None = None) -> int:
    """Computes every active person's statement for the plan period holding `on` (today by
    default) and rebuilds every other draft; returns how many statements were computed."""
    on = on or periods.today()
    resolver = selectors.PlanResolver(selectors.plans_in_effect(on))
    by_period: dict[periods.Period, dict[int, CommissionPlan]] = defaultdict(dict)
    people = {}
    for user in User.objects.filter(is_active=True).select_related("team").order_by("pk"):
        plan = resolver.plan_for(user)
        if plan is not None:
            by_period[selectors.plan_period(plan, on)][user.pk] = plan
            people[user.pk] = user
    done = 0
    for period, plans in by_period.items():
        # A plan that starts later in the period applies from the next one.
        starting = selectors.PlanResolver(selectors.plans_in_effect(period[0]))
        plans = {pk: starting.plan_for(people[pk]) for pk in plans}
        users = [people[pk] for pk in plans]
        done += statements_compute_many(users=users, period=period, plans=plans)
    current = [Q(user_id__in=list(plans), start=period[0]) for period, plans in by_period.items()]
    others = Statement.objects.filter(status=Statement.Status.DRAFT)
    for condition in current:
        others = others.exclude(condition)
    for statement in others.select_related("user").order_by("start", "pk"):
        statement_compute(user=statement.user, period=(statement.start, statement.end))
        done += 1
    return done


def _statement_link(statement: Statement) -> str:
    return reverse("incentives:statement_detail", args=[statement.pk])


@transaction.atomic
def statement_approve(*, by: User, statement: Statement) -> Statement:
    """A manager approves a draft statement of their subtree (not their own); it is frozen
    from then on. The person's later drafts are rebuilt, since corrections of this period
    now belong to the next of them."""
    statement = Statement.objects.select_for_update(of=("self",)).get(pk=statement.pk)
    if statement.status != Statement.Status.DRAFT:
        raise ValidationError({"status": _("Only a draft statement can be approved.")})
    if not selectors.can_approve(by, statement):
        raise PermissionDenied(_("You can approve the statements of your team's people only."))
    statement.status = Statement.Status.APPROVED
    statement.approved_by = by
    statement.approved_at = timezone.now()
    statement.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    later = Statement.objects.filter(
        user_id=statement.user_id, status=Statement.Status.DRAFT, start__gt=statement.end
    ).select_related("user")
    for draft in later:
        statement_compute(user=draft.user, period=(draft.start, draft.end))
    notify(
        recipient=statement.user,
        kind="statement_approved",
        title=_("Your statement for %(period)s was approved") % {"period": statement.period_label},
        link=_statement_link(statement),
    )
    return statement


@transaction.atomic
def statement_mark_paid(*, by: User, statement: Statement) -> Statement:
    if not by.is_admin:
        raise PermissionDenied(_("Only an admin can mark statements paid."))
    statement = Statement.objects.select_for_update(of=("self",)).get(pk=statement.pk)
    if statement.status != Statement.Status.APPROVED:
        raise ValidationError({"status": _("Only an approved statement can be marked paid.")})
    statement.status = Statement.Status.PAID
    statement.paid_by = by
    statement.paid_at = timezone.now()
    statement.save(update_fields=["status", "paid_by", "paid_at", "updated_at"])
    return statement


def _next_open_period(user: User, after: Statement) -> periods.Period:
    """The period of the draft that takes corrections of a frozen statement: the first draft
    after it, else the plan period holding today (or the one just after the statement)."""
    draft = (
        Statement.objects.filter(user=user, status=Statement.Status.DRAFT, start__gt=after.end)
        .order_by("start")
        .first()
    )
    if draft is not None:
        return draft.start, draft.end
    day = max(periods.today(), after.end + dt.timedelta(days=1))
    plan = selectors.plan_for(user, on=day)
    return periods.period_bounds(plan.period if plan else after_kind(after), day)


def after_kind(statement: Statement) -> str:
    return "month" if statement.start.month == statement.end.month else "quarter"


@transaction.atomic
def dispute_raise(*, by: User, line: StatementLine, comment: str) -> Dispute:
    """The statement's person questions one of its lines; their manager is told."""
    statement = line.statement
    if statement.user_id != by.pk:
        raise PermissionDenied(_("Only the statement's owner can dispute its lines."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what is wrong with the line.")})
    if Dispute.objects.filter(line=line, status=Dispute.Status.OPEN).exists():
        raise ValidationError({"line": _("This line is already disputed.")})
    dispute = Dispute(line=line, raised_by=by, comment=comment)
    dispute.full_clean()
    dispute.save()
    manager = manager_of(by)
    if manager is not None:
        notify(
            recipient=manager,
            kind="dispute_raised",
            title=_("%(person)s disputes a line of their statement for %(period)s")
            % {"person": by, "period": statement.period_label},
            body=comment,
            link=_statement_link(statement),
        )
    return dispute


@transaction.atomic
def dispute_resolve(
    *,
    by: User,
    dispute: Dispute,
    accept: bool,
    resolution: str,
    adjustment: Decimal | None = None,
) -> Dispute:
    """A manager of the person accepts the dispute (the adjustment goes into the person's
    next open statement) or rejects it with a reason; both are told."""
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("line__statement__user")
        .get(pk=dispute.pk)
    )
    statement = dispute.line.statement
    person = statement.user
    if (
        person.pk == by.pk
        or not (by.is_admin or selectors.is_manager(by))
        or not user_can_see(by, person)
    ):
        raise PermissionDenied(_("A manager of the person resolves their disputes."))
    if dispute.status != Dispute.Status.OPEN:
        raise ValidationError({"status": _("This dispute is already resolved.")})
    resolution = (resolution or "").strip()
    errors = {}
    if not resolution:
        errors["resolution"] = _("Give the reason for the decision.")
    if accept and not adjustment:
        errors["adjustment"] = _("Give the amount to add to (or take from) the next statement.")
    if errors:
        raise ValidationError(errors)
    dispute.status = Dispute.Status.ACCEPTED if accept else Dispute.Status.REJECTED
    dispute.adjustment = cents(Decimal(adjustment)) if accept else None
    dispute.resolution = resolution
    dispute.resolved_by = by
    dispute.resolved_at = timezone.now()
    dispute.save()
    if accept:
        period = (
            (statement.start, statement.end)
            if not statement.is_frozen
            else _next_open_period(person, statement)
        )
        statement_compute(user=person, period=period)
    verdict = _("accepted") if accept else _("rejected")
    for recipient in {person, by}:
        notify(
            recipient=recipient,
            kind="dispute_resolved",
            title=_("The dispute on the statement for %(period)s was %(verdict)s")
            % {"period": statement.period_label, "verdict": verdict},
            body=resolution,
            link=_statement_link(statement),
        )
    return dispute


# Recognition


def _require_manager(by: User) -> None:
    if not (by.is_admin or selectors.is_manager(by)):
        raise PermissionDenied(_("Only a manager can do this."))


def _check_people(by: User, people, field: str) -> None:
    for person in people:
        if not by.is_admin and not user_can_see(by, person):
            raise ValidationError({field: _("You can only choose people in your own teams.")})


@transaction.atomic
def contest_create(*, by: User, participants: list[User], **fields) -> Contest:
    """A manager starts a contest among people they see."""
    _require_manager(by)
    if not participants:
        raise ValidationError({"participants": _("Choose at least one participant.")})
    _check_people(by, participants, "participants")
    contest = Contest(created_by=by, **fields)
    contest.full_clean()
    contest.save()
    contest.participants.set(participants)
    return contest


@transaction.atomic
def contest_finalize(*, contest: Contest) -> list[Award]:
    """Records the winners of an ended contest as awards (everyone tied for first); once."""
    contest = Contest.objects.select_for_update(of=("self",)).get(pk=contest.pk)
    if contest.finalized_at is not None or contest.end >= periods.today():
        return []
    ranking = selectors.contest_ranking(contest)
    awards = []
    if ranking and ranking[0]["value"] > 0:
        best = ranking[0]["value"]
        for row in ranking:
            if row["value"] != best:
                break
            awards.append(
                Award.objects.create(
                    user=row["user"],
                    kind=AwardKind.CONTEST_WINNER,
                    title=_("Winner of %(contest)s") % {"contest": contest.name},
                    note=contest.prizes,
                    contest=contest,
                    period_start=contest.start,
                    period_end=contest.end,
                )
            )
            notify(
                recipient=row["user"],
                kind="award",
                title=_("You won %(contest)s") % {"contest": contest.name},
                link=reverse("incentives:recognition"),
            )
    contest.finalized_at = timezone.now()
    contest.save(update_fields=["finalized_at", "updated_at"])
    return awards


def _grant(user: User, kind: str, title: str, start=None, end=None, note: str = "") -> bool:
    """An automatic award, once per person, kind and period (a rerun finds it granted)."""
    with transaction.atomic():
        _award, created = Award.objects.get_or_create(
            user=user,
            kind=kind,
            period_start=start,
            granted_by=None,
            contest=None,
            defaults={"title": title, "period_end": end, "note": note},
        )
    if created:
        notify(recipient=user, kind="award", title=title, link=reverse("incentives:recognition"))
    return created


def _top(values: dict[int, Decimal]) -> list[int]:
    if not values:
        return []
    best = max(values.values())
    return sorted(pk for pk, value in values.items() if value == best and value > 0)


def awards_grant(*, on: dt.date | None = None) -> int:
    """Grants the awards due as of `on` (today): top seller of the month and of the
    quarter that ended before it, the quarter's new-customer champion, long service on
    hire anniversaries, and the winners of ended contests. Safe to run again."""
    from performance.models import Metric
    from performance.selectors import actuals_by_user

    on = on or periods.today()
    granted = 0
    month = periods.period_bounds("month", on.replace(day=1) - dt.timedelta(days=1))
    quarter_start = periods.period_bounds("quarter", on)[0]
    quarter = periods.period_bounds("quarter", quarter_start - dt.timedelta(days=1))
    people = {user.pk: user for user in User.objects.filter(is_active=True)}
    for kind, (start, end), metric in (
        (AwardKind.TOP_SELLER_MONTH, month, Metric.REVENUE),
        (AwardKind.TOP_SELLER_QUARTER, quarter, Metric.REVENUE),
        (AwardKind.NEW_CUSTOMER_CHAMPION, quarter, Metric.NEW_CUSTOMERS),
    ):
        values = actuals_by_user(metric=metric, start=start, end=end)
        for pk in _top({pk: v for pk, v in values.items() if pk in people}):
            period_type = "month" if kind == AwardKind.TOP_SELLER_MONTH else "quarter"
            label = periods.period_label(period_type, start, end)
            title = f"{AwardKind(kind).label} · {label}"
            granted += _grant(people[pk], kind, title, start, end)
    years = RecognitionSettings.load().long_service_years
    for user in people.values():
        hired = user.hire_date
        if hired is None or on.year - hired.year < years:
            continue
        day = anniversary(hired, hired.year + years)
        if day <= on:
            title = _("Veteran sales rep: %(years)s years of service") % {"years": years}
            granted += _grant(user, AwardKind.LONG_SERVICE, title, day, day)
    for contest in Contest.objects.filter(finalized_at__isnull=True, end__lt=on):
        granted += len(contest_finalize(contest=contest))
    return granted


@transaction.atomic
def award_grant(*, by: User, user: User, kind: str, title: str, note: str = "") -> Award:
    """A manager recognises one of their people by hand."""
    _require_manager(by)
    _check_people(by, [user], "user")
    if user.pk == by.pk:
        raise ValidationError({"user": _("You cannot give yourself an award.")})
    award = Award(user=user, kind=kind, title=(title or "").strip(), note=note, granted_by=by)
    award.full_clean()
    award.save()
    link = reverse("incentives:recognition")
    notify(recipient=user, kind="award", title=award.title, body=note, link=link)
    return award


@transaction.atomic
def kudos_give(*, by: User, recipient: User, message: str) -> Kudos:
    """Anyone praises a colleague; the colleague is told."""
    message = (message or "").strip()
    if recipient.pk == by.pk:
        raise ValidationError({"recipient": _("Praise a colleague, not yourself.")})
    if not recipient.is_active:
        raise ValidationError({"recipient": _("This user is inactive.")})
    kudos = Kudos(sender=by, recipient=recipient, message=message)
    kudos.full_clean()
    kudos.save()
    notify(
        recipient=recipient,
        kind="kudos",
        title=_("%(person)s sent you kudos") % {"person": by},
        body=message,
        link=reverse("incentives:recognition"),
    )
    return kudos

"""Writes of the pipeline app (DESIGN.md §11.1): keyword-only, validated, each in one
transaction, each checking who writes. `by=None` means the system itself (tasks, imports).

Who may write a deal: an admin any; a manager the deals they see; a rep the deals they own.
Configuration (pipelines, stages, rules, categories, competitors, settings) is for admins.

Concurrency: every deal write bumps `version` with a conditional UPDATE
(`... WHERE version = <the version the writer read>`), so of two writers holding the same
version exactly one wins and the other gets StaleVersionError (the API answers 409/412).
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Account, Contact
from customers.services import account_link
from pipeline import selectors
from pipeline.models import (
    AssignmentRule,
    Competitor,
    Deal,
    ForecastSnapshot,
    FunnelSnapshot,
    LeadContactAlert,
    Pipeline,
    PipelineSettings,
    ProductCategory,
    Stage,
    StageChange,
)
from teams.models import Role, User
from teams.selectors import is_manager, manager_of, user_can_see
from teams.services import notify, validate_assignable

UNSET = object()
DAY_SECONDS = Decimal(86400)


class StaleVersionError(Exception):
    """The deal changed since the writer read it; nothing was written."""

    def __init__(self, deal_id: int, current_version: int | None):
        self.deal_id = deal_id
        self.current_version = current_version
        super().__init__(
            _("The deal was changed by someone else (now version %(version)s); reload it.")
            % {"version": current_version}
        )


def _require_admin(by: User | None) -> None:
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only an admin can change this."))


def can_edit_deal(user: User, deal: Deal) -> bool:
    if user.is_admin or deal.owner_id == user.pk:
        return True
    return is_manager(user) and user_can_see(user, deal.owner)


def _require_deal_write(by: User | None, deal: Deal) -> None:
    if by is not None and not can_edit_deal(by, deal):
        raise PermissionDenied(_("You cannot change this deal."))


def _days_between(start: datetime, end: datetime) -> Decimal:
    seconds = Decimal(max((end - start).total_seconds(), 0))
    return (seconds / DAY_SECONDS).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _enter_stage(deal: Deal, stage: Stage, now: datetime) -> None:
    deal.stage = stage
    deal.stage_entered_at = now
    deal.stale_notified_at = None
    open_stage = not stage.is_closed
    deal.stage_due_at = (
        now + timedelta(days=stage.sla_days) if open_stage and stage.sla_days else None
    )


def _record(
    deal: Deal, kind: str, from_stage: Stage | None, by: User | None, now: datetime, days
) -> StageChange:
    return StageChange.objects.create(
        deal=deal,
        kind=kind,
        from_stage=from_stage,
        to_stage=deal.stage,
        changed_at=now,
        changed_by=by,
        days_in_previous_stage=days,
    )


# Fields a write may change through deal_update; stage, status and closing go through
# deal_move and deal_reopen so their rules and history apply.
DEAL_FIELDS = {
    "name",
    "contact",
    "amount",
    "product_category",
    "source",
    "campaign_ref",
    "expected_close",
    "forecast_category",
    "probability_override",
    "external_id",
    "lost_note",
}
CONCRETE_UPDATE_FIELDS = (
    "name",
    "contact_id",
    "amount",
    "product_category_id",
    "source",
    "campaign_ref",
    "expected_close",
    "forecast_category",
    "probability_override",
    "external_id",
    "lost_note",
    "owner_id",
    "stage_id",
    "stage_entered_at",
    "stage_due_at",
    "stale_notified_at",
    "status",
    "closed_at",
    "lost_reason",
    "confirmed_checklist",
)


def _save_versioned(deal: Deal, read_version: int, now: datetime) -> Deal:
    """Writes the deal if it is still at `read_version`, bumping the version."""
    values = {field: getattr(deal, field) for field in CONCRETE_UPDATE_FIELDS}
    written = Deal.objects.filter(pk=deal.pk, version=read_version).update(
        **values, version=F("version") + 1, updated_at=now
    )
    if not written:
        current = Deal.objects.filter(pk=deal.pk).values_list("version", flat=True).first()
        raise StaleVersionError(deal.pk, current)
    deal.version = read_version + 1
    deal.updated_at = now
    return deal


def _load_for_write(deal: Deal, expected_version: int | None) -> tuple[Deal, int]:
    fresh = Deal.objects.select_related("stage", "pipeline", "owner").get(pk=deal.pk)
    if expected_version is not None and expected_version != fresh.version:
        raise StaleVersionError(deal.pk, fresh.version)
    return fresh, fresh.version


def _check_related(
    by: User | None,
    *,
    account: Account | None = None,
    contact: Contact | None = None,
    product_category: ProductCategory | None = None,
) -> None:
    errors = {}
    if (
        by is not None
        and account is not None
        and not Account.objects.visible_to(by).filter(pk=account.pk).exists()
    ):
        errors["account"] = _("Choose an account you can see.")
    if contact is not None and account is not None and contact.account_id != account.pk:
        errors["contact"] = _("The contact works for another account.")
    if product_category is not None and not product_category.active:
        errors["product_category"] = _("This product category is no longer offered.")
    if errors:
        raise ValidationError(errors)


def _missing_criteria(deal: Deal, stage: Stage, competitors_given: bool) -> dict[str, list[str]]:
    """What `deal` lacks to enter `stage`: {field: [message]} and {"checklist": [labels]}."""
    missing: dict[str, list[str]] = {}
    filled = {
        Stage.RequiredField.AMOUNT: deal.amount is not None,
        Stage.RequiredField.CONTACT: deal.contact_id is not None,
        Stage.RequiredField.EXPECTED_CLOSE: deal.expected_close is not None,
        Stage.RequiredField.PRODUCT_CATEGORY: deal.product_category_id is not None,
        Stage.RequiredField.COMPETITORS: competitors_given
        or (deal.pk is not None and deal.competitors.exists()),
    }
    for name in stage.required_fields:
        if not filled.get(name, True):
            missing[name] = [
                _("Required to enter the stage %(stage)s.") % {"stage": stage.display_name}
            ]
    unchecked = [item for item in stage.checklist if item not in deal.confirmed_checklist]
    if unchecked:
        missing["checklist"] = unchecked
    return missing


# Deals


@transaction.atomic
def deal_create(
    *,
    by: User | None,
    name: str,
    account: Account,
    owner: User | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal | None = None,
    contact: Contact | None = None,
    product_category: ProductCategory | None = None,
    source: str = Account.Source.MANUAL,
    campaign_ref: str = "",
    expected_close: date | None = None,
    forecast_category: str = "",
    probability_override: int | None = None,
    competitors: Iterable[Competitor] = (),
    confirmed_checklist: Iterable[str] = (),
    external_id: str = "",
    now: datetime | None = None,
) -> Deal:
    """Creates an open deal in `stage` (default: the first stage of the pipeline, default
    pipeline unless given) after checking that stage's entry criteria. Without an owner the
    first matching assignment rule chooses one (else the writer, else the account's owner);
    an owner other
    than the writer is notified. The history starts with a "created" stage change."""
    now = now or timezone.now()
    _check_related(by, account=account, contact=contact, product_category=product_category)
    pipeline = pipeline or (stage.pipeline if stage else Pipeline.objects.get(is_default=True))
    if stage is None:
        stage = pipeline.stages.filter(is_won=False, is_lost=False).order_by("order").first()
    if stage is None or stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("Choose a stage of the deal's pipeline.")})
    if stage.is_closed:
        raise ValidationError({"stage": _("A new deal starts in an open stage.")})
    competitors = list(competitors)
    deal = Deal(
        name=name,
        account=account,
        contact=contact,
        pipeline=pipeline,
        amount=amount,
        product_category=product_category,
        source=source,
        campaign_ref=campaign_ref,
        expected_close=expected_close,
        forecast_category=forecast_category or stage.forecast_category,
        probability_override=probability_override,
        confirmed_checklist=list(dict.fromkeys(confirmed_checklist)),
        external_id=external_id,
    )
    _enter_stage(deal, stage, now)
    missing = _missing_criteria(deal, stage, bool(competitors))
    if missing:
        raise ValidationError(missing)
    if owner is None:
        owner = assign_owner(deal=deal, account=account) or by or account.owner
        if owner is None:
            raise ValidationError(
                {"owner": _("No assignment rule matches; choose the owner of the deal.")}
            )
    else:
        validate_assignable(by=by, user=owner, field="owner")
    deal.owner = owner
    deal.full_clean()
    deal.save()
    if competitors:
        deal.competitors.set(competitors)
    _record(deal, StageChange.Kind.CREATED, None, by, now, None)
    if by is None or owner.pk != by.pk:
        notify(
            recipient=owner,
            kind="deal_assigned",
            title=_("New deal for you: %(name)s") % {"name": deal.name},
            body=_("%(account)s, stage %(stage)s")
            % {"account": account.name, "stage": stage.display_name},
            link=selectors.deal_link(deal.pk),
        )
    return deal


@transaction.atomic
def deal_update(
    *, by: User | None, deal: Deal, expected_version: int | None = None, **fields
) -> Deal:
    """Changes a deal's fields. With `expected_version`, a deal changed since the caller
    read it raises StaleVersionError and nothing is written; without, the write still
    cannot overwrite a change made between this call's read and write."""
    _require_deal_write(by, deal)
    unknown = set(fields) - DEAL_FIELDS - {"owner", "competitors"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    now = timezone.now()
    deal, read_version = _load_for_write(deal, expected_version)
    owner = fields.pop("owner", UNSET)
    competitors = fields.pop("competitors", None)
    if "product_category" in fields and fields["product_category"] != deal.product_category:
        _check_related(by, product_category=fields["product_category"])
    for name, value in fields.items():
        setattr(deal, name, value)
    previous_owner = deal.owner
    if owner is not UNSET and owner != deal.owner:
        if owner is None:
            raise ValidationError({"owner": _("A deal always has an owner.")})
        validate_assignable(by=by, user=owner, field="owner")
        deal.owner = owner
    deal.full_clean()
    _save_versioned(deal, read_version, now)
    if competitors is not None:
        deal.competitors.set(competitors)
    if deal.owner_id != previous_owner.pk and (by is None or deal.owner_id != by.pk):
        notify(
            recipient=deal.owner,
            kind="deal_assigned",
            title=_("Deal handed to you: %(name)s") % {"name": deal.name},
            link=selectors.deal_link(deal.pk),
        )
    return deal


MOVE_VALUE_FIELDS = {"amount", "contact", "expected_close", "product_category", "competitors"}


@transaction.atomic
def deal_move(
    *,
    by: User | None,
    deal: Deal,
    stage: Stage,
    expected_version: int | None = None,
    values: dict | None = None,
    checklist: Iterable[str] = (),
    closed_at: date | None = None,
    lost_reason: str = "",
    lost_note: str = "",
    now: datetime | None = None,
) -> Deal:
    """Moves an open deal to another stage of its pipeline, forward (also skipping stages)
    or back. The target's entry criteria must hold after applying `values` (missing fields
    given in the same call) and `checklist` (items the caller confirms); otherwise a
    ValidationError lists everything missing and nothing changes. The won stage needs a
    close date (`closed_at`), the lost stage a `lost_reason`. A closed deal does not move:
    reopen it with deal_reopen. Every move records a stage change with the days spent in
    the stage left."""
    _require_deal_write(by, deal)
    now = now or timezone.now()
    deal, read_version = _load_for_write(deal, expected_version)
    if deal.status != Deal.Status.OPEN:
        raise ValidationError({"stage": _("The deal is closed; reopen it before moving it.")})
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": _("Choose a stage of the deal's pipeline.")})
    if stage.pk == deal.stage_id:
        raise ValidationError({"stage": _("The deal is already in this stage.")})
    values = dict(values or {})
    unknown = set(values) - MOVE_VALUE_FIELDS
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    competitors = values.pop("competitors", None)
    if values.get("contact") is not None and values["contact"].account_id != deal.account_id:
        raise ValidationError({"contact": _("The contact works for another account.")})
    if values.get("product_category") is not None:
        _check_related(by, product_category=values["product_category"])
    for name, value in values.items():
        setattr(deal, name, value)
    deal.confirmed_checklist = list(dict.fromkeys([*deal.confirmed_checklist, *checklist]))
    missing = _missing_criteria(deal, stage, bool(competitors))
    if stage.is_won and not closed_at:
        missing["closed_at"] = [_("Give the date the contract was signed.")]
    if stage.is_lost and not lost_reason:
        missing["lost_reason"] = [_("Give the reason the deal was lost.")]
    if missing:
        raise ValidationError(missing)

    previous = deal.stage
    days = _days_between(deal.stage_entered_at, now)
    _enter_stage(deal, stage, now)
    if stage.is_won:
        deal.status, deal.closed_at, kind = Deal.Status.WON, closed_at, StageChange.Kind.WON
    elif stage.is_lost:
        deal.status, kind = Deal.Status.LOST, StageChange.Kind.LOST
        deal.closed_at = closed_at or timezone.localdate(now)
        deal.lost_reason, deal.lost_note = lost_reason, lost_note or deal.lost_note
    else:
        kind = StageChange.Kind.MOVE
    deal.forecast_category = stage.forecast_category
    deal.full_clean()
    _save_versioned(deal, read_version, now)
    if competitors is not None:
        deal.competitors.set(competitors)
    _record(deal, kind, previous, by, now, days)
    return deal


@transaction.atomic
def deal_reopen(
    *,
    by: User | None,
    deal: Deal,
    stage: Stage | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Deal:
    """Reopens a won or lost deal in `stage` (default: the stage it was closed from); the
    close date and lost reason are cleared and a "reopen" stage change is recorded."""
    _require_deal_write(by, deal)
    now = now or timezone.now()
    deal, read_version = _load_for_write(deal, expected_version)
    if deal.status == Deal.Status.OPEN:
        raise ValidationError({"stage": _("The deal is already open.")})
    if stage is None:
        last_close = (
            StageChange.objects.filter(
                deal=deal, kind__in=[StageChange.Kind.WON, StageChange.Kind.LOST]
            )
            .select_related("from_stage")
            .order_by("-changed_at", "-id")
            .first()
        )
        stage = last_close.from_stage if last_close and last_close.from_stage else None
        stage = stage or deal.pipeline.stages.filter(is_won=False, is_lost=False).first()
    if stage.pipeline_id != deal.pipeline_id or stage.is_closed:
        raise ValidationError({"stage": _("Choose an open stage of the deal's pipeline.")})
    previous = deal.stage
    days = _days_between(deal.stage_entered_at, now)
    _enter_stage(deal, stage, now)
    deal.status = Deal.Status.OPEN
    deal.closed_at = None
    deal.lost_reason = ""
    deal.forecast_category = stage.forecast_category
    deal.full_clean()
    _save_versioned(deal, read_version, now)
    _record(deal, StageChange.Kind.REOPEN, previous, by, now, days)
    return deal


@transaction.atomic
def deal_delete(*, by: User | None, deal: Deal) -> Deal:
    """Soft-deletes the deal, so sync clients receive a tombstone; its history stays."""
    _require_deal_write(by, deal)
    now = timezone.now()
    Deal.objects.filter(pk=deal.pk).update(deleted_at=now, updated_at=now, version=F("version") + 1)
    deal.deleted_at = now
    return deal


# Assignment


def _rule_matches(
    rule: AssignmentRule, account: Account, source: str, product_category_id: int | None
) -> bool:
    return (
        (rule.industry_id is None or rule.industry_id == account.industry_id)
        and (rule.region_id is None or rule.region_id == account.region_id)
        and (rule.size_band is None or rule.size_band == account.size_band)
        and (not rule.source or rule.source == source)
        and (rule.product_category_id is None or rule.product_category_id == product_category_id)
    )


def _team_members(rule: AssignmentRule):
    return User.objects.filter(team_id=rule.team_id, role=Role.REP, is_active=True).order_by("pk")


def _apply_rule(rule: AssignmentRule) -> User | None:
    if rule.action == AssignmentRule.Action.USER:
        return rule.user if rule.user and rule.user.is_active else None
    # The rule row is locked until the transaction commits, so concurrent assignments by
    # the same rule take turns and each sees the previous one's pointer and deal.
    locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    if locked.action == AssignmentRule.Action.ROUND_ROBIN:
        member_ids = list(_team_members(locked).values_list("pk", flat=True))
        if not member_ids:
            return None
        last = locked.last_assignee_id
        next_id = next((pk for pk in member_ids if last is not None and pk > last), member_ids[0])
    else:
        loads = (
            _team_members(locked)
            .annotate(
                open_deals=Count(
                    "deals",
                    filter=Q(deals__status=Deal.Status.OPEN, deals__deleted_at__isnull=True),
                )
            )
            .order_by("open_deals", "pk")
            .values_list("pk", flat=True)
        )
        next_id = loads.first()
        if next_id is None:
            return None
    locked.last_assignee_id = next_id
    locked.save(update_fields=["last_assignee", "updated_at"])
    return User.objects.get(pk=next_id)


def _first_rule_owner(account: Account, source: str, product_category_id: int | None):
    for rule in (
        AssignmentRule.objects.filter(active=True).select_related("user").order_by("order", "id")
    ):
        if _rule_matches(rule, account, source, product_category_id):
            owner = _apply_rule(rule)
            if owner is not None:
                return owner
    return None


def assign_owner(*, deal: Deal, account: Account) -> User | None:
    """The owner chosen by the first active rule (in rule order) that matches the deal and
    its account and can name someone; None when no rule does."""
    return _first_rule_owner(account, deal.source, deal.product_category_id)


def assign_lead_owner(lead: Account) -> User | None:
    """The owner of a web lead by the same rules (a lead has no product category yet, so
    only rules without one match); None leaves the lead to the lead-capture round robin."""
    return _first_rule_owner(lead, lead.source, None)


# SLAs


def _alert_manager(owner: User, cache: dict, **message) -> bool:
    if owner.pk not in cache:
        cache[owner.pk] = manager_of(owner)
    manager = cache[owner.pk]
    if manager is None or not manager.is_active:
        return False
    notify(recipient=manager, kind="first_contact_sla", **message)
    return True


def check_first_contact_sla(*, now: datetime | None = None) -> int:
    """Alerts the owner's manager, once, about each lead account and each new open deal
    that had no interaction within the first-contact SLA; returns the alerts sent.

    A deal counts as contacted when its account has an interaction at or after the deal's
    creation; a lead account when it has any interaction. Each record is claimed (a marker
    written) in the same transaction as its alert, so reruns and concurrent workers send
    nothing twice."""
    now = now or timezone.now()
    hours = PipelineSettings.load().first_contact_sla_hours
    managers: dict[int, User | None] = {}
    sent = 0
    deals = (
        selectors.first_contact_overdue_deals(now=now, hours=hours)
        .filter(first_contact_alerted_at__isnull=True)
        .select_related("owner", "owner__team", "account")
        .order_by("pk")
    )
    for deal in deals:
        with transaction.atomic():
            claimed = Deal.objects.filter(pk=deal.pk, first_contact_alerted_at__isnull=True).update(
                first_contact_alerted_at=now
            )
            if claimed and _alert_manager(
                deal.owner,
                managers,
                title=_("Deal not contacted within %(hours)s hours: %(name)s")
                % {"hours": hours, "name": deal.name},
                body=_("%(owner)s has not logged any contact with %(account)s yet.")
                % {"owner": deal.owner.display_name, "account": deal.account.name},
                link=selectors.deal_link(deal.pk),
            ):
                sent += 1
    leads = (
        selectors.first_contact_overdue_leads(now=now, hours=hours)
        .exclude(Exists(LeadContactAlert.objects.filter(account=OuterRef("pk"))))
        .select_related("owner", "owner__team")
        .order_by("pk")
    )
    for account in leads:
        try:
            with transaction.atomic():
                LeadContactAlert.objects.create(account=account)
                if _alert_manager(
                    account.owner,
                    managers,
                    title=_("Lead not contacted within %(hours)s hours: %(name)s")
                    % {"hours": hours, "name": account.name},
                    body=_("%(owner)s has not logged any contact with this lead yet.")
                    % {"owner": account.owner.display_name},
                    link=account_link(account.pk),
                ):
                    sent += 1
        except IntegrityError:
            # Another worker claimed this lead first and sends its alert.
            continue
    return sent


def notify_stale_deals(*, now: datetime | None = None) -> int:
    """Flags open deals past their stage's SLA days and notifies each owner once per stage
    visit (the marker is cleared when the deal changes stage); returns the notices sent."""
    now = now or timezone.now()
    sent = 0
    stale = (
        Deal.objects.open()
        .filter(stage_due_at__lte=now, stale_notified_at__isnull=True)
        .select_related("owner", "stage", "account")
        .order_by("pk")
    )
    for deal in stale:
        with transaction.atomic():
            claimed = Deal.objects.filter(
                pk=deal.pk,
                stale_notified_at__isnull=True,
                stage_id=deal.stage_id,
                stage_entered_at=deal.stage_entered_at,
            ).update(stale_notified_at=now)
            if not claimed or not deal.owner.is_active:
                continue
            notify(
                recipient=deal.owner,
                kind="deal_stale",
                title=_("Deal stuck in %(stage)s: %(name)s")
                % {"stage": deal.stage.display_name, "name": deal.name},
                body=_("%(account)s has been in this stage for more than %(days)s days.")
                % {"account": deal.account.name, "days": deal.stage.sla_days},
                link=selectors.deal_link(deal.pk),
            )
            sent += 1
    return sent


# Rollups


@transaction.atomic
def funnel_rollup(
    *, day: date | None = None, now: datetime | None = None, from_history: bool = False
) -> int:
    """Stores the funnel of `day` (default: yesterday) per pipeline, owner and stage, as
    computed by selectors.funnel_rows_by_owner; rows are upserted and rows no longer
    produced are removed, so a rerun leaves the same rows. Returns the rows stored.

    The in-stage figures are those at `now` (default: the time of the rollup); backfilling
    a past day passes the end of that day as `now` with `from_history`, so they are rebuilt
    from the stage history instead of read from today's deals."""
    now = now or timezone.now()
    day = day or timezone.localdate(now) - timedelta(days=1)
    stored = 0
    for pipeline in Pipeline.objects.all():
        rows = selectors.funnel_rows_by_owner(
            pipeline=pipeline, day=day, now=now, from_history=from_history
        )
        objects = [FunnelSnapshot(day=day, pipeline=pipeline, **row) for row in rows]
        FunnelSnapshot.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["day", "pipeline", "owner", "stage"],
            update_fields=[
                "team",
                "in_stage_count",
                "in_stage_amount",
                "weighted_amount",
                "over_sla_count",
                "entered",
                "advanced",
                "lost",
                "exits",
                "days_in_stage_total",
            ],
            batch_size=500,
        )
        # The upsert gave every stored row its id; whatever else that day holds is stale.
        FunnelSnapshot.objects.filter(day=day, pipeline=pipeline).exclude(
            pk__in=[obj.pk for obj in objects]
        ).delete()
        stored += len(objects)
    return stored


@transaction.atomic
def forecast_rollup(*, today: date | None = None, from_history: bool = False) -> int:
    """Stores today's forecast per owner for the open month and quarter (see
    selectors.forecast_rows_by_owner); upserted, so a rerun leaves the same rows. Backfilling
    a past day passes `from_history`, so the deals count as they stood at the end of it."""
    today = today or timezone.localdate()
    stored = 0
    for kind in ("month", "quarter"):
        start, end = selectors.period_bounds(kind, today)
        rows = selectors.forecast_rows_by_owner(
            period_start=start, period_end=end, today=today, from_history=from_history
        )
        objects = [
            ForecastSnapshot(
                taken_on=today, period_kind=kind, period_start=start, period_end=end, **row
            )
            for row in rows
        ]
        owners = [obj.owner_id for obj in objects]
        ForecastSnapshot.objects.filter(
            taken_on=today, period_kind=kind, period_start=start
        ).exclude(owner_id__in=owners).delete()
        ForecastSnapshot.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["taken_on", "owner", "period_kind", "period_start"],
            update_fields=[
                "team",
                "period_end",
                "closed_won",
                "commit",
                "best_case",
                "pipeline",
                "weighted",
                "win_rate_forecast",
            ],
            batch_size=500,
        )
        stored += len(objects)
    return stored


# Configuration


@transaction.atomic
def pipeline_save(*, by: User | None, pipeline: Pipeline) -> Pipeline:
    """Saves a pipeline; making it the default takes the flag from the previous default."""
    _require_admin(by)
    pipeline.full_clean(validate_constraints=False)
    if pipeline.is_default:
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(
            is_default=False, updated_at=timezone.now()
        )
    elif not Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).exists():
        raise ValidationError({"is_default": _("One pipeline must stay the default.")})
    pipeline.save()
    return pipeline


@transaction.atomic
def stage_save(*, by: User | None, stage: Stage) -> Stage:
    """Saves a stage; a changed SLA moves the stale date of the open deals in it."""
    _require_admin(by)
    previous_sla = (
        Stage.objects.filter(pk=stage.pk).values_list("sla_days", flat=True).first()
        if stage.pk
        else None
    )
    stage.full_clean()
    stage.save()
    if stage.pk and previous_sla != stage.sla_days:
        _reschedule_stage_due(stage)
    return stage


def _reschedule_stage_due(stage: Stage) -> None:
    deals = Deal.objects.open().filter(stage=stage)
    if not stage.sla_days:
        deals.update(stage_due_at=None)
        return
    # Row by row in batches: adding a day count to a timestamp is not portable SQL.
    sla = timedelta(days=stage.sla_days)
    for pk, entered in deals.values_list("pk", "stage_entered_at").iterator(chunk_size=1000):
        Deal.objects.filter(pk=pk).update(stage_due_at=entered + sla)


def config_save(*, by: User | None, instance):
    """Saves a product category, competitor, assignment rule or the settings row."""
    _require_admin(by)
    with transaction.atomic():
        instance.full_clean()
        instance.save()
    return instance


def config_delete(*, by: User | None, instance) -> None:
    """Deletes a configuration row; one still in use is switched off instead when it can
    be, otherwise the deletion is refused."""
    _require_admin(by)
    if isinstance(instance, Pipeline) and instance.is_default:
        raise ValidationError(_("Make another pipeline the default before deleting this one."))
    if isinstance(instance, Competitor) and Deal.all_objects.filter(competitors=instance).exists():
        # Deleting would silently drop it from the deals' history; switch it off instead.
        instance.active = False
        instance.save(update_fields=["active", "updated_at"])
        return
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        if hasattr(instance, "active"):
            instance.active = False
            instance.save(update_fields=["active", "updated_at"])
            return
        raise ValidationError(_("This is still in use and cannot be deleted.")) from error


# Hooks for the customers and teams apps


def merge_account_deals(survivor: Account, merged: Account, by: User | None) -> dict[str, int]:
    """The account merger registered with customers: the merged account's deals move to the
    survivor (their contacts moved with the account's contacts)."""
    moved = Deal.all_objects.filter(account=merged).update(
        account=survivor, updated_at=timezone.now(), version=F("version") + 1
    )
    # Only what moved is reported, so records of merges without deals stay as they were.
    return {"deals": moved} if moved else {}


def reassign_pipeline_ownership(from_user: User, to_user: User) -> dict[str, int]:
    """The ownership reassigner registered with teams: a leaver's open deals move to their
    successor; closed deals keep the person who won or lost them."""
    moved = (
        Deal.objects.open()
        .filter(owner=from_user)
        .update(owner=to_user, updated_at=timezone.now(), version=F("version") + 1)
    )
    return {"deals": moved} if moved else {}

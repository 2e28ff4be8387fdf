"""Generates the deals of the benchmark company: 1,000,000 deals with 5,000,000 stage changes on
the bench accounts (bench.customers) of the 500-rep organisation (bench.org), with set-based
INSERT ... SELECT statements.

Each deal follows one of a few paths of five stage changes through the default pipeline
(won, lost after a step back or a skipped stage, still open in each open stage), with hours
between the changes that vary from deal to deal; its stage, status, close date, stage dates
and SLA due time agree with its history, and each change records the days spent in the stage
it left. Closed deals ended up to 18 months ago, open ones in the last two months. Generated
rows are marked by an external id (bench-d-N), so a rerun adds only what is missing. The
same statements run on PostgreSQL and SQLite, so a tiny run can be tested with the suite.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from bench.customers import Sizes as CustomerSizes
from bench.customers import (
    _account_map,
    _chunks,
    _contact_map,
    _series,
    _text,
    generate_customers,
)
from pipeline.models import Deal, Pipeline, ProductCategory, StageChange

DEALS = 1_000_000
CHANGES_PER_DEAL = 5
CHUNK = 200_000
# Paths of five stage changes (the first is the creation), with how many of every 40 deals
# take each: a quarter won, ten percent still open.
L, N, D, P, W, X = (
    "lead_discovery",
    "needs_analysis",
    "demo",
    "proposal_negotiation",
    "contract_signed",
    "lost",
)
PATHS = [
    ((L, N, D, P, W), 10, ""),
    ((L, N, D, P, X), 9, "competitor"),
    ((L, N, D, N, X), 6, "price"),
    ((L, N, L, N, X), 5, "no_decision"),
    ((L, D, P, D, X), 6, "timing"),
    ((L, N, D, P, D), 1, ""),
    ((L, D, P, D, P), 1, ""),
    ((L, N, D, L, N), 1, ""),
    ((L, N, D, N, L), 1, ""),
]
SLOTS = sum(weight for _path, weight, _reason in PATHS)
# Hours spent in the stages of a deal, each 6 hours to 30 days, from these multipliers.
STEP_PRIMES = (104_729, 1_299_709, 15_485_863, 32_452_843)
CLOSED_SPAN_HOURS = 540 * 24
OPEN_SPAN_HOURS = 60 * 24
CATEGORIES = [
    ("bench-crm", "CRM suite", "CRM 套件"),
    ("bench-analytics", "Sales analytics", "销售数据分析"),
    ("bench-cloud", "Cloud hosting", "云托管服务"),
    ("bench-services", "Implementation services", "实施服务"),
]


@dataclass(frozen=True)
class Sizes:
    deals: int = DEALS

    @classmethod
    def scaled(cls, scale: float) -> "Sizes":
        return cls(deals=max(SLOTS, round(DEALS * scale)))


def _hours(k: int) -> str:
    """Hours the deal spent in the stage left by its k-th change (k = 1..4)."""
    return f"(6 + ((d.g * {STEP_PRIMES[k - 1]}) % 720))"


def _before_now(hours: str, now_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"({now_sql}::timestamptz - ({hours}) * interval '1 hour')"
    return f"datetime({now_sql}, (-({hours})) || ' hours')"


def _local_date(timestamp: str, offset_hours: int) -> str:
    if connection.vendor == "postgresql":
        return f"(({timestamp}) AT TIME ZONE 'UTC' + interval '{offset_hours} hours')::date"
    return f"date({timestamp}, '+{offset_hours} hours')"


def _plus_days(day_sql: str, days: str) -> str:
    if connection.vendor == "postgresql":
        return f"({day_sql}::date + ({days})::integer)"
    return f"date({day_sql}, ({days}) || ' days')"


def _create_helpers(cursor, stages: dict) -> None:
    cursor.execute("DROP TABLE IF EXISTS bench_paths")
    cursor.execute("DROP TABLE IF EXISTS bench_steps")
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_paths (slot integer PRIMARY KEY, stage_id bigint, "
        "status text, lost_reason text, forecast_category text, sla_hours integer)"
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_steps (slot integer, k integer, from_stage_id bigint, "
        "to_stage_id bigint, kind text, PRIMARY KEY (slot, k))"
    )
    paths, steps = [], []
    slot = 0
    for path, weight, reason in PATHS:
        last = stages[path[-1]]
        status = "won" if last.is_won else "lost" if last.is_lost else "open"
        for _copy in range(weight):
            sla = last.sla_days * 24 if status == "open" and last.sla_days else None
            paths.append((slot, last.pk, status, reason, last.forecast_category, sla))
            for k, code in enumerate(path):
                stage = stages[code]
                kind = (
                    "created"
                    if k == 0
                    else "won"
                    if stage.is_won
                    else "lost"
                    if stage.is_lost
                    else "move"
                )
                previous = stages[path[k - 1]].pk if k else None
                steps.append((slot, k, previous, stage.pk, kind))
            slot += 1
    cursor.executemany("INSERT INTO bench_paths VALUES (%s, %s, %s, %s, %s, %s)", paths)
    cursor.executemany("INSERT INTO bench_steps VALUES (%s, %s, %s, %s, %s)", steps)


def _end_hours(g: str) -> str:
    """Hours before now of the deal's last change: open deals moved lately."""
    return (
        f"CASE WHEN p.status = 'open' THEN 1 + (({g} * 7919) % {OPEN_SPAN_HOURS}) "
        f"ELSE 24 + (({g} * 7919) % {CLOSED_SPAN_HOURS}) END"
    )


def _insert_deals(cursor, start, end, accounts, pipeline_id, categories, now_sql, today_sql):
    offset = round(timezone.localtime().utcoffset().total_seconds() / 3600)
    before = " + ".join(_hours(k) for k in range(1, CHANGES_PER_DEAL))
    last_at = _before_now("d.end_h", now_sql)
    created = _before_now(f"d.end_h + {before}", now_sql)
    empty_list = "'[]'::jsonb" if connection.vendor == "postgresql" else "'[]'"
    category = f"CASE (d.g % {len(categories)}) "
    category += " ".join(f"WHEN {i} THEN {pk}" for i, pk in enumerate(categories)) + " END"
    sql = f"""
        {_series(start, end)},
        d AS (
            SELECT s.g AS g, p.slot AS slot, {_end_hours("s.g")} AS end_h
            FROM s JOIN bench_paths p ON p.slot = s.g % {SLOTS}
        )
        INSERT INTO pipeline_deal (
            created_at, updated_at, name, account_id, contact_id, pipeline_id, stage_id,
            amount, product_category_id, owner_id, source, campaign_ref, expected_close,
            status, closed_at, lost_reason, lost_note, forecast_category,
            probability_override, stage_entered_at, stage_due_at, stale_notified_at,
            first_contact_alerted_at, confirmed_checklist, version, external_id, deleted_at
        )
        SELECT
            {created}, {last_at}, 'Bench deal ' || {_text("d.g")}, a.id, c.id, {pipeline_id},
            p.stage_id, 20000 + ((d.g * 7919) % 1981) * 1000, {category}, a.logger_id,
            'manual', '',
            CASE WHEN p.status = 'open' THEN {_plus_days(today_sql, "d.g % 60")}
                 ELSE {_local_date(last_at, offset)} END,
            p.status,
            CASE WHEN p.status = 'open' THEN NULL ELSE {_local_date(last_at, offset)} END,
            p.lost_reason, '', p.forecast_category, NULL, {last_at},
            CASE WHEN p.sla_hours IS NULL THEN NULL
                 ELSE {_before_now("d.end_h - p.sla_hours", now_sql)} END,
            NULL, NULL, {empty_list}, 1, 'bench-d-' || {_text("d.g")}, NULL
        FROM d
        JOIN bench_paths p ON p.slot = d.slot
        JOIN bench_acc a ON a.g = ((d.g * 31) % {accounts}) + 1
        LEFT JOIN bench_con c ON c.account_id = a.id
    """
    cursor.execute(sql)


def _insert_changes(cursor, start: int, end: int, now_sql: str) -> None:
    """The history of the deals bench-d-<start..end>, found by their external id."""
    after = {
        k: " + ".join(_hours(j) for j in range(k + 1, CHANGES_PER_DEAL)) or "0"
        for k in range(CHANGES_PER_DEAL)
    }
    hours_before = "CASE s.k " + " ".join(f"WHEN {k} THEN {after[k]}" for k in after) + " END"
    days = "CASE s.k WHEN 0 THEN NULL " + " ".join(
        f"WHEN {k} THEN ROUND(CAST({_hours(k)} AS NUMERIC) / 24.0, 2)"
        for k in range(1, CHANGES_PER_DEAL)
    )
    days += " END"
    sql = f"""
        WITH d AS (
            SELECT x.id AS id, x.owner_id AS owner_id, x.g AS g, p.slot AS slot,
                   {_end_hours("x.g")} AS end_h
            FROM bench_deal x JOIN bench_paths p ON p.slot = x.g % {SLOTS}
            WHERE x.g BETWEEN {int(start)} AND {int(end)}
        )
        INSERT INTO pipeline_stagechange (
            deal_id, kind, from_stage_id, to_stage_id, changed_at, changed_by_id,
            days_in_previous_stage
        )
        SELECT d.id, s.kind, s.from_stage_id, s.to_stage_id,
               {_before_now(f"d.end_h + {hours_before}", now_sql)}, d.owner_id, {days}
        FROM d JOIN bench_steps s ON s.slot = d.slot
    """
    cursor.execute(sql)


def _deal_map(cursor) -> None:
    """bench_deal(g, id, owner_id): the generated deals by their number."""
    cursor.execute("DROP TABLE IF EXISTS bench_deal")
    number = "CAST(SUBSTR(external_id, 9) AS BIGINT)"
    cursor.execute(
        f"CREATE TEMPORARY TABLE bench_deal AS SELECT {number} AS g, id, owner_id "
        "FROM pipeline_deal WHERE external_id LIKE 'bench-d-%'"
    )
    cursor.execute("CREATE INDEX bench_deal_g ON bench_deal (g)")


def _existing() -> int:
    return Deal.all_objects.filter(external_id__startswith="bench-d-").count()


def _changes_of_generated() -> int:
    return StageChange.objects.filter(deal__external_id__startswith="bench-d-").count()


def generate_pipeline(
    *,
    sizes: Sizes | None = None,
    customer_sizes: CustomerSizes | None = None,
    org: dict | None = None,
    log=print,
) -> dict:
    """Fills the bench company's deals up to `sizes` (and its customers up to
    `customer_sizes`, see bench.customers); returns the org and the row counts. Deals
    generated earlier are kept and only the missing ones are added, with their history."""
    sizes = sizes or Sizes()
    customers = generate_customers(sizes=customer_sizes, org=org, log=log)
    pipeline = Pipeline.objects.get(is_default=True)
    stages = {stage.code: stage for stage in pipeline.stages.all()}
    categories = [
        ProductCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh}
        )[0].pk
        for code, name, name_zh in CATEGORIES
    ]
    now = timezone.now().replace(microsecond=0)
    adapt = connection.ops.adapt_datetimefield_value
    now_sql = f"'{adapt(now)}'"
    today_sql = f"'{timezone.localdate(now).isoformat()}'"
    with transaction.atomic(), connection.cursor() as cursor:
        _create_helpers(cursor, stages)
        # The bench accounts numbered 1..n with who owns them, and their first contacts.
        accounts = _account_map(cursor)
        _contact_map(cursor)
        have = _existing()
        for start, end in _chunks(have + 1, sizes.deals, CHUNK):
            _insert_deals(
                cursor,
                start,
                end,
                accounts,
                pipeline.pk,
                categories,
                now_sql,
                today_sql,
            )
            log(f"deals {end:,}")
        _deal_map(cursor)
        with_history = _changes_of_generated() // CHANGES_PER_DEAL
        for start, end in _chunks(with_history + 1, sizes.deals, CHUNK):
            _insert_changes(cursor, start, end, now_sql)
            log(f"stage changes of deals up to {end:,}")
        for table in ("bench_paths", "bench_steps", "bench_acc", "bench_con", "bench_deal"):
            cursor.execute(f"DROP TABLE {table}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for table in ("pipeline_deal", "pipeline_stagechange"):
                cursor.execute(f"{command} {table}")
    return {
        "org": customers["org"],
        "deals": _existing(),
        "stage_changes": _changes_of_generated(),
        "now": now,
    }

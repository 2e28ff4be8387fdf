"""Generates the customers of the benchmark company: accounts, contacts and interactions over
the bench organisation (bench.org), with set-based INSERT ... SELECT statements.

Every row carries what the application reads: search keys (normalized name, pinyin, pinyin
initials, phone digits, email domain, search_text) exactly as the models compute them, owner
and pool team, industry, region, status, tier, score and last-contacted time. Generated rows
are marked by an external id (bench-a-N, bench-c-N, bench-i-N), so a rerun adds only what is
missing. The same statements run on PostgreSQL (generate_series) and on SQLite (a recursive
CTE), so a tiny run can be tested with the suite.
"""

import itertools
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from bench.org import generate_org
from customers import text
from customers.models import Account, Contact, Industry, Interaction, Region

ACCOUNTS = 200_000
CONTACTS = 400_000
INTERACTIONS = 2_000_000
CHUNK = 250_000
TIME_SLOTS = 20_000
HISTORY_DAYS = 180

CITIES = ["上海", "北京", "深圳", "杭州", "广州", "成都", "武汉", "南京", "苏州", "天津"]
CORES = [
    "华信",
    "瑞达",
    "中科",
    "恒通",
    "远航",
    "金桥",
    "新锐",
    "宏图",
    "博安",
    "天成",
    "海纳",
    "安泰",
]
TRADES = ["科技", "制造", "物流", "医疗", "能源", "软件", "贸易", "电子"]
LATIN = ["Apex", "Blue River", "Northwind", "Summit", "Vertex", "Golden Gate", "Harbor", "Pioneer"]
LATIN_TRADES = ["Systems", "Logistics", "Foods", "Medical", "Energy", "Software", "Electronics"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙"]
GIVEN = ["伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "涛", "芳"]
LATIN_PEOPLE = ["Anna Lee", "David Chen", "Emma Wang", "James Liu", "Lucy Zhang", "Mark Zhou"]
TITLES = ["采购经理", "IT Director", "总经理", "Operations Manager", "财务总监", "工程师"]

STATUSES = [s.value for s in Account.Status]
TIERS = [t.value for t in Account.Tier]
SOURCES = [s.value for s in Account.Source]
SIZES = [s.value for s in Account.SizeBand]
REVENUES = [r.value for r in Account.RevenueBand]
KINDS = [k.value for k in Interaction.Kind]
OUTCOMES = [o.value for o in Interaction.Outcome]
ROLES = [r.value for r in Contact.DecisionRole]


@dataclass(frozen=True)
class Sizes:
    accounts: int = ACCOUNTS
    contacts: int = CONTACTS
    interactions: int = INTERACTIONS

    @classmethod
    def scaled(cls, scale: float) -> "Sizes":
        return cls(
            accounts=max(10, round(ACCOUNTS * scale)),
            contacts=max(20, round(CONTACTS * scale)),
            interactions=max(100, round(INTERACTIONS * scale)),
        )


def _series(start: int, end: int) -> str:
    """A CTE `s(g)` of the integers start..end (64-bit, so products do not overflow)."""
    start, end = int(start), int(end)
    if connection.vendor == "postgresql":
        return f"WITH s(g) AS (SELECT generate_series({start}::bigint, {end}::bigint))"
    return f"WITH RECURSIVE s(g) AS (SELECT {start} UNION ALL SELECT g + 1 FROM s WHERE g < {end})"


def _case(expr: str, values: list) -> str:
    """A CASE picking values[expr % len(values)], with the values as SQL literals."""
    parts = []
    for index, value in enumerate(values):
        literal = f"'{value}'" if isinstance(value, str) else str(value)
        parts.append(f"WHEN {index} THEN {literal}")
    return f"CASE (({expr}) % {len(values)}) {' '.join(parts)} END"


def _text(expr: str) -> str:
    return f"CAST({expr} AS TEXT)"


def _account_names() -> list[tuple]:
    bases = [f"{c}{core}{t}" for c, core, t in itertools.product(CITIES, CORES, TRADES)]
    bases += [f"{name} {trade}" for name, trade in itertools.product(LATIN, LATIN_TRADES)]
    rows = []
    for k, base in enumerate(bases):
        pinyin, initials = text.pinyin_keys(base)
        # The generated name is "<base> <n>"; its keys are the base's keys followed by n.
        normalized = text.normalize_name(f"{base} 0")[:-1]
        rows.append((k, base, base.lower(), pinyin, initials, normalized))
    return rows


def _people() -> list[tuple]:
    names = [s + g for s, g in itertools.product(SURNAMES, GIVEN)] + LATIN_PEOPLE
    rows = []
    for k, name in enumerate(names):
        pinyin, initials = text.pinyin_keys(name)
        rows.append((k, name, name.lower(), pinyin, initials))
    return rows


def _create_helpers(cursor, org: dict, now) -> dict[str, int]:
    dt = connection.data_types["DateTimeField"]
    cursor.execute("DROP TABLE IF EXISTS bench_names")
    cursor.execute("DROP TABLE IF EXISTS bench_people")
    cursor.execute("DROP TABLE IF EXISTS bench_owners")
    cursor.execute("DROP TABLE IF EXISTS bench_times")
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_names (k integer PRIMARY KEY, name text, fold text, "
        "pinyin text, initials text, normalized text)"
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_people (k integer PRIMARY KEY, name text, fold text, "
        "pinyin text, initials text)"
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_owners (k integer PRIMARY KEY, user_id bigint, "
        "team_id bigint)"
    )
    cursor.execute(f"CREATE TEMPORARY TABLE bench_times (k integer PRIMARY KEY, ts {dt})")
    names, people = _account_names(), _people()
    cursor.executemany("INSERT INTO bench_names VALUES (%s, %s, %s, %s, %s, %s)", names)
    cursor.executemany("INSERT INTO bench_people VALUES (%s, %s, %s, %s, %s)", people)
    owners = [(k, rep.pk, rep.team_id) for k, rep in enumerate(org["reps"])]
    cursor.executemany("INSERT INTO bench_owners VALUES (%s, %s, %s)", owners)
    step = timedelta(days=HISTORY_DAYS) / TIME_SLOTS
    adapt = connection.ops.adapt_datetimefield_value
    cursor.executemany(
        "INSERT INTO bench_times VALUES (%s, %s)",
        [(k, adapt(now - step * k)) for k in range(TIME_SLOTS)],
    )
    return {"names": len(names), "people": len(people), "owners": len(owners)}


def _existing(model, prefix: str) -> int:
    return model.all_objects.filter(external_id__startswith=prefix).count()


def _insert_accounts(cursor, start: int, end: int, counts: dict, industries, regions) -> None:
    cte = _series(start, end)
    g = "s.g"
    pool = f"({g} % 50 = 0)"
    name = f"n.name || ' ' || {_text(g)}"
    pinyin = f"n.pinyin || {_text(g)}"
    initials = f"n.initials || substr({_text(g)}, 1, 1)"
    email = f"'info@c' || {_text(g)} || '.bench.example'"
    phone_digits = f"'021' || {_text(f'10000000 + {g}')}"
    search = (
        f"n.fold || ' ' || {_text(g)} || ' | ' || {pinyin} || ' | ' || {initials} || ' | ' || "
        f"{email} || ' | ' || {phone_digits}"
    )
    sql = f"""
        {cte}
        INSERT INTO customers_account (
            created_at, updated_at, deleted_at, name, name_normalized, name_pinyin,
            name_initials, search_text, industry_id, region_id, size_band, revenue_band,
            status, tier, lead_score, source, owner_id, pool_team_id, released_at,
            released_by_id, owner_since, previous_owner_id, recycle_warned_at, website, phone,
            phone_digits, email, email_domain, address, notes, external_id, last_contacted_at
        )
        SELECT
            t.ts, t.ts, NULL, {name}, n.normalized || {_text(g)}, {pinyin},
            {initials}, {search}, {_case(f"{g} * 7", industries)}, {_case(g, regions)},
            {_case(g, SIZES)}, {_case(f"{g} * 3", REVENUES)},
            {_case(g, STATUSES)}, {_case(f"{g} / 3", TIERS)}, {g} % 101, {_case(g, SOURCES)},
            CASE WHEN {pool} THEN NULL ELSE o.user_id END, o.team_id,
            CASE WHEN {pool} THEN t.ts ELSE NULL END,
            CASE WHEN {pool} THEN o.user_id ELSE NULL END,
            CASE WHEN {pool} THEN NULL ELSE t.ts END, NULL, NULL,
            'https://c' || {_text(g)} || '.bench.example', '021-' || {_text(f"10000000 + {g}")},
            {phone_digits}, {email}, 'c' || {_text(g)} || '.bench.example', '', '',
            'bench-a-' || {_text(g)}, NULL
        FROM s
        JOIN bench_names n ON n.k = ({g} * 7919) % {counts["names"]}
        JOIN bench_owners o ON o.k = {g} % {counts["owners"]}
        JOIN bench_times t ON t.k = ({g} * 104729) % {TIME_SLOTS}
    """
    cursor.execute(sql)


def _account_map(cursor) -> int:
    """bench_acc(g, id, logger_id): generated accounts numbered 1..n, with who logs on them."""
    cursor.execute("DROP TABLE IF EXISTS bench_acc")
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_acc AS SELECT "
        "ROW_NUMBER() OVER (ORDER BY id) AS g, id, "
        "COALESCE(owner_id, released_by_id) AS logger_id "
        "FROM customers_account WHERE external_id LIKE 'bench-a-%'"
    )
    cursor.execute("CREATE INDEX bench_acc_g ON bench_acc (g)")
    cursor.execute("SELECT COUNT(*) FROM bench_acc")
    return cursor.fetchone()[0]


def _insert_contacts(cursor, start: int, end: int, accounts: int, counts: dict) -> None:
    cte = _series(start, end)
    g = "s.g"
    email = f"'p' || {_text(g)} || '@c' || {_text('a.g')} || '.bench.example'"
    mobile = _text(f"13900000000 + {g}")
    search = (
        f"p.fold || ' | ' || p.pinyin || ' | ' || p.initials || ' | ' || {email} || ' | ' || "
        f"{mobile}"
    )
    sql = f"""
        {cte}
        INSERT INTO customers_contact (
            created_at, updated_at, deleted_at, account_id, name, name_pinyin, name_initials,
            search_text, title, department, phone, mobile, phone_digits, mobile_digits, email,
            wechat_id, preferred_channel, decision_role, preferences, is_primary, external_id
        )
        SELECT
            t.ts, t.ts, NULL, a.id, p.name, p.pinyin, p.initials,
            {search}, {_case(g, TITLES)}, '', '', {mobile}, '', {mobile}, {email},
            '', 'mobile', {_case(g, ROLES)}, '', {g} <= {accounts}, 'bench-c-' || {_text(g)}
        FROM s
        JOIN bench_acc a ON a.g = (({g} - 1) % {accounts}) + 1
        JOIN bench_people p ON p.k = ({g} * 31) % {counts["people"]}
        JOIN bench_times t ON t.k = ({g} * 7919) % {TIME_SLOTS}
    """
    cursor.execute(sql)


def _contact_map(cursor) -> int:
    cursor.execute("DROP TABLE IF EXISTS bench_con")
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_con AS SELECT c.account_id, MIN(c.id) AS id "
        "FROM customers_contact c WHERE c.external_id LIKE 'bench-c-%' GROUP BY c.account_id"
    )
    cursor.execute("CREATE INDEX bench_con_account ON bench_con (account_id)")
    cursor.execute("SELECT COUNT(*) FROM bench_con")
    return cursor.fetchone()[0]


def _insert_interactions(cursor, start: int, end: int, accounts: int) -> None:
    cte = _series(start, end)
    g = "s.g"
    sql = f"""
        {cte}
        INSERT INTO customers_interaction (
            created_at, updated_at, deleted_at, account_id, contact_id, logged_by_id, kind,
            occurred_at, subject, summary, outcome, next_step, next_step_due, external_id
        )
        SELECT
            t.ts, t.ts, NULL, a.id, c.id, a.logger_id, {_case(g, KINDS)},
            t.ts, 'Bench touch ' || {_text(g)}, 'Discussed needs and next steps.',
            {_case(f"{g} / 7", OUTCOMES)}, '', NULL, 'bench-i-' || {_text(g)}
        FROM s
        JOIN bench_acc a ON a.g = ({g} % {accounts}) + 1
        LEFT JOIN bench_con c ON c.account_id = a.id
        JOIN bench_times t ON t.k = ({g} * 104729) % {TIME_SLOTS}
    """
    cursor.execute(sql)


def _set_last_contacted(cursor) -> None:
    cursor.execute(
        """
        UPDATE customers_account SET last_contacted_at = m.latest
        FROM (
            SELECT account_id, MAX(occurred_at) AS latest FROM customers_interaction
            WHERE external_id LIKE 'bench-i-%' GROUP BY account_id
        ) AS m
        WHERE customers_account.id = m.account_id
          AND customers_account.external_id LIKE 'bench-a-%'
        """
    )


def _chunks(start: int, end: int, size: int = CHUNK):
    while start <= end:
        yield start, min(end, start + size - 1)
        start += size


def generate_customers(*, sizes: Sizes | None = None, org: dict | None = None, log=print) -> dict:
    """Fills the bench company (bench.org's, unless `org` is given) up to `sizes`; returns
    the org and the row counts. Rows generated earlier are kept and only the missing ones
    are added."""
    sizes = sizes or Sizes()
    org = org or generate_org()
    industries = list(
        Industry.objects.filter(active=True).order_by("pk").values_list("pk", flat=True)
    )
    regions = list(Region.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        counts = _create_helpers(cursor, org, now)
        have = _existing(Account, "bench-a-")
        for start, end in _chunks(have + 1, sizes.accounts):
            _insert_accounts(cursor, start, end, counts, industries, regions)
            log(f"accounts {end:,}")
        accounts = _account_map(cursor)
        have = _existing(Contact, "bench-c-")
        for start, end in _chunks(have + 1, sizes.contacts):
            _insert_contacts(cursor, start, end, accounts, counts)
            log(f"contacts {end:,}")
        _contact_map(cursor)
        have = _existing(Interaction, "bench-i-")
        added = False
        for start, end in _chunks(have + 1, sizes.interactions):
            _insert_interactions(cursor, start, end, accounts)
            added = True
            log(f"interactions {end:,}")
        if added:
            _set_last_contacted(cursor)
        for table in ("bench_names", "bench_people", "bench_owners", "bench_times"):
            cursor.execute(f"DROP TABLE {table}")
        cursor.execute("DROP TABLE bench_acc")
        cursor.execute("DROP TABLE bench_con")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Settled tables, as in production: statistics and the visibility map that
            # index-only scans rely on, for the rows and for the org the visibility rule
            # reads. (VACUUM cannot run inside a transaction, such as a test's.)
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for table in (
                "teams_team",
                "teams_user",
                "customers_account",
                "customers_contact",
                "customers_interaction",
            ):
                cursor.execute(f"{command} {table}")
    return {
        "org": org,
        "accounts": _existing(Account, "bench-a-"),
        "contacts": _existing(Contact, "bench-c-"),
        "interactions": _existing(Interaction, "bench-i-"),
    }

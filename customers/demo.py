"""The demo company's customers: accounts across industries and regions owned by the demo
reps (a few in each region's public pool), their contacts, six months of interactions,
follow-ups overdue, due today and upcoming, tags and lead scoring rules.

Deterministic (a fixed random seed) and safe to run twice: nothing is added when accounts
already exist. Rows are bulk-inserted; the last-contacted times and the scores are then
computed by the same code the application uses."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from customers import services, text
from customers.models import (
    Account,
    AccountEvent,
    Contact,
    CustomerSettings,
    FollowUp,
    Industry,
    Interaction,
    LeadScoringRule,
    Region,
    Tag,
)
from teams.models import Role, Team, User

SEED = 20261123
ACCOUNTS_PER_REGION = 100
POOL_PER_REGION = 6
CONTACTS = 600
INTERACTIONS = 2000

# The provinces each demo region sells into (team code -> region codes).
TERRITORIES = {
    "east": ["shanghai", "jiangsu", "zhejiang", "anhui", "fujian", "shandong", "jiangxi"],
    "north": ["beijing", "tianjin", "hebei", "shanxi", "liaoning", "inner-mongolia", "jilin"],
    "south": ["guangdong", "guangxi", "hainan", "hunan", "hong-kong", "macau", "overseas"],
}
CITY_PREFIX = {
    "shanghai": "上海",
    "jiangsu": "苏州",
    "zhejiang": "杭州",
    "anhui": "合肥",
    "fujian": "厦门",
    "shandong": "青岛",
    "jiangxi": "南昌",
    "beijing": "北京",
    "tianjin": "天津",
    "hebei": "石家庄",
    "shanxi": "太原",
    "liaoning": "大连",
    "inner-mongolia": "呼和浩特",
    "jilin": "长春",
    "guangdong": "深圳",
    "guangxi": "南宁",
    "hainan": "海口",
    "hunan": "长沙",
    "hong-kong": "香港",
    "macau": "澳门",
    "overseas": "",
}
CN_CORES = [
    "恒通",
    "华信",
    "瑞丰",
    "金桥",
    "远航",
    "鼎盛",
    "博源",
    "新锐",
    "天成",
    "汇智",
    "宏达",
    "中科",
    "安信",
    "腾跃",
    "永泰",
    "嘉禾",
    "明德",
    "润泽",
    "启明",
    "海川",
    "星辰",
    "盛世",
    "凯达",
    "同创",
    "正泰",
    "方圆",
    "联合",
    "长城",
    "东方",
    "银河",
]
CN_TRADES = {
    "manufacturing": ["精密机械", "模具制造", "电子元件", "工业设备"],
    "it-software": ["软件技术", "信息科技", "数据服务", "云计算"],
    "retail": ["商贸", "连锁超市", "百货", "电子商务"],
    "finance": ["投资管理", "融资租赁", "保险代理", "资产管理"],
    "healthcare": ["医疗器械", "生物科技", "健康管理", "医药"],
    "logistics": ["物流", "供应链管理", "国际货运", "仓储服务"],
    "energy": ["新能源", "光伏科技", "电力工程", "储能技术"],
    "education": ["教育科技", "职业培训", "文化传播", "教育咨询"],
    "real-estate": ["置业", "物业管理", "建筑设计", "地产开发"],
    "automotive": ["汽车零部件", "汽车销售服务", "新能源汽车", "汽车电子"],
    "telecom": ["通信技术", "网络工程", "通信设备", "物联网科技"],
}
CN_LEGAL = ["有限公司", "股份有限公司", "集团有限公司", "科技有限公司"]
EN_WORDS = [
    "Blue Harbor",
    "Summit",
    "Silverline",
    "Northstar",
    "Evergreen",
    "Pacific Rim",
    "Redwood",
    "Keystone",
    "Brightpath",
    "Oriental Pearl",
    "Golden Gate",
    "Jade River",
    "Lotus",
    "Crescent",
    "Harborview",
    "Skybridge",
    "Meridian",
    "Cobalt",
    "Pinnacle",
    "Orchid",
]
EN_TRADES = {
    "manufacturing": ["Precision", "Industrial", "Machinery"],
    "it-software": ["Software", "Digital", "Data Systems"],
    "retail": ["Retail", "Trading", "Consumer Goods"],
    "finance": ["Capital", "Financial", "Leasing"],
    "healthcare": ["Medical", "Biotech", "Health"],
    "logistics": ["Logistics", "Freight", "Supply Chain"],
    "energy": ["Energy", "Solar", "Power"],
    "education": ["Learning", "Education", "Academy"],
    "real-estate": ["Properties", "Realty", "Estates"],
    "automotive": ["Auto Parts", "Motors", "Mobility"],
    "telecom": ["Telecom", "Networks", "Connect"],
}
EN_LEGAL = ["Co., Ltd.", "Ltd.", "Inc.", "Group", "Limited"]
CN_FAMILY = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛"
)
CN_GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "志强",
    "建华",
    "晓东",
    "雪梅",
    "海燕",
    "文博",
    "子涵",
    "浩然",
    "思远",
    "佳怡",
    "雨桐",
    "俊杰",
    "欣怡",
]
EN_FIRST = [
    "James",
    "Emily",
    "Michael",
    "Sophia",
    "David",
    "Olivia",
    "Daniel",
    "Grace",
    "Kevin",
    "Linda",
    "Peter",
    "Sarah",
    "Andrew",
    "Rachel",
    "Thomas",
    "Hannah",
    "Steven",
    "Chloe",
]
EN_LAST = [
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "Wong",
    "Chan",
    "Lee",
    "Ng",
    "Cheung",
    "Lam",
    "Tan",
    "Lim",
]
CN_TITLES = [
    "总经理",
    "采购经理",
    "技术总监",
    "IT经理",
    "财务总监",
    "运营经理",
    "行政主管",
    "副总裁",
]
EN_TITLES = [
    "General Manager",
    "Purchasing Manager",
    "CTO",
    "IT Manager",
    "CFO",
    "Operations Manager",
    "Office Manager",
    "VP Sales",
]
DEPARTMENTS = [
    "采购部 Purchasing",
    "IT部 IT",
    "财务部 Finance",
    "运营部 Operations",
    "总经办 Management",
]
TAGS = [
    ("重点客户 Key account", "#c53030"),
    ("续约 Renewal", "#1a7f4b"),
    ("展会 Trade show", "#1d5fbf"),
    ("竞品在用 Competitor user", "#b7791f"),
    ("渠道 Channel", "#6b46c1"),
]
SUBJECTS = {
    Interaction.Kind.CALL: [
        "电话跟进需求",
        "Follow-up call on the quote",
        "确认预算和时间表",
        "Intro call",
    ],
    Interaction.Kind.EMAIL: [
        "发送产品资料",
        "Sent the proposal",
        "报价邮件",
        "Case studies by email",
    ],
    Interaction.Kind.MEETING: [
        "方案讨论会",
        "Requirements workshop",
        "商务谈判",
        "Quarterly review",
    ],
    Interaction.Kind.VISIT: ["上门拜访", "Site visit", "工厂参观", "Visited the new office"],
    Interaction.Kind.DEMO: [
        "产品演示",
        "Product demo for the IT team",
        "试用版演示",
        "Demo of reporting",
    ],
    Interaction.Kind.OTHER: [
        "微信沟通",
        "Met at the trade show",
        "行业交流会",
        "Referral introduction",
    ],
}
SUMMARIES = [
    "客户对价格比较敏感，希望下季度启动采购。",
    "Interested in the standard package; needs approval from finance.",
    "对方技术负责人提出了集成方面的问题，需要售前支持。",
    "They are comparing us with two competitors; decision expected next month.",
    "沟通顺利，客户要求提供详细报价和成功案例。",
    "No budget this year, but keen to stay in touch.",
    "",
]
NEXT_STEPS = [
    "发送正式报价",
    "Send the revised proposal",
    "安排技术交流",
    "Book a demo with the users",
    "确认合同条款",
    "Call back about the budget",
    "提供客户案例",
    "Invite to the customer event",
]


def _local(day_offset: int, hour: int, minute: int, now: datetime) -> datetime:
    tz = ZoneInfo(settings.TIME_ZONE)
    local_now = now.astimezone(tz)
    day = (local_now + timedelta(days=day_offset)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def _company(rng: random.Random, industry: str, region: str, used: set[str]) -> tuple[str, str]:
    """A company name and its mail domain, unique by normalized name."""
    for _attempt in range(50):
        if region != "overseas" and rng.random() < 0.65:
            core = rng.choice(CN_CORES)
            name = (
                CITY_PREFIX.get(region, "")
                + core
                + rng.choice(CN_TRADES[industry])
                + rng.choice(CN_LEGAL)
            )
            _pinyin, initials = text.pinyin_keys(core)
            slug = f"{initials or 'cn'}{rng.randint(10, 99)}"
            domain = f"{slug}.com.cn"
        else:
            word = rng.choice(EN_WORDS)
            trade = rng.choice(EN_TRADES[industry])
            name = f"{word} {trade} {rng.choice(EN_LEGAL)}"
            domain = "".join(ch for ch in f"{word}{trade}".lower() if ch.isalnum()) + ".com"
        key = text.normalize_name(name)
        if key not in used:
            used.add(key)
            return name, domain
    raise RuntimeError("could not find a unique demo company name")


def _person(rng: random.Random, chinese: bool) -> tuple[str, str, str]:
    if chinese:
        family, given = rng.choice(CN_FAMILY), rng.choice(CN_GIVEN)
        pinyin, _initials = text.pinyin_keys(given + family)
        return family + given, rng.choice(CN_TITLES), pinyin.replace(" ", "")[:20]
    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
    return f"{first} {last}", rng.choice(EN_TITLES), f"{first}.{last}".lower()


TARGET_INDUSTRIES = "manufacturing,it-software,healthcare"


def _scoring_rules() -> None:
    rules = [
        ("目标行业 Target industries", "industry", "in", TARGET_INDUSTRIES, 20),
        ("规模 200+ employees", "size_band", "gte", "200", 15),
        ("年收入 100M+ revenue", "revenue_band", "gte", "100", 10),
        ("近30天互动 Recent touches", "recent_interactions", "each", "", 5),
        ("多位联系人 Several contacts", "contacts", "gte", "2", 10),
        ("60天未联系 No contact in 60 days", "days_since_contact", "gte", "60", -10),
        ("重点客户 Key account tag", "tags", "in", "重点客户 Key account", 15),
    ]
    for order, (name, field, operator, value, points) in enumerate(rules, start=1):
        LeadScoringRule.objects.get_or_create(
            name=name,
            defaults={
                "field": field,
                "operator": operator,
                "value": value,
                "points": points,
                "window_days": 30,
                "order": order * 10,
            },
        )


def seed(log) -> dict:
    if Account.all_objects.exists():
        log("Customers: accounts already exist; not adding demo customers.")
        return {}
    rng = random.Random(SEED)
    now = timezone.now()
    industries = {row.code: row for row in Industry.objects.filter(code__in=CN_TRADES)}
    regions = {row.code: row for row in Region.objects.all()}
    tags = [Tag.objects.get_or_create(name=name, defaults={"colour": c})[0] for name, c in TAGS]
    _scoring_rules()

    region_teams = {
        user.username.removesuffix("_mgr"): user.team
        for user in User.objects.filter(username__in=[f"{code}_mgr" for code in TERRITORIES])
    }
    used_names: set[str] = set()
    accounts: list[Account] = []
    for code, territory in TERRITORIES.items():
        region_team = region_teams.get(code)
        reps = list(
            User.objects.filter(username__startswith=f"{code}_rep", role=Role.REP)
            .select_related("team")
            .order_by("username")
        )
        if region_team is None or not reps:
            continue
        for index in range(ACCOUNTS_PER_REGION):
            industry_code = rng.choice(list(industries))
            region_code = rng.choice(territory)
            name, domain = _company(rng, industry_code, region_code, used_names)
            rep = reps[index % len(reps)]
            in_pool = index < POOL_PER_REGION
            account = Account(
                name=name,
                industry=industries[industry_code],
                region=regions.get(region_code),
                size_band=rng.choice(Account.SizeBand.values),
                revenue_band=rng.choice(Account.RevenueBand.values),
                status=rng.choices(
                    Account.Status.values, weights=[30, 35, 28, 7] if not in_pool else [6, 3, 0, 1]
                )[0],
                source=rng.choices(Account.Source.values, weights=[40, 15, 20, 12, 8, 5])[0],
                owner=None if in_pool else rep,
                pool_team=rep.team,
                owner_since=None if in_pool else now,
                previous_owner=rep if in_pool else None,
                released_at=now - timedelta(days=rng.randint(2, 40)) if in_pool else None,
                website=f"https://www.{domain}",
                phone=f"0{rng.randint(10, 99)}-{rng.randint(10000000, 99999999)}",
                email=f"info@{domain}",
                address=f"{CITY_PREFIX.get(region_code, '')} {rng.randint(1, 999)}号",
                notes=rng.choice(["", "", "年度框架协议客户。", "Prefers WeChat over email."]),
            )
            account.refresh_keys()
            accounts.append(account)
    if not accounts:
        log("Customers: no demo reps found; seed the organisation first.")
        return {}
    Account.objects.bulk_create(accounts, batch_size=500)
    accounts = list(Account.objects.select_related("owner", "previous_owner").order_by("pk"))
    for account, created_days in zip(
        accounts, [rng.randint(40, 420) for _ in accounts], strict=True
    ):
        account.created_at = now - timedelta(days=created_days)
        if account.owner_id:
            account.owner_since = account.created_at
    Account.objects.bulk_update(accounts, ["created_at", "owner_since"], batch_size=500)
    AccountEvent.objects.bulk_create(
        [
            AccountEvent(account=account, kind=AccountEvent.Kind.CREATED, detail={"demo": True})
            for account in accounts
        ],
        batch_size=500,
    )
    # The "created" entries of the timelines date from when each account was entered.
    AccountEvent.objects.update(
        created_at=Subquery(Account.objects.filter(pk=OuterRef("account_id")).values("created_at"))
    )
    through = Account.tags.through
    through.objects.bulk_create(
        [
            through(account_id=account.pk, tag_id=tag.pk)
            for account in accounts
            for tag in rng.sample(tags, rng.choice([0, 0, 0, 1, 1, 2]))
        ]
    )

    # Contacts: one primary for every account, the rest spread at random.
    contacts: list[Contact] = []
    per_account = {account.pk: 1 for account in accounts}
    for _extra in range(CONTACTS - len(accounts)):
        per_account[rng.choice(accounts).pk] += 1
    domains = {account.pk: account.email.split("@", 1)[1] for account in accounts}
    for account in accounts:
        for number in range(per_account[account.pk]):
            name, title, mailbox = _person(rng, not account.name.isascii())
            contact = Contact(
                account=account,
                name=name,
                title=title,
                department=rng.choice(DEPARTMENTS),
                mobile=f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                email=f"{mailbox}{number or ''}@{domains[account.pk]}",
                wechat_id=f"wx_{mailbox}{rng.randint(10, 99)}" if rng.random() < 0.5 else "",
                preferred_channel=rng.choice(Contact.Channel.values),
                decision_role=rng.choice(Contact.DecisionRole.values),
                is_primary=number == 0,
            )
            contact.refresh_keys()
            contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=500)
    contacts_by_account: dict[int, list[int]] = {}
    for pk, account_id in Contact.objects.values_list("pk", "account_id").order_by("pk"):
        contacts_by_account.setdefault(account_id, []).append(pk)

    # Interactions over six months; most owned accounts were touched in the last weeks.
    interactions: list[Interaction] = []
    owned = [account for account in accounts if account.owner_id]
    for account in owned:
        if rng.random() < 0.85:
            interactions.append(_interaction(rng, account, rng.randint(-25, 0), now))
    while len(interactions) < INTERACTIONS:
        account = rng.choice(accounts)
        interactions.append(_interaction(rng, account, rng.randint(-180, 0), now))
    for interaction in interactions:
        choices = contacts_by_account.get(interaction.account_id, [])
        interaction.contact_id = rng.choice(choices) if choices and rng.random() < 0.8 else None
    Interaction.objects.bulk_create(interactions, batch_size=500)

    # Follow-ups for every rep: overdue, due today and upcoming, plus some already done.
    followups: list[FollowUp] = []
    by_owner: dict[int, list[Account]] = {}
    for account in owned:
        by_owner.setdefault(account.owner_id, []).append(account)
    day_end = _local(1, 0, 0, now)
    for owner_accounts in by_owner.values():
        due_times = [_local(-rng.randint(1, 6), rng.choice([10, 14, 16]), 0, now) for _ in "abc"]
        due_times += [now + (day_end - now) * rng.uniform(0.2, 0.9) for _ in "ab"]
        due_times += [_local(rng.randint(1, 12), rng.choice([10, 14, 16]), 0, now) for _ in "abcde"]
        for due_at in due_times:
            account = rng.choice(owner_accounts)
            followups.append(
                FollowUp(
                    account=account,
                    assignee_id=account.owner_id,
                    created_by_id=account.owner_id,
                    title=rng.choice(NEXT_STEPS),
                    due_at=due_at,
                    priority=rng.choice(FollowUp.Priority.values),
                )
            )
        for _number in range(3):
            account = rng.choice(owner_accounts)
            followups.append(
                FollowUp(
                    account=account,
                    assignee_id=account.owner_id,
                    created_by_id=account.owner_id,
                    title=rng.choice(NEXT_STEPS),
                    due_at=_local(-rng.randint(7, 60), 10, 0, now),
                    status=FollowUp.Status.DONE,
                    done_at=now - timedelta(days=rng.randint(1, 6)),
                    reminded_at=now,
                )
            )
    FollowUp.objects.bulk_create(followups, batch_size=500)

    latest = (
        Interaction.objects.filter(account=OuterRef("pk"), occurred_at__lte=now)
        .order_by()
        .values("account")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    Account.objects.update(last_contacted_at=Subquery(latest))
    settings_row = CustomerSettings.load()
    if settings_row.lead_capture_team_id is None:
        squad = Team.objects.filter(depth=2, members__role=Role.REP).order_by("path").first()
        settings_row.lead_capture_team = squad
        settings_row.save(update_fields=["lead_capture_team", "updated_at"])
    services.accounts_recompute_scores()
    log(
        f"Customers: {Account.objects.count()} accounts, {Contact.objects.count()} contacts, "
        f"{Interaction.objects.count()} interactions, {FollowUp.objects.count()} follow-ups."
    )
    return {}


def _interaction(rng: random.Random, account: Account, day: int, now: datetime) -> Interaction:
    kind = rng.choices(Interaction.Kind.values, weights=[40, 20, 12, 12, 8, 8])[0]
    occurred = _local(day, rng.randint(9, 17), rng.choice([0, 15, 30, 45]), now)
    if occurred > now:
        occurred = now - timedelta(minutes=rng.randint(5, 120))
    logger = account.owner or account.previous_owner
    return Interaction(
        account=account,
        logged_by=logger,
        kind=kind,
        occurred_at=occurred,
        subject=rng.choice(SUBJECTS[kind]),
        summary=rng.choice(SUMMARIES),
        outcome=rng.choice(Interaction.Outcome.values),
    )

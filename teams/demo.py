"""The demo company's organisation: ladder, team tree and people. Safe to run twice."""

import zlib
from datetime import date

from teams import services
from teams.models import LadderLevel, Role, Team, User

DEMO_PASSWORD = "salesdemo"

LADDER = [
    (1, "junior_rep", "Junior sales rep", "初级销售代表"),
    (2, "intermediate_rep", "Sales rep", "中级销售代表"),
    (3, "senior_rep", "Senior sales rep", "高级销售代表"),
    (4, "supervisor", "Sales supervisor", "销售主管"),
    (5, "manager", "Sales manager", "销售经理"),
]

# (region code, team name, region label, manager, supervisors with their reps)
REGIONS = [
    (
        "east",
        "华东大区 East",
        "华东",
        ("王", "建国"),
        [
            (("陈", "静"), [("李", "娜"), ("张", "伟"), ("刘", "洋")]),
            (("杨", "帆"), [("赵", "敏"), ("黄", "磊"), ("周", "婷")]),
        ],
    ),
    (
        "north",
        "华北大区 North",
        "华北",
        ("孙", "立明"),
        [
            (("吴", "强"), [("郑", "丽"), ("冯", "超")]),
            (("何", "雪"), [("许", "杰"), ("马", "琳"), ("朱", "涛")]),
        ],
    ),
    (
        "south",
        "华南大区 South",
        "华南",
        ("林", "志华"),
        [
            (("郭", "斌"), [("罗", "欣"), ("梁", "浩"), ("宋", "佳")]),
            (("谢", "芳"), [("韩", "冰"), ("唐", "鹏")]),
        ],
    ),
]


def _user(username, *, family, given, team, role, level, hire_date, email_domain="demo.example"):
    user = User.objects.filter(username=username).first()
    if user is None:
        user = services.user_create(
            by=None,
            username=username,
            password=DEMO_PASSWORD,
            team=team,
            role=role,
            ladder_level=level,
            last_name=family,
            first_name=given,
            email=f"{username}@{email_domain}",
            phone=f"138{zlib.crc32(username.encode()) % 10**8:08d}",
            hire_date=hire_date,
        )
    return user


def _team(name, *, parent, region=""):
    team = Team.objects.filter(name=name, parent=parent).first()
    return team or services.team_create(by=None, name=name, parent=parent, region=region)


def seed(log) -> dict:
    levels = {}
    for rank, code, name, name_zh in LADDER:
        levels[code], _ = LadderLevel.objects.update_or_create(
            code=code, defaults={"rank": rank, "name": name, "name_zh": name_zh}
        )

    if not User.objects.filter(username="admin").exists():
        services.user_create(
            by=None,
            username="admin",
            password=DEMO_PASSWORD,
            role=Role.ADMIN,
            first_name="Admin",
            email="admin@demo.example",
            is_superuser=True,
        )

    hq = _team("销售总部 Sales HQ", parent=None, region="全国")
    head = _user(
        "head",
        family="周",
        given="海涛",
        team=hq,
        role=Role.MANAGER,
        level=levels["manager"],
        hire_date=date(2014, 3, 3),
    )
    services.team_set_manager(by=None, team=hq, manager=head)

    hire_year = 2016
    for code, team_name, region, manager_name, squads in REGIONS:
        region_team = _team(team_name, parent=hq, region=region)
        manager = _user(
            f"{code}_mgr",
            family=manager_name[0],
            given=manager_name[1],
            team=region_team,
            role=Role.MANAGER,
            level=levels["manager"],
            hire_date=date(hire_year, 5, 9),
        )
        services.team_set_manager(by=None, team=region_team, manager=manager)
        for index, (supervisor_name, reps) in enumerate(squads, start=1):
            squad = _team(f"{team_name} · {index}", parent=region_team, region=region)
            supervisor = _user(
                f"{code}_sup{index}",
                family=supervisor_name[0],
                given=supervisor_name[1],
                team=squad,
                role=Role.SUPERVISOR,
                level=levels["supervisor"],
                hire_date=date(hire_year + 2, 7, 1),
            )
            services.team_set_manager(by=None, team=squad, manager=supervisor)
            for rep_index, (family, given) in enumerate(reps, start=1):
                number = (index - 1) * 3 + rep_index
                level = ("senior_rep", "intermediate_rep", "junior_rep")[rep_index % 3]
                _user(
                    f"{code}_rep{number}",
                    family=family,
                    given=given,
                    team=squad,
                    role=Role.REP,
                    level=levels[level],
                    hire_date=date(2019 + rep_index, (number % 12) + 1, 15),
                )
        hire_year += 1

    log(f"Organisation: {Team.objects.count()} teams, {User.objects.count()} users.")
    return {"logins": demo_logins()}


def demo_logins() -> list[tuple[str, str]]:
    """The demo logins that exist in this database, for printing on start."""
    logins = [("admin", "admin"), ("head", "head of sales")]
    for code, *_ in REGIONS:
        logins += [
            (f"{code}_mgr", f"{code} region manager"),
            (f"{code}_sup1", f"{code} region supervisor"),
            (f"{code}_rep1", f"{code} region rep"),
        ]
    existing = set(
        User.objects.filter(username__in=[u for u, _ in logins]).values_list("username", flat=True)
    )
    return [(username, what) for username, what in logins if username in existing]

"""The demo company's training: a bilingual course catalogue tagged with pipeline stages and
review criteria, the ladder's promotion criteria, enrollments in every state, mentorships,
development plans and a knowledge base of product notes, market news, competitor
intelligence and cases from won and lost deals. A few reps meet every criterion of their
next level, so the readiness page has someone to promote."""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from performance.models import CriterionKind, ImprovementPlan
from pipeline.models import Deal, Pipeline
from teams.models import LadderLevel, Role, User
from teams.selectors import manager_of
from training import selectors, services
from training.models import (
    Article,
    CareerTrack,
    Course,
    DevelopmentAction,
    Enrollment,
)

SEED = 2718

C = Course.Category
F_ = Course.Format
K = CriterionKind

# title, Chinese title, category, format, hours, stages (codes), criteria, pass score, levels
COURSES = [
    ("Welcome to the company", "公司与文化入门", C.ONBOARDING, F_.CLASSROOM, 4, [], [], None, []),
    (
        "CRM and sales process basics",
        "CRM 与销售流程基础",
        C.ONBOARDING,
        F_.ONLINE,
        3,
        ["lead_discovery"],
        [],
        80,
        ["intermediate_rep"],
    ),
    (
        "Product line overview",
        "产品线全景",
        C.PRODUCT,
        F_.ONLINE,
        6,
        ["demo"],
        [K.PRODUCT_KNOWLEDGE],
        80,
        ["intermediate_rep"],
    ),
    (
        "Running a winning demo",
        "如何做一场赢单的产品演示",
        C.SELLING_SKILLS,
        F_.WORKSHOP,
        8,
        ["demo"],
        [K.SELLING_SKILLS],
        None,
        ["senior_rep"],
    ),
    (
        "Demo role play clinic",
        "产品演示角色扮演训练",
        C.SELLING_SKILLS,
        F_.ROLE_PLAY,
        4,
        ["demo"],
        [K.SELLING_SKILLS],
        None,
        [],
    ),
    (
        "Discovery questions that qualify",
        "需求调研提问技巧",
        C.SELLING_SKILLS,
        F_.WORKSHOP,
        6,
        ["lead_discovery", "needs_analysis"],
        [K.CUSTOMER_FOCUS],
        None,
        [],
    ),
    (
        "Consultative selling",
        "顾问式销售",
        C.SELLING_SKILLS,
        F_.CLASSROOM,
        12,
        ["needs_analysis"],
        [K.SELLING_SKILLS, K.CUSTOMER_FOCUS],
        75,
        ["senior_rep"],
    ),
    (
        "Proposals and pricing",
        "方案撰写与报价策略",
        C.SELLING_SKILLS,
        F_.WORKSHOP,
        6,
        ["proposal_negotiation"],
        [K.SELLING_SKILLS],
        None,
        [],
    ),
    (
        "Negotiation and closing",
        "商务谈判与促成签约",
        C.SELLING_SKILLS,
        F_.ROLE_PLAY,
        8,
        ["proposal_negotiation"],
        [K.SELLING_SKILLS],
        70,
        ["senior_rep"],
    ),
    (
        "Cold outreach that works",
        "高效陌拜与电话开发",
        C.SELLING_SKILLS,
        F_.STUDY_GROUP,
        4,
        ["lead_discovery"],
        [K.ATTITUDE],
        None,
        [],
    ),
    (
        "Manufacturing industry primer",
        "制造业行业入门",
        C.INDUSTRY,
        F_.ONLINE,
        3,
        ["needs_analysis"],
        [K.CUSTOMER_FOCUS],
        None,
        [],
    ),
    (
        "Retail and consumer market trends",
        "零售与消费市场趋势",
        C.INDUSTRY,
        F_.STUDY_GROUP,
        2,
        [],
        [K.PRODUCT_KNOWLEDGE],
        None,
        [],
    ),
    (
        "Competitor battle cards",
        "竞品对比作战卡",
        C.COMPETITORS,
        F_.ONLINE,
        2,
        ["demo", "proposal_negotiation"],
        [K.PRODUCT_KNOWLEDGE],
        80,
        [],
    ),
    (
        "Winning against the price cutter",
        "应对低价竞争对手",
        C.COMPETITORS,
        F_.WORKSHOP,
        4,
        ["demo", "proposal_negotiation"],
        [K.SELLING_SKILLS],
        None,
        [],
    ),
    (
        "Working as one team",
        "团队协作与跨部门配合",
        C.LEADERSHIP,
        F_.OUTDOOR,
        8,
        [],
        [K.TEAMWORK],
        None,
        [],
    ),
    (
        "Coaching for team leads",
        "一线主管辅导技巧",
        C.LEADERSHIP,
        F_.WORKSHOP,
        12,
        [],
        [K.TEAMWORK],
        None,
        ["supervisor"],
    ),
    (
        "Leading a sales region",
        "区域销售管理",
        C.LEADERSHIP,
        F_.CLASSROOM,
        16,
        [],
        [],
        None,
        ["manager"],
    ),
    ("Mentoring a new rep", "带教新人", C.LEADERSHIP, F_.MENTORING, 6, [], [K.TEAMWORK], None, []),
    (
        "Contracts and anti-bribery rules",
        "合同规范与反商业贿赂",
        C.COMPLIANCE,
        F_.ONLINE,
        2,
        ["proposal_negotiation"],
        [K.ATTITUDE],
        90,
        ["intermediate_rep"],
    ),
    (
        "Customer data protection",
        "客户数据与隐私保护",
        C.COMPLIANCE,
        F_.ONLINE,
        1,
        [],
        [K.CUSTOMER_FOCUS],
        90,
        [],
    ),
]

# level code: months at the level below, average attainment, quarters, review score, won deals
CRITERIA = {
    "intermediate_rep": (6, Decimal("60"), 2, None, 2),
    "senior_rep": (12, Decimal("80"), 2, Decimal("65"), 4),
    "supervisor": (24, Decimal("100"), 4, Decimal("75"), 10),
    "manager": (36, Decimal("100"), 4, Decimal("80"), 20),
}

PRODUCT_NOTES = [
    (
        "云端 CRM 旗舰版功能速览",
        "旗舰版包含销售漏斗、预测、佣金与培训模块，适合 200 人以上的销售团队。"
        "演示时先讲客户最痛的预测准确度，再展示看板。",
        "旗舰版,演示",
    ),
    (
        "Flagship edition: what's new this quarter",
        "The forecast now compares with the target; "
        "commission statements can be checked line by line. Lead with the forecast in demos.",
        "flagship,release",
    ),
    (
        "数据中台的三种部署方式",
        "公有云、专属云与本地部署的价格、交付周期与适用客户对比。金融与政府客户通常要求本地部署。",
        "部署,报价",
    ),
    (
        "Pricing guide for mid-market deals",
        "List prices, the discount bands a rep may give "
        "alone, and when to ask the supervisor. Bundles beat discounts.",
        "pricing,discount",
    ),
    (
        "实施交付常见问题",
        "标准实施 6 周；数据迁移最容易延期，签约前要确认客户的数据负责人。",
        "实施,交付",
    ),
    (
        "Integration options with ERP systems",
        "Ready-made connectors for the common ERPs and "
        "the REST API for the rest; what to promise and what to leave to presales.",
        "ERP,API",
    ),
]
INDUSTRY_NEWS = [
    (
        "制造业数字化补贴政策解读",
        "多地对中小制造企业数字化改造给予 20% 至 30% 的补贴，可作为拜访时的切入点。",
        "制造业,政策",
    ),
    (
        "Retail chains cut IT budgets",
        "Large retail chains are delaying new systems until the "
        "second half; focus on quick wins with a short payback.",
        "retail,budget",
    ),
    (
        "新能源汽车供应链扩张",
        "长三角新能源供应链企业扩张迅速，销售团队规模一年翻倍，是 CRM 的高潜力客户群。",
        "新能源,长三角",
    ),
    (
        "Hospitals open procurement to SaaS",
        "Public hospitals may now buy SaaS through the "
        "central platform; tenders need the security certificate.",
        "healthcare,tender",
    ),
    (
        "华南外贸企业回暖",
        "华南外贸订单回升，客户开始重新招聘销售，是重启沉睡线索的好时机。",
        "华南,外贸",
    ),
]
COMPETITOR_INTEL = [
    (
        "竞品降价应对：华南区复盘",
        "某竞品在华南大幅降价，演示阶段的转化明显下滑。"
        "应对：强调实施质量与总体拥有成本，而不是跟价。华为等大客户更看重交付能力。",
        "竞品,降价,华南",
    ),
    (
        "Battle card: the low-cost rival",
        "They win on price and lose on support. Ask the "
        "customer about their last migration; offer a pilot instead of a discount.",
        "competitor,battle card",
    ),
    (
        "竞品功能对比表（第三季度）",
        "在预测、佣金与培训模块上我们领先；移动端离线功能对方更好，演示时不要回避。",
        "竞品,功能对比",
    ),
    (
        "Why we lose to the incumbent",
        "Switching cost is the real objection. Bring a migration "
        "plan and a reference customer of the same size.",
        "incumbent,objection",
    ),
    (
        "国际厂商在华策略变化",
        "国际厂商收缩中小客户业务，转向大型集团，中端市场出现空档。",
        "国际厂商,市场",
    ),
]
SUCCESS_NOTES = [
    "客户的核心诉求是预测准确度。我们在演示中用客户自己的数据做了漏斗，当场看到瓶颈。",
    "The champion was the sales director; we ran a two-week pilot with his best team first.",
    "与华为供应链团队对接时，提前准备了数据安全方案，评审一次通过。",
    "We bundled training with the licence instead of discounting; the customer valued it more.",
]
LOST_NOTES = [
    "对方报价低 30%，我们没有及早让决策人看到实施风险，最后只比了价格。",
    "We never met the economic buyer; the IT manager alone could not get the budget approved.",
    "需求调研不充分，方案与客户流程不匹配，演示后客户失去兴趣。",
    "Timing: the customer froze all projects after a reorganisation; we should have qualified it.",
]


def _stages() -> dict:
    pipeline = Pipeline.objects.filter(is_default=True).first()
    return {stage.code: stage for stage in pipeline.stages.all()} if pipeline else {}


def _catalogue(admin: User, levels: dict) -> list[Course]:
    stages = _stages()
    courses = []
    for title, title_zh, category, fmt, hours, stage_codes, criteria, pass_score, needed in COURSES:
        courses.append(
            services.course_save(
                by=admin,
                title=title,
                title_zh=title_zh,
                category=category,
                format=fmt,
                duration_hours=Decimal(hours),
                description=f"{title_zh}。{title}.",
                materials="https://intranet.demo.example/training/"
                + title.lower().replace(" ", "-"),
                pass_score=pass_score,
                default_days_to_complete=14 if category == C.ONBOARDING else 30,
                stages=[stages[code] for code in stage_codes if code in stages],
                criteria=list(criteria),
                required_for_levels=[levels[code] for code in needed if code in levels],
            )
        )
    for code, (months, attainment, quarters, score, won) in CRITERIA.items():
        if code in levels:
            services.ladder_criteria_save(
                by=admin,
                level=levels[code],
                min_months_at_level=months,
                min_average_attainment=attainment,
                attainment_quarters=quarters,
                min_review_score=score,
                min_won_deals=won,
            )
    return courses


def _enroll(rng, reps: list[User], courses: list[Course], today: dt.date) -> int:
    """Every rep has the onboarding courses done, a few courses done with scores, one in
    progress, one assigned and, for some, one overdue."""
    now = timezone.now()
    rows = []
    optional = [course for course in courses if course.category != C.ONBOARDING]
    for index, rep in enumerate(reps):
        picked = rng.sample(optional, 5)
        plan = [(course, "completed") for course in courses if course.category == C.ONBOARDING]
        plan += [(picked[0], "completed"), (picked[1], "completed"), (picked[2], "in_progress")]
        plan += [(picked[3], "assigned")]
        if index % 3 == 0:
            plan.append((picked[4], "overdue"))
        assigner = manager_of(rep)
        for course, status in plan:
            days = rng.randint(20, 300)
            due = {
                "completed": today - dt.timedelta(days=days - 10),
                "in_progress": today + dt.timedelta(days=rng.randint(3, 25)),
                "assigned": today + dt.timedelta(days=rng.randint(10, 45)),
                "overdue": today - dt.timedelta(days=rng.randint(2, 20)),
            }[status]
            score = None
            if status == "completed" and course.pass_score is not None:
                score = rng.randint(course.pass_score, 100)
            rows.append(
                Enrollment(
                    user=rep,
                    course=course,
                    source=(
                        Enrollment.Source.ONBOARDING
                        if course.category == C.ONBOARDING
                        else Enrollment.Source.MANAGER
                    ),
                    assigned_by=None if course.category == C.ONBOARDING else assigner,
                    due=due,
                    status=status,
                    score=score,
                    started_at=now - dt.timedelta(days=days) if status != "assigned" else None,
                    completed_at=(
                        now - dt.timedelta(days=days - 8) if status == "completed" else None
                    ),
                    overdue_notified_at=now if status == "overdue" else None,
                )
            )
    Enrollment.objects.bulk_create(rows)
    return len(rows)


def _ready_for_promotion(reps: list[User], today: dt.date) -> list[User]:
    """Completes the required courses of the reps whose figures (attainment, review, won
    deals, time at level) already meet their next level, so they show as ready."""
    rows = selectors.promotion_readiness(
        viewer=User.objects.filter(role=Role.ADMIN).first(), today=today
    )
    ready = []
    now = timezone.now()
    for row in rows:
        if row["user"] not in reps:
            continue
        figures_met = all(
            item["met"] for item in row["criteria"] if item["code"] != "required_courses"
        )
        if not figures_met or len(ready) >= 4:
            continue
        for item in row["criteria"]:
            for course in item.get("missing", []):
                open_row = Enrollment.objects.filter(user=row["user"], course=course).exclude(
                    status=Enrollment.Status.COMPLETED
                )
                if not open_row.update(status=Enrollment.Status.COMPLETED, completed_at=now):
                    Enrollment.objects.create(
                        user=row["user"],
                        course=course,
                        source=Enrollment.Source.SELF,
                        due=today - dt.timedelta(days=30),
                        status=Enrollment.Status.COMPLETED,
                        score=course.pass_score,
                        started_at=now - dt.timedelta(days=40),
                        completed_at=now - dt.timedelta(days=32),
                    )
        ready.append(row["user"])
    return ready


def _mentoring(rng, reps: list[User], courses: list[Course], today: dt.date) -> int:
    by_team: dict[int, list[User]] = {}
    for rep in reps:
        by_team.setdefault(rep.team_id, []).append(rep)
    count = 0
    leadership = [course for course in courses if course.category == C.LEADERSHIP]
    for members in by_team.values():
        seniors = [rep for rep in members if rep.ladder_level.code == "senior_rep"]
        juniors = [rep for rep in members if rep.ladder_level.code == "junior_rep"]
        if not seniors or not juniors:
            continue
        manager = manager_of(juniors[0])
        if manager is None:
            continue
        mentorship = services.mentorship_create(
            by=manager,
            mentor=seniors[0],
            mentee=juniors[0],
            start=today - dt.timedelta(days=rng.randint(30, 120)),
            goals="三个月内独立完成产品演示；每月跟访两次重点客户。",
        )
        for weeks in (8, 4, 1):
            services.mentorship_check_in(
                by=seniors[0],
                mentorship=mentorship,
                date=today - dt.timedelta(weeks=weeks),
                notes=rng.choice(
                    [
                        "一起复盘了上周的演示，开场太长，下次先讲客户痛点。",
                        "Joined two customer calls; discovery questions are getting sharper.",
                        "练习了报价谈判的角色扮演，价格异议处理还需加强。",
                    ]
                ),
            )
        plan = services.development_plan_create(
            by=manager,
            user=juniors[0],
            track=CareerTrack.SPECIALIST,
            target_level=LadderLevel.objects.filter(code="intermediate_rep").first(),
            goals="一年内晋升中级销售：独立负责 20 个客户，季度达成率稳定在 80% 以上。",
        )
        services.development_action_add(
            by=manager,
            plan=plan,
            kind=DevelopmentAction.Kind.MENTORING,
            description="每两周与导师复盘一次商机",
            due=today + dt.timedelta(days=60),
            mentorship=mentorship,
        )
        services.development_action_add(
            by=manager,
            plan=plan,
            kind=DevelopmentAction.Kind.STRETCH,
            description="独立主持一次客户现场演示",
            due=today + dt.timedelta(days=45),
        )
        senior_plan = services.development_plan_create(
            by=manager,
            user=seniors[0],
            track=CareerTrack.MANAGEMENT,
            target_level=LadderLevel.objects.filter(code="supervisor").first(),
            goals="Prepare for a supervisor role: mentor a junior rep and lead the weekly "
            "pipeline review.",
        )
        if leadership:
            course = leadership[-1]
            services.development_action_add(
                by=manager,
                plan=senior_plan,
                kind=DevelopmentAction.Kind.COURSE,
                description=course.title,
                due=today + dt.timedelta(days=30),
                course=course,
            )
        count += 1
    return count


def _articles(rng, authors: list[User], today: dt.date) -> int:
    now = timezone.now()
    made = 0

    def publish(kind, title, body, tags, author, deal=None, days_ago=0):
        nonlocal made
        article = services.article_create(
            by=author, kind=kind, title=title, body=body, tags=tags, deal=deal, published=True
        )
        Article.objects.filter(pk=article.pk).update(published_at=now - dt.timedelta(days=days_ago))
        made += 1

    for kind, items in (
        (Article.Kind.PRODUCT, PRODUCT_NOTES),
        (Article.Kind.INDUSTRY, INDUSTRY_NEWS),
        (Article.Kind.COMPETITOR, COMPETITOR_INTEL),
    ):
        for title, body, tags in items:
            publish(kind, title, body, tags, rng.choice(authors), days_ago=rng.randint(1, 200))
    won = list(
        Deal.objects.filter(status=Deal.Status.WON, owner__in=authors)
        .select_related("account", "owner")
        .order_by("-amount")[:7]
    )
    lost = list(
        Deal.objects.filter(status=Deal.Status.LOST, owner__in=authors)
        .select_related("account", "owner")
        .order_by("-amount")[:7]
    )
    for deals, notes in ((won, SUCCESS_NOTES), (lost, LOST_NOTES)):
        for index, deal in enumerate(deals):
            draft = services.article_from_deal(by=deal.owner, deal=deal)
            services.article_update(
                by=deal.owner,
                article=draft,
                body=draft.body + "\n" + notes[index % len(notes)],
                published=index < len(deals) - 1,  # the last of each is still a draft
            )
            Article.objects.filter(pk=draft.pk, published=True).update(
                published_at=now - dt.timedelta(days=rng.randint(1, 150))
            )
            made += 1
    return made


def _plan_course(courses: list[Course], today: dt.date) -> None:
    """The demo's improvement plan gets a recommended course linked to it."""
    plan = (
        ImprovementPlan.objects.filter(status=ImprovementPlan.Status.ACTIVE)
        .select_related("owner", "person")
        .first()
    )
    if plan is None:
        return
    course = next(course for course in courses if course.title == "Proposals and pricing")
    if Enrollment.objects.filter(user=plan.person, course=course).exclude(status="completed"):
        return
    services.plan_link_course(
        by=plan.owner, plan=plan, course=course, due=today + dt.timedelta(days=21)
    )


def seed(log) -> dict:
    if Course.objects.exists():
        log("Training: already seeded.")
        return {}
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    if admin is None:
        log("Training: no demo organisation found; seed the teams first.")
        return {}
    rng = random.Random(SEED)
    today = timezone.localdate()
    levels = {level.code: level for level in LadderLevel.objects.all()}
    courses = _catalogue(admin, levels)
    reps = list(
        User.objects.filter(role=Role.REP, is_active=True)
        .select_related("team", "ladder_level")
        .order_by("username")
    )
    enrollments = _enroll(rng, reps, courses, today)
    ready = _ready_for_promotion(reps, today)
    mentorships = _mentoring(rng, reps, courses, today)
    articles = _articles(rng, reps, today)
    _plan_course(courses, today)
    log(
        f"Training: {len(courses)} courses, {enrollments} enrollments, {mentorships} "
        f"mentorships, {articles} articles, {len(ready)} reps ready for promotion."
    )
    return {}

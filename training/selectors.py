"""Reads of the training app: catalogue, enrollments, promotion readiness against the next
ladder level, gap-driven course recommendations, mentoring, plans and the knowledge base.
Every list starts from `visible_to(viewer)`."""

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from itertools import takewhile

from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from performance import periods
from performance.models import CriterionKind, Metric, PeriodType, Review
from performance.selectors import actuals_by_user, plain_targets
from pipeline import selectors as pipeline_selectors
from pipeline.models import Deal, Pipeline
from teams.models import LadderLevel, Role, Team, User
from teams.selectors import is_manager
from training.filtersets import (
    ArticleFilterSet,
    CourseFilterSet,
    DevelopmentPlanFilterSet,
    EnrollmentFilterSet,
    MentorshipFilterSet,
)
from training.models import (
    Article,
    Course,
    DevelopmentAction,
    DevelopmentPlan,
    Enrollment,
    LadderCriteria,
    LevelChange,
    Mentorship,
    MentorshipCheckIn,
)

# A stage conversion this many points under the team's, or a review criterion scored at
# most this level, is a gap worth a course.
GAP_POINTS = Decimal("10")
LOW_CRITERION_LEVEL = 2
# A conversion over fewer deals than this says nothing yet.
MIN_GAP_DEALS = 3
CLOSED_REVIEW = (Review.Status.SUBMITTED, Review.Status.ACKNOWLEDGED)


def _today() -> dt.date:
    return timezone.localdate()


# Courses and enrollments


def course_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    """The catalogue (admins also see retired courses), with the viewer's open or last
    enrollment status on each course."""
    qs = Course.objects.all() if viewer.is_admin else Course.objects.filter(is_active=True)
    mine = Enrollment.objects.filter(user_id=viewer.pk, course=OuterRef("pk")).order_by(
        "completed_at", "-id"
    )
    qs = qs.annotate(my_status=Subquery(mine.values("status")[:1])).prefetch_related(
        "stages", "criteria", "required_for_levels"
    )
    return CourseFilterSet(filters, queryset=qs, request=request).qs.distinct()


def course_get(*, viewer: User, pk) -> Course:
    return get_object_or_404(course_list(viewer=viewer), pk=pk)


def enrollment_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Enrollment.objects.visible_to(viewer).select_related(
        "user", "course", "assigned_by", "plan"
    )
    return EnrollmentFilterSet(filters, queryset=qs, request=request).qs


def enrollment_get(*, viewer: User, pk) -> Enrollment:
    return get_object_or_404(enrollment_list(viewer=viewer), pk=pk)


def is_late(enrollment: Enrollment, today: dt.date | None = None) -> bool:
    return (
        enrollment.is_open and enrollment.due is not None and enrollment.due < (today or _today())
    )


def my_learning(*, user: User, today: dt.date | None = None) -> dict:
    """The person's courses: to do (assigned or overdue, the earliest due first), in
    progress, completed (latest first), and what is recommended for them."""
    today = today or _today()
    rows = list(
        Enrollment.objects.filter(user_id=user.pk)
        .select_related("course", "assigned_by")
        .order_by("due", "id")
    )
    to_do = [row for row in rows if row.status in ("assigned", "overdue")]
    return {
        "to_do": to_do,
        "late": [row for row in to_do if is_late(row, today)],
        "in_progress": [row for row in rows if row.status == Enrollment.Status.IN_PROGRESS],
        "completed": sorted(
            (row for row in rows if row.status == Enrollment.Status.COMPLETED),
            key=lambda row: row.completed_at or row.updated_at,
            reverse=True,
        ),
        "recommended": recommendations(user=user, today=today),
    }


def courses_due(*, user: User, limit: int = 5) -> list[Enrollment]:
    """Open enrollments of the person, the earliest due first (for the home page)."""
    return list(
        Enrollment.objects.filter(user_id=user.pk)
        .open()
        .select_related("course")
        .order_by("due", "id")[:limit]
    )


def calendar(*, viewer: User, month: dt.date, mine: bool = True) -> dict:
    """Open enrollments falling due in the month (the viewer's own, or everyone they see),
    by day."""
    start, end = periods.period_bounds(PeriodType.MONTH, month)
    qs = (
        Enrollment.objects.visible_to(viewer)
        .open()
        .filter(due__gte=start, due__lte=end)
        .select_related("user", "course")
        .order_by("due", "user__username", "id")
    )
    if mine:
        qs = qs.filter(user_id=viewer.pk)
    days = defaultdict(list)
    for enrollment in qs:
        days[enrollment.due].append(enrollment)
    weeks, week = [], []
    for _blank in range(start.weekday()):
        week.append(None)
    day = start
    while day <= end:
        week.append({"date": day, "enrollments": days.get(day, [])})
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += dt.timedelta(days=1)
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    previous = (start - dt.timedelta(days=1)).replace(day=1)
    return {
        "start": start,
        "end": end,
        "weeks": weeks,
        "count": sum(len(items) for items in days.values()),
        "previous": previous,
        "next": end + dt.timedelta(days=1),
    }


def team_completion(*, viewer: User, team=None) -> QuerySet:
    """Everyone the viewer manages with their enrollments counted by state: for the
    completion view (one query for any number of people)."""
    today = _today()
    enrollments = Q(enrollments__isnull=False)
    qs = (
        User.objects.visible_to(viewer)
        .filter(is_active=True)
        .exclude(pk=viewer.pk)
        .select_related("team", "ladder_level")
        .annotate(
            assigned_count=Count(
                "enrollments",
                filter=enrollments & Q(enrollments__status=Enrollment.Status.ASSIGNED),
            ),
            in_progress_count=Count(
                "enrollments",
                filter=enrollments & Q(enrollments__status=Enrollment.Status.IN_PROGRESS),
            ),
            completed_count=Count(
                "enrollments",
                filter=enrollments & Q(enrollments__status=Enrollment.Status.COMPLETED),
            ),
            late_count=Count(
                "enrollments",
                filter=enrollments
                & ~Q(enrollments__status=Enrollment.Status.COMPLETED)
                & Q(enrollments__due__lt=today),
            ),
        )
        .order_by("team__path", "username")
    )
    if team is not None:
        qs = qs.filter(team__path__startswith=team.path)
    return qs


def assignable_people(viewer: User) -> QuerySet:
    """Who the viewer may assign a course to: the active people below them."""
    if not is_manager(viewer):
        return User.objects.none()
    return (
        User.objects.visible_to(viewer)
        .filter(is_active=True)
        .exclude(pk=viewer.pk)
        .select_related("team")
        .order_by("team__path", "username")
    )


# Promotion readiness


def _past_quarters(today: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The `count` complete quarters before the one holding `today`, latest first."""
    quarters = []
    start, _end = periods.period_bounds(PeriodType.QUARTER, today)
    for _i in range(count):
        start, end = periods.period_bounds(PeriodType.QUARTER, start - dt.timedelta(days=1))
        quarters.append((start, end))
    return quarters


def _months_between(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def _percent_text(value) -> str:
    if value is None:
        return "—"
    value = Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value}"


def _criterion(code: str, label: str, required, actual, met: bool, unit: str = "") -> dict:
    return {
        "code": code,
        "label": label,
        "required": required,
        "actual": actual,
        "met": met,
        "unit": unit,
    }


def _readiness_rows(users: list[User], today: dt.date) -> list[dict]:
    """Each person against the criteria of the level above theirs, in a fixed number of
    queries whatever the number of people."""
    levels = list(
        LadderLevel.objects.order_by("rank").prefetch_related(
            Prefetch("required_courses", queryset=Course.objects.order_by("title"))
        )
    )
    criteria = {row.level_id: row for row in LadderCriteria.objects.all()}
    following = {}
    for index, level in enumerate(levels):
        following[level.pk] = levels[index + 1] if index + 1 < len(levels) else None
    people = [
        user for user in users if user.ladder_level_id and following.get(user.ladder_level_id)
    ]
    if not people:
        return []
    ids = [user.pk for user in people]
    needed_quarters = max(
        (
            criteria[following[user.ladder_level_id].pk].attainment_quarters
            for user in people
            if following[user.ladder_level_id].pk in criteria
        ),
        default=0,
    )
    quarters = _past_quarters(today, needed_quarters)
    attainment_by_quarter, won_by_quarter = [], []
    for start, end in quarters:
        targets = dict(
            plain_targets(period_type=PeriodType.QUARTER, start=start, metric=Metric.REVENUE)
            .filter(user_id__in=ids)
            .values_list("user_id", "value")
        )
        revenue = actuals_by_user(metric=Metric.REVENUE, start=start, end=end, users=ids)
        attainment_by_quarter.append(
            {
                user_id: revenue.get(user_id, Decimal("0")) * 100 / value
                for user_id, value in targets.items()
                if value
            }
        )
        won_by_quarter.append(
            actuals_by_user(metric=Metric.WON_DEALS, start=start, end=end, users=ids)
        )
    required_ids = {course.pk for level in levels for course in level.required_courses.all()}
    completed = set(
        Enrollment.objects.filter(
            user_id__in=ids, status=Enrollment.Status.COMPLETED, course_id__in=required_ids
        ).values_list("user_id", "course_id")
    )
    reached = {
        (row["user_id"], row["to_level_id"]): row["latest"]
        for row in LevelChange.objects.filter(user_id__in=ids)
        .values("user_id", "to_level_id")
        .annotate(latest=Max("date"))
        .order_by()
    }
    scores = _latest_review_scores(ids)

    rows = []
    for user in people:
        level = user.ladder_level
        target = following[level.pk]
        rule = criteria.get(target.pk)
        items = []
        if rule is not None:
            at_level_since = (
                reached.get((user.pk, level.pk))
                or user.hire_date
                or timezone.localdate(user.date_joined)
            )
            months = _months_between(at_level_since, today)
            if rule.min_months_at_level:
                items.append(
                    _criterion(
                        "months_at_level",
                        _("Months at %(level)s") % {"level": level.display_name},
                        rule.min_months_at_level,
                        months,
                        months >= rule.min_months_at_level,
                    )
                )
            window = quarters[: rule.attainment_quarters]
            if rule.min_average_attainment is not None:
                values = [
                    attainment_by_quarter[index][user.pk]
                    for index in range(len(window))
                    if user.pk in attainment_by_quarter[index]
                ]
                average = (
                    (sum(values, Decimal("0")) / len(values)).quantize(
                        Decimal("0.1"), ROUND_HALF_UP
                    )
                    if values
                    else None
                )
                items.append(
                    _criterion(
                        "average_attainment",
                        _("Average attainment over the last %(count)d quarters")
                        % {"count": rule.attainment_quarters},
                        rule.min_average_attainment,
                        average,
                        average is not None and average >= rule.min_average_attainment,
                        "%",
                    )
                )
            if rule.min_review_score is not None:
                score = scores.get(user.pk)
                items.append(
                    _criterion(
                        "review_score",
                        _("Last review score"),
                        rule.min_review_score,
                        score,
                        score is not None and score >= rule.min_review_score,
                    )
                )
            if rule.min_won_deals is not None:
                won = int(
                    sum(
                        (won_by_quarter[index].get(user.pk, 0) for index in range(len(window))),
                        0,
                    )
                )
                items.append(
                    _criterion(
                        "won_deals",
                        _("Won deals over the last %(count)d quarters")
                        % {"count": rule.attainment_quarters},
                        rule.min_won_deals,
                        won,
                        won >= rule.min_won_deals,
                    )
                )
        required = list(target.required_courses.all())
        if required:
            done = [course for course in required if (user.pk, course.pk) in completed]
            items.append(
                {
                    **_criterion(
                        "required_courses",
                        _("Required courses completed"),
                        len(required),
                        len(done),
                        len(done) == len(required),
                    ),
                    "missing": [course for course in required if course not in done],
                }
            )
        rows.append(
            {
                "user": user,
                "level": level,
                "next_level": target,
                "criteria": items,
                "met": sum(1 for item in items if item["met"]),
                "ready": bool(items) and all(item["met"] for item in items),
            }
        )
    return rows


def _latest_review_scores(ids: list[int]) -> dict[int, Decimal]:
    latest = (
        Review.objects.filter(
            reviewee_id=OuterRef("pk"), status__in=CLOSED_REVIEW, overall_score__isnull=False
        )
        .order_by("-cycle__end", "-submitted_at", "-id")
        .values("overall_score")[:1]
    )
    return {
        pk: Decimal(score).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for pk, score in User.objects.filter(pk__in=ids)
        .annotate(score=Subquery(latest))
        .values_list("pk", "score")
        if score is not None
    }


def readiness_people(viewer: User) -> QuerySet:
    return (
        User.objects.visible_to(viewer)
        .filter(is_active=True, ladder_level__isnull=False)
        .exclude(role=Role.ADMIN)
        .select_related("team", "ladder_level")
        .order_by("team__path", "username")
    )


def promotion_readiness(
    *, viewer: User, ready_only: bool = False, team=None, today: dt.date | None = None
) -> list[dict]:
    """Each person the viewer sees against the next level's criteria: each criterion met or
    not with the actual value and the requirement; the ready ones first."""
    people = readiness_people(viewer)
    if team is not None:
        people = people.filter(team__path__startswith=team.path)
    rows = _readiness_rows(list(people), today or _today())
    if ready_only:
        rows = [row for row in rows if row["ready"]]
    return sorted(rows, key=lambda row: (not row["ready"], -row["met"]))


def readiness_of(user: User, today: dt.date | None = None) -> dict | None:
    rows = _readiness_rows(
        [User.objects.select_related("ladder_level").get(pk=user.pk)], today or _today()
    )
    return rows[0] if rows else None


def level_history(*, viewer: User, user: User) -> QuerySet:
    return (
        LevelChange.objects.visible_to(viewer)
        .filter(user_id=user.pk)
        .select_related("from_level", "to_level", "by")
    )


# Gap-driven recommendations


def _default_pipeline() -> Pipeline | None:
    try:
        return pipeline_selectors.default_pipeline()
    except Pipeline.DoesNotExist:
        return None


def last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    return _past_quarters(today, 1)[0]


def _share(part: int, whole: int) -> Decimal | None:
    """A conversion in percent, rounded as the funnel rounds it."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _funnel_scope(teams: list) -> pipeline_selectors.Scope:
    """The narrowest funnel scope holding every given team: the subtree of their nearest
    common team, or the whole company when they have none."""
    levels = zip(*(team.line_ids for team in teams), strict=False)
    common = [ids[0] for ids in takewhile(lambda ids: len(set(ids)) == 1, levels)]
    if not common:
        return pipeline_selectors.Scope("all")
    root = next((team for team in teams if team.pk == common[-1]), None)
    if root is None:
        root = Team.objects.filter(pk=common[-1]).first()
    return pipeline_selectors.Scope("all" if root is None else "team", team=root)


def funnel_gaps_by_user(users, today: dt.date | None = None) -> dict[int, list[dict]]:
    """Per person, the stages where their conversion over the last quarter is at least
    GAP_POINTS under their team's (the funnel of their team subtree, default pipeline), over
    at least MIN_GAP_DEALS deals of theirs entering the stage. One funnel serves everyone:
    the teams' figures are sums of their owners' flows."""
    pipeline = _default_pipeline()
    people = list(
        User.objects.filter(pk__in=[user.pk for user in users], team__isnull=False)
        .select_related("team")
        .order_by()
    )
    if pipeline is None or not people:
        return {}
    start, end = last_quarter(today or _today())
    # The team's figures are compared in aggregate only, whoever looks at the person.
    flows = pipeline_selectors.stage_flows_by_owner(
        viewer=None,
        pipeline=pipeline,
        start=start,
        end=end,
        scope=_funnel_scope([person.team for person in people]),
    )
    owner_paths = dict(
        User.objects.filter(pk__in=list(flows), team__isnull=False).values_list("pk", "team__path")
    )
    team_flows: dict[str, dict] = {}
    for path in {person.team.path for person in people}:
        sums = defaultdict(lambda: [0, 0])
        for owner_id, owner_path in owner_paths.items():
            if owner_path.startswith(path):
                for stage_id, flow in flows[owner_id].items():
                    sums[stage_id][0] += flow["entered"]
                    sums[stage_id][1] += flow["advanced"]
        team_flows[path] = {
            stage: _share(advanced, entered) for stage, (entered, advanced) in sums.items()
        }

    stages = [stage for stage in pipeline_selectors.stages_of(pipeline) if not stage.is_lost]
    following = {stage.pk: stages[index + 1] for index, stage in enumerate(stages[:-1])}
    result = {}
    for person in people:
        mine = flows.get(person.pk)
        if mine is None:
            continue
        team = team_flows[person.team.path]
        gaps = []
        for stage in stages:
            flow = mine.get(stage.pk)
            if stage.is_won or flow is None or flow["entered"] < MIN_GAP_DEALS:
                continue
            conversion = _share(flow["advanced"], flow["entered"])
            team_conversion = team.get(stage.pk)
            if conversion is None or team_conversion is None:
                continue
            if conversion > team_conversion - GAP_POINTS or stage.pk not in following:
                continue
            gaps.append(
                {
                    "kind": "stage",
                    "stage": stage.pk,
                    "reason": _(
                        "Your %(stage)s to %(next)s conversion is %(mine)s%% against the "
                        "team's %(team)s%% last quarter."
                    )
                    % {
                        "stage": stage.display_name,
                        "next": following[stage.pk].display_name,
                        "mine": _percent_text(conversion),
                        "team": _percent_text(team_conversion),
                    },
                }
            )
        result[person.pk] = gaps
    return result


def funnel_gaps(*, user: User, today: dt.date | None = None) -> list[dict]:
    """The stage gaps of one person (see `funnel_gaps_by_user`)."""
    return funnel_gaps_by_user([user], today).get(user.pk, [])


def review_gaps_by_user(users) -> dict[int, list[dict]]:
    """Per person, the criteria scored LOW_CRITERION_LEVEL or less in their latest review."""
    latest = (
        Review.objects.filter(reviewee_id=OuterRef("reviewee_id"), status__in=CLOSED_REVIEW)
        .order_by("-cycle__end", "-submitted_at", "-id")
        .values("pk")[:1]
    )
    reviews = Review.objects.filter(
        reviewee_id__in=[user.pk for user in users],
        status__in=CLOSED_REVIEW,
        pk=Subquery(latest),
    ).select_related("cycle")
    labels = dict(CriterionKind.choices)
    result = {}
    for review in reviews:
        result[review.reviewee_id] = [
            {
                "kind": "criterion",
                "criterion": kind,
                "reason": _("Your review “%(cycle)s” scored %(criterion)s %(level)d of 5.")
                % {"cycle": review.cycle.name, "criterion": labels[kind], "level": level},
            }
            for kind, level in sorted(review.criteria_scores.items())
            if kind in labels and isinstance(level, int) and level <= LOW_CRITERION_LEVEL
        ]
    return result


def review_gaps(*, user: User) -> list[dict]:
    """The review gaps of one person (see `review_gaps_by_user`)."""
    return review_gaps_by_user([user]).get(user.pk, [])


def recommendations_by_user(users, today: dt.date | None = None) -> dict[int, list[dict]]:
    """Per person, the courses tagged for their gaps, with the reasons; courses they have
    completed are left out, and an open enrollment is shown with the course. A fixed number
    of queries, however many people."""
    users = list(users)
    stage_gaps = funnel_gaps_by_user(users, today)
    criterion_gaps = review_gaps_by_user(users)
    gaps = {
        user.pk: stage_gaps.get(user.pk, []) + criterion_gaps.get(user.pk, []) for user in users
    }
    result: dict[int, list[dict]] = {user.pk: [] for user in users}
    wanted = [pk for pk, rows in gaps.items() if rows]
    if not wanted:
        return result
    every_gap = [gap for pk in wanted for gap in gaps[pk]]
    stage_ids = {gap["stage"] for gap in every_gap if gap["kind"] == "stage"}
    criteria = {gap["criterion"] for gap in every_gap if gap["kind"] == "criterion"}
    courses = list(
        Course.objects.filter(is_active=True)
        .filter(Q(stages__in=stage_ids) | Q(criteria__criterion__in=criteria))
        .distinct()
        .prefetch_related("stages", "criteria")
        .order_by("category", "title")
    )
    completed, open_enrollments = set(), {}
    for enrollment in Enrollment.objects.filter(
        user_id__in=wanted, course__in=[course.pk for course in courses]
    ):
        key = (enrollment.user_id, enrollment.course_id)
        if enrollment.status == Enrollment.Status.COMPLETED:
            completed.add(key)
        else:
            open_enrollments[key] = enrollment
    tags = {
        course.pk: (
            {stage.pk for stage in course.stages.all()},
            {row.criterion for row in course.criteria.all()},
        )
        for course in courses
    }
    for pk in wanted:
        for course in courses:
            if (pk, course.pk) in completed:
                continue
            course_stages, course_criteria = tags[course.pk]
            reasons = [
                gap["reason"]
                for gap in gaps[pk]
                if (gap["kind"] == "stage" and gap["stage"] in course_stages)
                or (gap["kind"] == "criterion" and gap["criterion"] in course_criteria)
            ]
            if reasons:
                result[pk].append(
                    {
                        "course": course,
                        "reasons": reasons,
                        "enrollment": open_enrollments.get((pk, course.pk)),
                    }
                )
    return result


def recommendations(*, user: User, today: dt.date | None = None) -> list[dict]:
    """The recommended courses of one person (see `recommendations_by_user`)."""
    return recommendations_by_user([user], today)[user.pk]


# Mentoring and development plans


def mentorship_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = (
        Mentorship.objects.visible_to(viewer)
        .select_related("mentor", "mentee", "mentee__team")
        .annotate(check_in_count=Count("check_ins"))
    )
    return MentorshipFilterSet(filters, queryset=qs, request=request).qs


def mentorship_get(*, viewer: User, pk) -> Mentorship:
    return get_object_or_404(
        mentorship_list(viewer=viewer).prefetch_related(
            Prefetch("check_ins", queryset=MentorshipCheckIn.objects.select_related("by"))
        ),
        pk=pk,
    )


def development_plan_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = (
        DevelopmentPlan.objects.visible_to(viewer)
        .select_related("user", "user__ladder_level", "target_level", "created_by")
        .annotate(
            action_count=Count("actions", distinct=True),
            done_count=Count("actions", filter=Q(actions__done=True), distinct=True),
        )
    )
    return DevelopmentPlanFilterSet(filters, queryset=qs, request=request).qs


def development_plan_get(*, viewer: User, pk) -> DevelopmentPlan:
    return get_object_or_404(
        development_plan_list(viewer=viewer).prefetch_related(
            Prefetch(
                "actions",
                queryset=DevelopmentAction.objects.select_related("course", "mentorship__mentor"),
            )
        ),
        pk=pk,
    )


# Knowledge base


def article_list(*, viewer: User, filters: dict | None = None, request=None) -> QuerySet:
    qs = Article.objects.visible_to(viewer).select_related("author", "deal")
    return ArticleFilterSet(filters, queryset=qs, request=request).qs


def article_get(*, viewer: User, pk) -> Article:
    return get_object_or_404(article_list(viewer=viewer), pk=pk)


def deal_visible(viewer: User, deal_id: int | None) -> bool:
    return bool(deal_id) and Deal.objects.visible_to(viewer).filter(pk=deal_id).exists()

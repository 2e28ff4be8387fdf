"""Writes of the training app: enrollments and their outcomes, promotions, mentoring,
development plans and the knowledge base."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from performance import services as performance_services
from performance.models import ImprovementAction, ImprovementPlan
from pipeline.models import Deal
from teams.models import LadderLevel, Role, User
from teams.selectors import is_manager, manager_of, user_can_see
from teams.services import notify, validate_assignable
from training.models import (
    Article,
    Course,
    CourseCriterion,
    DevelopmentAction,
    DevelopmentPlan,
    Enrollment,
    LadderCriteria,
    LevelChange,
    Mentorship,
    MentorshipCheckIn,
)


def _today() -> dt.date:
    return timezone.localdate()


def can_manage(by: User, user: User) -> bool:
    """A manager acts for the people below them, never for themselves."""
    return by.pk != user.pk and is_manager(by) and user_can_see(by, user)


def _require_manager_of(by: User, user: User, field: str = "user") -> None:
    if not can_manage(by, user):
        raise ValidationError({field: _("You can only choose people in your own teams.")})


def _speaking(user: User):
    """Notifications are written in the recipient's language."""
    return override(user.preferred_language or None)


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise PermissionDenied(_("Only an admin can change the course catalogue and the ladder."))


# The catalogue and the ladder's criteria

COURSE_FIELDS = (
    "title",
    "title_zh",
    "category",
    "format",
    "duration_hours",
    "description",
    "materials",
    "pass_score",
    "default_days_to_complete",
    "is_active",
)


@transaction.atomic
def course_save(
    *,
    by: User,
    course: Course | None = None,
    stages=None,
    criteria: list[str] | None = None,
    required_for_levels=None,
    **fields,
) -> Course:
    """Creates or changes a course with its skill tags (pipeline stages and review criteria)
    and the ladder levels that require it."""
    _require_admin(by)
    unknown = set(fields) - set(COURSE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    course = course or Course()
    for name, value in fields.items():
        setattr(course, name, value)
    course.full_clean()
    course.save()
    if stages is not None:
        course.stages.set(stages)
    if required_for_levels is not None:
        course.required_for_levels.set(required_for_levels)
    if criteria is not None:
        course.criteria.exclude(criterion__in=criteria).delete()
        for code in set(criteria) - set(course.criteria.values_list("criterion", flat=True)):
            CourseCriterion.objects.create(course=course, criterion=code)
    return course


@transaction.atomic
def ladder_criteria_save(*, by: User, level: LadderLevel, **fields) -> LadderCriteria:
    _require_admin(by)
    criteria, _created = LadderCriteria.objects.get_or_create(level=level)
    for name, value in fields.items():
        setattr(criteria, name, value)
    criteria.full_clean()
    criteria.save()
    return criteria


# Enrollments


def _new_enrollment(*, user: User, course: Course, source: str, by: User | None, due, **extra):
    enrollment = Enrollment(
        user=user, course=course, source=source, assigned_by=by, due=due, **extra
    )
    enrollment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        return None  # already enrolled and not finished: the open enrollment stands
    return enrollment


@transaction.atomic
def enrollment_assign(
    *,
    by: User,
    course: Course,
    users: list[User],
    due: dt.date | None = None,
    source: str = Enrollment.Source.MANAGER,
    plan: ImprovementPlan | None = None,
) -> dict:
    """Enrolls several people at once in a course; each must be below the manager. Those
    already enrolled (and not finished) are left as they are. Returns {"created", "skipped"}."""
    if not users:
        raise ValidationError({"users": _("Choose at least one person.")})
    if not course.is_active:
        raise ValidationError({"course": _("This course is no longer offered.")})
    if due is not None and due < _today():
        raise ValidationError({"due": _("The due date cannot be in the past.")})
    for user in users:
        _require_manager_of(by, user, "users")
    due = due or _today() + dt.timedelta(days=course.default_days_to_complete)
    created, skipped = [], []
    for user in users:
        enrollment = _new_enrollment(
            user=user, course=course, source=source, by=by, due=due, plan=plan
        )
        if enrollment is None:
            skipped.append(user)
            continue
        created.append(enrollment)
        with _speaking(user):
            notify(
                recipient=user,
                title=_("New course for you: %(course)s, due %(due)s")
                % {"course": course.display_title, "due": due.isoformat()},
                link=reverse("training:my_learning"),
                kind="training",
            )
    return {"created": created, "skipped": skipped}


@transaction.atomic
def enrollment_self_enroll(*, by: User, course: Course) -> Enrollment:
    if not course.is_active:
        raise ValidationError({"course": _("This course is no longer offered.")})
    enrollment = _new_enrollment(
        user=by,
        course=course,
        source=Enrollment.Source.SELF,
        by=by,
        due=_today() + dt.timedelta(days=course.default_days_to_complete),
    )
    if enrollment is None:
        raise ValidationError({"course": _("You are already enrolled in this course.")})
    return enrollment


def _lock(enrollment: Enrollment) -> Enrollment:
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("course", "user")
        .get(pk=enrollment.pk)
    )


def _require_learner_or_manager(by: User, enrollment: Enrollment) -> None:
    if by.pk != enrollment.user_id and not can_manage(by, enrollment.user):
        raise PermissionDenied(_("You cannot change this enrollment."))


@transaction.atomic
def enrollment_start(*, by: User, enrollment: Enrollment) -> Enrollment:
    enrollment = _lock(enrollment)
    _require_learner_or_manager(by, enrollment)
    if enrollment.status == Enrollment.Status.COMPLETED:
        raise ValidationError({"status": _("This course is already completed.")})
    if enrollment.status != Enrollment.Status.IN_PROGRESS:
        enrollment.status = Enrollment.Status.IN_PROGRESS
        enrollment.started_at = enrollment.started_at or timezone.now()
        enrollment.save(update_fields=["status", "started_at", "updated_at"])
    return enrollment


@transaction.atomic
def enrollment_complete(
    *, by: User, enrollment: Enrollment, score: int | None = None
) -> Enrollment:
    """Records the result. A course with a pass score needs a score: below it the attempt is
    kept (in progress, with its score) and the course is not completed. Completing it ticks
    off the improvement plan action and the development plan actions that asked for it."""
    enrollment = _lock(enrollment)
    _require_learner_or_manager(by, enrollment)
    if enrollment.status == Enrollment.Status.COMPLETED:
        raise ValidationError({"status": _("This course is already completed.")})
    pass_score = enrollment.course.pass_score
    if score is not None and not 0 <= score <= 100:
        raise ValidationError({"score": _("A score is between 0 and 100.")})
    if pass_score is not None and score is None:
        raise ValidationError({"score": _("This course has a test: enter the score.")})
    now = timezone.now()
    enrollment.score = score
    enrollment.started_at = enrollment.started_at or now
    if pass_score is not None and score < pass_score:
        enrollment.status = Enrollment.Status.IN_PROGRESS
        enrollment.save(update_fields=["score", "status", "started_at", "updated_at"])
        return enrollment
    enrollment.status = Enrollment.Status.COMPLETED
    enrollment.completed_at = now
    enrollment.save(update_fields=["score", "status", "started_at", "completed_at", "updated_at"])
    if enrollment.plan_action_id:
        action = ImprovementAction.objects.get(pk=enrollment.plan_action_id)
        if not action.done:
            performance_services.action_set_done(by=enrollment.user, action=action)
    DevelopmentAction.objects.filter(
        plan__user_id=enrollment.user_id,
        kind=DevelopmentAction.Kind.COURSE,
        course_id=enrollment.course_id,
        done=False,
    ).update(done=True, done_at=now, updated_at=now)
    return enrollment


def enroll_onboarding(user: User) -> list[Enrollment]:
    """A new rep is enrolled in every active onboarding course."""
    created = []
    for course in Course.objects.filter(category=Course.Category.ONBOARDING, is_active=True):
        enrollment = _new_enrollment(
            user=user,
            course=course,
            source=Enrollment.Source.ONBOARDING,
            by=None,
            due=_today() + dt.timedelta(days=course.default_days_to_complete),
        )
        if enrollment is not None:
            created.append(enrollment)
    return created


def on_user_saved(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.role == Role.REP and instance.is_active:
        enroll_onboarding(instance)


def notify_overdue_enrollments(*, today: dt.date | None = None) -> int:
    """Marks open enrollments past their due date overdue and tells the person and their
    manager, once: each row is claimed by a conditional UPDATE, so a rerun, or a second
    worker, finds nothing left to send."""
    today = today or _today()
    candidates = list(
        Enrollment.objects.filter(due__lt=today, overdue_notified_at__isnull=True)
        .exclude(status=Enrollment.Status.COMPLETED)
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in candidates:
        with transaction.atomic():
            now = timezone.now()
            claimed = (
                Enrollment.objects.filter(pk=pk, overdue_notified_at__isnull=True)
                .exclude(status=Enrollment.Status.COMPLETED)
                .update(status=Enrollment.Status.OVERDUE, overdue_notified_at=now, updated_at=now)
            )
            if not claimed:
                continue
            enrollment = Enrollment.objects.select_related("user__team", "course").get(pk=pk)
            person = enrollment.user
            with _speaking(person):
                notify(
                    recipient=person,
                    title=_("Course overdue: %(course)s (due %(due)s)")
                    % {"course": enrollment.course.display_title, "due": enrollment.due},
                    link=reverse("training:my_learning"),
                    kind="training_overdue",
                )
            manager = manager_of(person)
            if manager is not None:
                with _speaking(manager):
                    notify(
                        recipient=manager,
                        title=_("%(person)s is overdue on %(course)s (due %(due)s)")
                        % {
                            "person": person,
                            "course": enrollment.course.display_title,
                            "due": enrollment.due,
                        },
                        link=reverse("training:team"),
                        kind="training_overdue",
                    )
            sent += 1
    return sent


@transaction.atomic
def plan_link_course(
    *, by: User, plan: ImprovementPlan, course: Course, due: dt.date
) -> Enrollment:
    """Adds a course to an improvement plan: an action on the plan and the person's
    enrollment, which ticks the action off when the course is completed."""
    with _speaking(plan.person):
        description = _("Complete the course %(course)s") % {"course": course.display_title}
    action = performance_services.plan_add_action(
        by=by, plan=plan, description=description, owner=plan.person, due=due
    )
    result = enrollment_assign(
        by=by,
        course=course,
        users=[plan.person],
        due=due,
        source=Enrollment.Source.IMPROVEMENT_PLAN,
        plan=plan,
    )
    if result["created"]:
        enrollment = result["created"][0]
    else:
        enrollment = Enrollment.objects.open().get(user=plan.person, course=course)
        enrollment.plan = plan
    enrollment.plan_action = action
    enrollment.save(update_fields=["plan", "plan_action", "updated_at"])
    return enrollment


# Promotions


def next_level(level: LadderLevel | None) -> LadderLevel | None:
    if level is None:
        return LadderLevel.objects.order_by("rank").first()
    return LadderLevel.objects.filter(rank__gt=level.rank).order_by("rank").first()


@transaction.atomic
def promote(
    *,
    by: User,
    user: User,
    to_level: LadderLevel | None = None,
    note: str = "",
    override_criteria: bool = False,
) -> LevelChange:
    """Moves a person up to the next ladder level (or the one given): their manager when
    every criterion is met; an admin may also promote someone who does not meet them yet."""
    from training.selectors import readiness_of

    if not (by.is_admin or can_manage(by, user)):
        raise PermissionDenied(_("Only the person's managers can promote them."))
    user = (
        User.objects.select_for_update(of=("self",)).select_related("ladder_level").get(pk=user.pk)
    )
    target = to_level or next_level(user.ladder_level)
    if target is None:
        raise ValidationError({"to_level": _("This person is already at the top of the ladder.")})
    if user.ladder_level is not None and target.rank <= user.ladder_level.rank:
        raise ValidationError({"to_level": _("Choose a level above the current one.")})
    readiness = readiness_of(user)
    if not (readiness and readiness["ready"]) and not (by.is_admin and override_criteria):
        raise ValidationError(
            {"to_level": _("This person does not meet the criteria of the next level yet.")}
        )
    change = LevelChange.objects.create(
        user=user, from_level=user.ladder_level, to_level=target, date=_today(), by=by, note=note
    )
    user.ladder_level = target
    user.save(update_fields=["ladder_level", "updated_at"])
    with _speaking(user):
        notify(
            recipient=user,
            title=_("Congratulations: you are promoted to %(level)s")
            % {"level": target.display_name},
            body=note,
            link=reverse("training:my_learning"),
            kind="promotion",
        )
    return change


# Mentoring


@transaction.atomic
def mentorship_create(
    *, by: User, mentor: User, mentee: User, start: dt.date, goals: str
) -> Mentorship:
    _require_manager_of(by, mentee, "mentee")
    if mentor.pk != by.pk:
        validate_assignable(by=by, user=mentor, field="mentor")
    mentorship = Mentorship(mentor=mentor, mentee=mentee, start=start, goals=goals, created_by=by)
    mentorship.full_clean()
    mentorship.save()
    with _speaking(mentor):
        notify(
            recipient=mentor,
            title=_("You are now mentoring %(mentee)s") % {"mentee": mentee},
            link=reverse("training:mentorship_detail", args=[mentorship.pk]),
            kind="mentoring",
        )
    return mentorship


def _require_in_mentorship(by: User, mentorship: Mentorship) -> None:
    if by.pk not in (mentorship.mentor_id, mentorship.mentee_id) and not can_manage(
        by, mentorship.mentee
    ):
        raise PermissionDenied(_("You cannot change this mentorship."))


@transaction.atomic
def mentorship_check_in(
    *, by: User, mentorship: Mentorship, date: dt.date, notes: str
) -> MentorshipCheckIn:
    _require_in_mentorship(by, mentorship)
    if mentorship.status != Mentorship.Status.ACTIVE:
        raise ValidationError(_("This mentorship has ended."))
    check_in = MentorshipCheckIn(mentorship=mentorship, date=date, notes=notes, by=by)
    check_in.full_clean()
    check_in.save()
    return check_in


@transaction.atomic
def mentorship_end(*, by: User, mentorship: Mentorship, end: dt.date | None = None) -> Mentorship:
    _require_in_mentorship(by, mentorship)
    mentorship.status = Mentorship.Status.ENDED
    mentorship.end = end or _today()
    mentorship.full_clean()
    mentorship.save(update_fields=["status", "end", "updated_at"])
    return mentorship


# Development plans


@transaction.atomic
def development_plan_create(
    *, by: User, user: User, track: str, goals: str, target_level: LadderLevel | None = None
) -> DevelopmentPlan:
    """A manager sets a plan for someone below them; anyone may write their own."""
    if by.pk != user.pk:
        _require_manager_of(by, user)
    plan = DevelopmentPlan(
        user=user, track=track, goals=goals, target_level=target_level, created_by=by
    )
    plan.full_clean()
    plan.save()
    return plan


def _require_plan_writer(by: User, plan: DevelopmentPlan) -> None:
    if by.pk != plan.user_id and not can_manage(by, plan.user):
        raise PermissionDenied(_("You cannot change this plan."))


@transaction.atomic
def development_plan_update(*, by: User, plan: DevelopmentPlan, **fields) -> DevelopmentPlan:
    _require_plan_writer(by, plan)
    unknown = set(fields) - {"track", "goals", "target_level", "status"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def development_plan_review(*, by: User, plan: DevelopmentPlan) -> DevelopmentPlan:
    """A manager records that they went through the plan with the person this cycle."""
    _require_manager_of(by, plan.user)
    plan.last_reviewed_on = _today()
    plan.save(update_fields=["last_reviewed_on", "updated_at"])
    return plan


@transaction.atomic
def development_action_add(
    *,
    by: User,
    plan: DevelopmentPlan,
    kind: str,
    description: str,
    due: dt.date,
    course: Course | None = None,
    mentorship: Mentorship | None = None,
) -> DevelopmentAction:
    """Adds a step; a course step made by a manager also enrolls the person in the course."""
    _require_plan_writer(by, plan)
    if mentorship is not None and mentorship.mentee_id != plan.user_id:
        raise ValidationError({"mentorship": _("Choose one of this person's mentorships.")})
    action = DevelopmentAction(
        plan=plan,
        kind=kind,
        description=description,
        due=due,
        course=course,
        mentorship=mentorship,
    )
    action.full_clean()
    action.save()
    if course is not None:
        if by.pk == plan.user_id:
            _new_enrollment(
                user=plan.user, course=course, source=Enrollment.Source.SELF, by=by, due=due
            )
        else:
            enrollment_assign(by=by, course=course, users=[plan.user], due=due)
    return action


@transaction.atomic
def development_action_set_done(
    *, by: User, action: DevelopmentAction, done: bool = True
) -> DevelopmentAction:
    _require_plan_writer(by, action.plan)
    action.done = done
    action.done_at = timezone.now() if done else None
    action.save(update_fields=["done", "done_at", "updated_at"])
    return action


# Knowledge base

ARTICLE_FIELDS = ("kind", "title", "body", "tags", "deal", "published")


def _check_deal(by: User, deal: Deal | None) -> None:
    if deal is not None and not Deal.objects.visible_to(by).filter(pk=deal.pk).exists():
        raise ValidationError({"deal": _("Choose one of the deals you can see.")})


@transaction.atomic
def article_create(
    *,
    by: User,
    kind: str,
    title: str,
    body: str,
    tags: str = "",
    deal: Deal | None = None,
    published: bool = False,
) -> Article:
    _check_deal(by, deal)
    article = Article(
        kind=kind,
        title=title,
        body=body,
        tags=tags,
        deal=deal,
        author=by,
        published=published,
        published_at=timezone.now() if published else None,
    )
    article.full_clean()
    article.save()
    return article


def can_edit_article(by: User, article: Article) -> bool:
    return by.pk == article.author_id or by.is_admin or can_manage(by, article.author)


@transaction.atomic
def article_update(*, by: User, article: Article, **fields) -> Article:
    if not can_edit_article(by, article):
        raise PermissionDenied(_("Only the author and their managers can edit this article."))
    unknown = set(fields) - set(ARTICLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    if "deal" in fields and fields["deal"] is not None and fields["deal"].pk != article.deal_id:
        _check_deal(by, fields["deal"])
    for name, value in fields.items():
        setattr(article, name, value)
    if article.published and article.published_at is None:
        article.published_at = timezone.now()
    if not article.published:
        article.published_at = None
    article.full_clean()
    article.save()
    return article


@transaction.atomic
def article_delete(*, by: User, article: Article) -> None:
    if not can_edit_article(by, article):
        raise PermissionDenied(_("Only the author and their managers can delete this article."))
    article.delete()


def _case_body(deal: Deal) -> str:
    lines = [
        _("Customer: %(account)s") % {"account": deal.account},
        _("Amount: %(amount)s") % {"amount": deal.amount if deal.amount is not None else "—"},
        _("Closed on: %(date)s") % {"date": deal.closed_at or "—"},
    ]
    if deal.product_category_id:
        lines.append(_("Product: %(product)s") % {"product": deal.product_category})
    competitors = ", ".join(str(competitor) for competitor in deal.competitors.all())
    if competitors:
        lines.append(_("Competitors: %(names)s") % {"names": competitors})
    if deal.status == Deal.Status.LOST:
        lines.append(_("Lost reason: %(reason)s") % {"reason": deal.get_lost_reason_display()})
        headings = [_("What happened"), _("What we would do differently")]
    else:
        headings = [_("What the customer needed"), _("What made us win")]
    return "\n".join(lines) + "\n\n" + "\n\n".join(f"## {heading}\n" for heading in headings)


@transaction.atomic
def article_from_deal(*, by: User, deal: Deal) -> Article:
    """A draft case from a won or lost deal, with its facts filled in for the author to
    complete and publish."""
    _check_deal(by, deal)
    if deal.status == Deal.Status.OPEN:
        raise ValidationError({"deal": _("Only a won or lost deal can be shared as a case.")})
    won = deal.status == Deal.Status.WON
    return article_create(
        by=by,
        kind=Article.Kind.SUCCESS_CASE if won else Article.Kind.LOST_DEAL,
        title=(_("Won: %(deal)s") if won else _("Lost: %(deal)s")) % {"deal": deal.name},
        body=_case_body(deal),
        tags=str(deal.account.industry or ""),
        deal=deal,
    )

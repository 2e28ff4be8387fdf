from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from performance.models import CriterionKind
from teams.models import LadderLevel, TimeStampedModel
from teams.querysets import VisibleQuerySet, can_read


class CareerTrack(models.TextChoices):
    SPECIALIST = "specialist", _("Specialist")
    MANAGEMENT = "management", _("Management")


# The ladder


class LadderCriteria(TimeStampedModel):
    """What it takes to be promoted to a ladder level (from the level below it). Kept apart
    from the level itself: the criteria speak of attainment, reviews, deals and courses, all
    of which live in the apps above teams."""

    level = models.OneToOneField(
        LadderLevel,
        verbose_name=_("ladder level"),
        on_delete=models.CASCADE,
        related_name="criteria",
    )
    min_months_at_level = models.PositiveSmallIntegerField(
        _("minimum months at the level below"), default=0
    )
    min_average_attainment = models.DecimalField(
        _("minimum average attainment (%)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    attainment_quarters = models.PositiveSmallIntegerField(
        _("quarters averaged"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
        help_text=_("Attainment and won deals are counted over this many past quarters."),
    )
    min_review_score = models.DecimalField(
        _("minimum last review score (0-100)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    min_won_deals = models.PositiveIntegerField(_("minimum won deals"), null=True, blank=True)

    class Meta:
        verbose_name = _("promotion criteria")
        verbose_name_plural = _("promotion criteria")

    def __str__(self):
        return str(self.level)


class LevelChangeQuerySet(VisibleQuerySet):
    owner_field = "user"


class LevelChange(models.Model):
    """One step of a person's ladder history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="level_changes",
    )
    from_level = models.ForeignKey(
        LadderLevel,
        verbose_name=_("from level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_level = models.ForeignKey(
        LadderLevel, verbose_name=_("to level"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = LevelChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")
        indexes = [models.Index(fields=["user", "-date"], name="level_change_user_idx")]

    def __str__(self):
        return f"{self.user}: {self.from_level or '—'} → {self.to_level}"


# Courses and enrollments


class Course(TimeStampedModel):
    class Category(models.TextChoices):
        ONBOARDING = "onboarding", _("Onboarding")
        PRODUCT = "product", _("Product knowledge")
        SELLING_SKILLS = "selling_skills", _("Selling skills")
        INDUSTRY = "industry", _("Industry and market")
        COMPETITORS = "competitors", _("Competitors")
        LEADERSHIP = "leadership", _("Team and leadership")
        COMPLIANCE = "compliance", _("Compliance")

    class Format(models.TextChoices):
        CLASSROOM = "classroom", _("Classroom")
        ONLINE = "online", _("Online")
        WORKSHOP = "workshop", _("Workshop")
        ROLE_PLAY = "role_play", _("Role play")
        MENTORING = "mentoring", _("Mentoring")
        STUDY_GROUP = "study_group", _("Study group")
        OUTDOOR = "outdoor", _("Outdoor")

    title = models.CharField(_("title"), max_length=200)
    title_zh = models.CharField(_("Chinese title"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category, db_index=True)
    format = models.CharField(_("format"), max_length=20, choices=Format)
    duration_hours = models.DecimalField(
        _("duration (hours)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5"))],
    )
    description = models.TextField(_("description"), blank=True)
    materials = models.TextField(
        _("materials"), blank=True, help_text=_("Reading, notes and links, one per line.")
    )
    material_file = models.FileField(
        _("material file"), upload_to="training/materials/%Y/", blank=True
    )
    stages = models.ManyToManyField(
        "pipeline.Stage",
        verbose_name=_("pipeline stages it strengthens"),
        blank=True,
        related_name="courses",
    )
    required_for_levels = models.ManyToManyField(
        LadderLevel,
        verbose_name=_("required for ladder levels"),
        blank=True,
        related_name="required_courses",
    )
    pass_score = models.PositiveSmallIntegerField(
        _("pass score"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Out of 100; leave empty when the course has no test."),
    )
    default_days_to_complete = models.PositiveSmallIntegerField(_("days to complete"), default=30)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self):
        return self.display_title

    @property
    def display_title(self) -> str:
        if self.title_zh and (get_language() or "").startswith("zh"):
            return self.title_zh
        return self.title


class CourseCriterion(models.Model):
    """A review criterion a course strengthens (the criteria are the performance app's)."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="criteria"
    )
    criterion = models.CharField(_("review criterion"), max_length=20, choices=CriterionKind)

    class Meta:
        ordering = ["criterion"]
        verbose_name = _("course review criterion")
        verbose_name_plural = _("course review criteria")
        constraints = [
            models.UniqueConstraint(fields=["course", "criterion"], name="course_criterion_unique"),
        ]
        indexes = [models.Index(fields=["criterion"], name="course_criterion_idx")]

    def __str__(self):
        return self.get_criterion_display()


class EnrollmentQuerySet(VisibleQuerySet):
    owner_field = "user"

    def open(self):
        return self.exclude(status=Enrollment.Status.COMPLETED)


class Enrollment(TimeStampedModel):
    class Source(models.TextChoices):
        MANAGER = "manager", _("Manager assignment")
        ONBOARDING = "onboarding", _("Onboarding")
        IMPROVEMENT_PLAN = "improvement_plan", _("Improvement plan")
        SELF = "self", _("Self")

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        OVERDUE = "overdue", _("Overdue")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="enrollments",
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="enrollments"
    )
    source = models.CharField(_("source"), max_length=20, choices=Source, default=Source.SELF)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=15, choices=Status, default=Status.ASSIGNED)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(
        _("overdue notice sent at"), null=True, blank=True, editable=False
    )
    plan = models.ForeignKey(
        "performance.ImprovementPlan",
        verbose_name=_("improvement plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    plan_action = models.ForeignKey(
        "performance.ImprovementAction",
        verbose_name=_("improvement action"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["due", "id"]
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=~Q(status="completed"),
                name="enrollment_one_open_per_course",
                violation_error_message=_("This person is already enrolled in this course."),
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="enrollment_user_status_idx"),
            models.Index(fields=["status", "due"], name="enrollment_status_due_idx"),
            models.Index(
                fields=["due"],
                condition=Q(overdue_notified_at__isnull=True) & ~Q(status="completed"),
                name="enrollment_overdue_idx",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.course}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.COMPLETED

    @property
    def passed(self) -> bool | None:
        if self.score is None or self.course.pass_score is None:
            return None
        return self.score >= self.course.pass_score


# Mentoring and development plans


class PeopleVisibleQuerySet(models.QuerySet):
    """Rows seen through more than one person (or shared outright): `condition(ids)` says
    which, given the ids of the people the viewer sees."""

    def condition(self, ids) -> Q:
        # Each subclass names the people fields of its rows (mentor and mentee, say).
        raise NotImplementedError

    def visible_to(self, user):
        from teams.selectors import visible_user_ids

        if not can_read(user):
            return self.none()
        ids = visible_user_ids(user)
        if ids is None:
            return self
        return self.filter(self.condition(ids))


class MentorshipQuerySet(PeopleVisibleQuerySet):
    def condition(self, ids) -> Q:
        """A mentorship is seen by its mentor, its mentee and whoever sees either of them."""
        return Q(mentee__in=ids) | Q(mentor__in=ids)


class Mentorship(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mentor"),
        on_delete=models.PROTECT,
        related_name="mentorships_given",
    )
    mentee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mentee"),
        on_delete=models.CASCADE,
        related_name="mentorships",
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    goals = models.TextField(_("goals"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = MentorshipQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("mentorship")
        verbose_name_plural = _("mentorships")
        constraints = [
            models.CheckConstraint(
                condition=~Q(mentor=models.F("mentee")),
                name="mentorship_not_self",
                violation_error_message=_("A person cannot mentor themselves."),
            ),
            models.UniqueConstraint(
                fields=["mentor", "mentee"],
                condition=Q(status="active"),
                name="mentorship_one_active_pair",
                violation_error_message=_("This mentorship already exists."),
            ),
        ]

    def __str__(self):
        return _("%(mentor)s mentors %(mentee)s") % {"mentor": self.mentor, "mentee": self.mentee}

    def clean(self):
        if self.mentor_id and self.mentor_id == self.mentee_id:
            raise ValidationError({"mentor": _("A person cannot mentor themselves.")})
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The mentorship cannot end before it starts.")})


class MentorshipCheckIn(models.Model):
    mentorship = models.ForeignKey(
        Mentorship,
        verbose_name=_("mentorship"),
        on_delete=models.CASCADE,
        related_name="check_ins",
    )
    date = models.DateField(_("date"))
    notes = models.TextField(_("notes"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("mentoring check-in")
        verbose_name_plural = _("mentoring check-ins")

    def __str__(self):
        return f"{self.date} {self.by}"


class DevelopmentPlanQuerySet(VisibleQuerySet):
    owner_field = "user"


class DevelopmentPlan(TimeStampedModel):
    """Where a person's career is heading (a track and a target level) and the steps there;
    reviewed with their manager each review cycle."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ACHIEVED = "achieved", _("Achieved")
        CLOSED = "closed", _("Closed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="development_plans",
    )
    track = models.CharField(_("career track"), max_length=15, choices=CareerTrack)
    target_level = models.ForeignKey(
        LadderLevel,
        verbose_name=_("target level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    goals = models.TextField(_("goals"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_reviewed_on = models.DateField(_("last reviewed on"), null=True, blank=True)

    objects = DevelopmentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("development plan")
        verbose_name_plural = _("development plans")

    def __str__(self):
        return _("Development plan for %(person)s") % {"person": self.user}


class DevelopmentAction(TimeStampedModel):
    class Kind(models.TextChoices):
        COURSE = "course", _("Course")
        MENTORING = "mentoring", _("Mentoring")
        STRETCH = "stretch", _("Stretch assignment")

    plan = models.ForeignKey(
        DevelopmentPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    description = models.CharField(_("description"), max_length=300)
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mentorship = models.ForeignKey(
        Mentorship,
        verbose_name=_("mentorship"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due = models.DateField(_("due"))
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["due", "id"]
        verbose_name = _("development action")
        verbose_name_plural = _("development actions")

    def __str__(self):
        return self.description

    def clean(self):
        if self.kind == self.Kind.COURSE and not self.course_id:
            raise ValidationError({"course": _("Choose the course.")})
        if self.kind != self.Kind.COURSE and self.course_id:
            raise ValidationError({"course": _("Only a course action names a course.")})


# Knowledge base


class ArticleQuerySet(PeopleVisibleQuerySet):
    def condition(self, ids) -> Q:
        """Published articles are the whole company's; a draft is seen by its author and by
        whoever sees the author."""
        return Q(published=True) | Q(author__in=ids)


class Article(TimeStampedModel):
    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product knowledge")
        INDUSTRY = "industry", _("Industry news")
        COMPETITOR = "competitor", _("Competitor intelligence")
        SUCCESS_CASE = "success_case", _("Success case")
        LOST_DEAL = "lost_deal", _("Lesson from a lost deal")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    tags = models.CharField(
        _("tags"), max_length=300, blank=True, help_text=_("Separated by commas.")
    )
    deal = models.ForeignKey(
        "pipeline.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="articles",
    )
    published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Title, tags and body folded to lower case in one column, so a search is one substring
    # match on one trigram index (PostgreSQL) whatever the language.
    search_text = models.TextField(editable=False, default="")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at", "-id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [models.Index(fields=["published", "-published_at"], name="article_recent_idx")]

    def __str__(self):
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.replace("，", ",").split(",") if tag.strip()]

    def save(self, *args, **kwargs):
        from customers.text import search_text

        self.search_text = search_text(self.title, self.tags, self.body)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"title", "tags", "body"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

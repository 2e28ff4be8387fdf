"""Admin configuration of the training app: the catalogue, the ladder's promotion criteria
and the records managers keep in the pages."""

from django.contrib import admin

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


class CourseCriterionInline(admin.TabularInline):
    model = CourseCriterion
    extra = 1


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "title_zh", "category", "format", "duration_hours", "is_active"]
    list_filter = ["category", "format", "is_active", "required_for_levels"]
    search_fields = ["title", "title_zh", "description"]
    filter_horizontal = ["stages", "required_for_levels"]
    inlines = [CourseCriterionInline]


@admin.register(LadderCriteria)
class LadderCriteriaAdmin(admin.ModelAdmin):
    list_display = [
        "level",
        "min_months_at_level",
        "min_average_attainment",
        "attainment_quarters",
        "min_review_score",
        "min_won_deals",
    ]
    list_select_related = ["level"]


@admin.register(LevelChange)
class LevelChangeAdmin(admin.ModelAdmin):
    list_display = ["user", "from_level", "to_level", "date", "by"]
    list_filter = ["to_level", "date"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user", "by"]
    list_select_related = ["user", "from_level", "to_level", "by"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "source", "status", "due", "score", "completed_at"]
    list_filter = ["status", "source", "course__category"]
    search_fields = ["user__username", "user__last_name", "course__title", "course__title_zh"]
    raw_id_fields = ["user", "assigned_by", "plan"]
    list_select_related = ["user", "course"]
    readonly_fields = ["overdue_notified_at", "created_at", "updated_at"]


class MentorshipCheckInInline(admin.TabularInline):
    model = MentorshipCheckIn
    extra = 0
    raw_id_fields = ["by"]


@admin.register(Mentorship)
class MentorshipAdmin(admin.ModelAdmin):
    list_display = ["mentor", "mentee", "start", "end", "status"]
    list_filter = ["status"]
    search_fields = ["mentor__username", "mentee__username"]
    raw_id_fields = ["mentor", "mentee", "created_by"]
    list_select_related = ["mentor", "mentee"]
    inlines = [MentorshipCheckInInline]


class DevelopmentActionInline(admin.TabularInline):
    model = DevelopmentAction
    extra = 0
    raw_id_fields = ["course", "mentorship"]


@admin.register(DevelopmentPlan)
class DevelopmentPlanAdmin(admin.ModelAdmin):
    list_display = ["user", "track", "target_level", "status", "last_reviewed_on"]
    list_filter = ["track", "status"]
    search_fields = ["user__username", "user__last_name"]
    raw_id_fields = ["user", "created_by"]
    list_select_related = ["user", "target_level"]
    inlines = [DevelopmentActionInline]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "author", "published", "published_at"]
    list_filter = ["kind", "published"]
    search_fields = ["title", "tags", "body"]
    raw_id_fields = ["author", "deal"]
    list_select_related = ["author"]

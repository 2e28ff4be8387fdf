from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from performance.models import CriterionKind, ImprovementPlan
from pipeline.models import Deal, Stage
from teams.models import LadderLevel, User
from training.models import (
    Article,
    Course,
    DevelopmentAction,
    DevelopmentPlan,
    Enrollment,
    LadderCriteria,
    Mentorship,
    MentorshipCheckIn,
)


class CriterionCodesField(serializers.ListField):
    """The review criteria a course strengthens, as their codes."""

    child = serializers.ChoiceField(choices=CriterionKind.choices)

    def get_attribute(self, instance):
        return [row.criterion for row in instance.criteria.all()]


class CourseSerializer(serializers.ModelSerializer):
    stages = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Stage.objects.all(), required=False
    )
    criteria = CriterionCodesField(required=False)
    required_for_levels = serializers.PrimaryKeyRelatedField(
        many=True, queryset=LadderLevel.objects.all(), required=False
    )
    my_status = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Course
        fields = [
            "id",
            "title",
            "title_zh",
            "category",
            "format",
            "duration_hours",
            "description",
            "materials",
            "material_file",
            "stages",
            "criteria",
            "required_for_levels",
            "pass_score",
            "default_days_to_complete",
            "is_active",
            "my_status",
            "updated_at",
        ]
        read_only_fields = ["material_file", "updated_at"]


class EnrollmentSerializer(serializers.ModelSerializer):
    passed = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "user",
            "course",
            "source",
            "assigned_by",
            "due",
            "status",
            "score",
            "passed",
            "started_at",
            "completed_at",
            "plan",
            "updated_at",
        ]
        read_only_fields = fields


class EnrollmentCreateSerializer(serializers.Serializer):
    """Without `users`, the caller enrolls themselves; with them, a manager assigns the
    course to each (people already enrolled are skipped)."""

    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.filter(is_active=True))
    users = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.all(), required=False
    )
    due = serializers.DateField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["users"].child_relation.queryset = User.objects.visible_to(request.user)


class EnrollmentCompleteSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)


class MentorshipCheckInSerializer(serializers.ModelSerializer):
    class Meta:
        model = MentorshipCheckIn
        fields = ["id", "date", "notes", "by", "created_at"]
        read_only_fields = ["id", "by", "created_at"]


class MentorshipSerializer(serializers.ModelSerializer):
    check_in_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Mentorship
        fields = [
            "id",
            "mentor",
            "mentee",
            "start",
            "end",
            "goals",
            "status",
            "check_in_count",
            "updated_at",
        ]
        read_only_fields = ["end", "status", "updated_at"]
        # The service checks the pair; the model's constraints are not run twice here.
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            visible = User.objects.visible_to(request.user)
            self.fields["mentor"].queryset = visible
            self.fields["mentee"].queryset = visible


class DevelopmentActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DevelopmentAction
        fields = ["id", "kind", "description", "course", "mentorship", "due", "done", "done_at"]
        read_only_fields = ["id", "done", "done_at"]


class DevelopmentPlanSerializer(serializers.ModelSerializer):
    action_count = serializers.IntegerField(read_only=True)
    done_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = DevelopmentPlan
        fields = [
            "id",
            "user",
            "track",
            "target_level",
            "goals",
            "status",
            "last_reviewed_on",
            "action_count",
            "done_count",
            "updated_at",
        ]
        read_only_fields = ["last_reviewed_on", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["user"].queryset = User.objects.visible_to(request.user)


class DevelopmentPlanDetailSerializer(DevelopmentPlanSerializer):
    actions = DevelopmentActionSerializer(many=True, read_only=True)

    class Meta(DevelopmentPlanSerializer.Meta):
        fields = [*DevelopmentPlanSerializer.Meta.fields, "actions"]


class ArticleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "tags",
            "deal",
            "author",
            "published",
            "published_at",
            "updated_at",
        ]
        read_only_fields = ["author", "published_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        fields["deal"] = serializers.PrimaryKeyRelatedField(
            queryset=Deal.objects.visible_to(user) if user else Deal.objects.none(),
            required=False,
            allow_null=True,
        )
        return fields


class ArticleListSerializer(ArticleSerializer):
    """The list gives an excerpt of the body; the article itself gives all of it."""

    excerpt = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [name for name in ArticleSerializer.Meta.fields if name != "body"] + ["excerpt"]

    def get_excerpt(self, article) -> str:
        return article.body[:200]


class LadderCriteriaSerializer(serializers.ModelSerializer):
    required_courses = serializers.SerializerMethodField()

    class Meta:
        model = LadderCriteria
        fields = [
            "level",
            "min_months_at_level",
            "min_average_attainment",
            "attainment_quarters",
            "min_review_score",
            "min_won_deals",
            "required_courses",
        ]
        read_only_fields = ["level", "required_courses"]

    def get_required_courses(self, criteria) -> list[int]:
        return [course.pk for course in criteria.level.required_courses.all()]


class CriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    required = serializers.CharField()
    actual = serializers.CharField(allow_null=True)
    met = serializers.BooleanField()


class ReadinessSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user.pk")
    name = serializers.CharField(source="user.display_name")
    level = serializers.IntegerField(source="level.pk")
    next_level = serializers.IntegerField(source="next_level.pk")
    ready = serializers.BooleanField()
    criteria = CriterionSerializer(many=True)


class ReadinessQuerySerializer(serializers.Serializer):
    ready = serializers.BooleanField(required=False, default=False)
    team = serializers.IntegerField(required=False, min_value=1)


class RecommendationSerializer(serializers.Serializer):
    course = serializers.IntegerField(source="course.pk")
    title = serializers.CharField(source="course.display_title")
    category = serializers.CharField(source="course.category")
    reasons = serializers.ListField(child=serializers.CharField())
    enrollment = serializers.IntegerField(source="enrollment.pk", allow_null=True, default=None)


class RecommendationQuerySerializer(serializers.Serializer):
    user = serializers.IntegerField(required=False, min_value=1)


class PlanCourseSerializer(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=ImprovementPlan.objects.all())
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.filter(is_active=True))
    due = serializers.DateField()

    def validate_plan(self, plan):
        request = self.context["request"]
        if not ImprovementPlan.objects.visible_to(request.user).filter(pk=plan.pk).exists():
            raise serializers.ValidationError(_("Choose one of the plans you can see."))
        return plan

"""REST endpoints of the training app. Reads come from training.selectors (so the
visibility rule applies) and every write goes through training.services."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from salesmgmt.core.permissions import IsAdminRoleOrReadOnly
from teams.models import LadderLevel, Team, User
from training import selectors, services
from training.api.serializers import (
    ArticleListSerializer,
    ArticleSerializer,
    CourseSerializer,
    DevelopmentActionSerializer,
    DevelopmentPlanDetailSerializer,
    DevelopmentPlanSerializer,
    EnrollmentCompleteSerializer,
    EnrollmentCreateSerializer,
    EnrollmentSerializer,
    LadderCriteriaSerializer,
    MentorshipCheckInSerializer,
    MentorshipSerializer,
    PlanCourseSerializer,
    ReadinessQuerySerializer,
    ReadinessSerializer,
    RecommendationQuerySerializer,
    RecommendationSerializer,
)
from training.filtersets import (
    ArticleFilterSet,
    CourseFilterSet,
    DevelopmentPlanFilterSet,
    EnrollmentFilterSet,
    MentorshipFilterSet,
)
from training.models import Course, LadderCriteria


class CourseViewSet(viewsets.ModelViewSet):
    """The course catalogue; admins add and change courses."""

    serializer_class = CourseSerializer
    filterset_class = CourseFilterSet
    permission_classes = [IsAdminRoleOrReadOnly]
    ordering_fields = ["title", "category", "updated_at"]
    ordering = ["category", "title"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema has no signed-in user
            return Course.objects.none()
        return selectors.course_list(viewer=self.request.user)

    def _detail(self, course, code=status.HTTP_200_OK):
        fresh = selectors.course_get(viewer=self.request.user, pk=course.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_save(by=request.user, **serializer.validated_data)
        return self._detail(course, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        course = self.get_object()
        serializer = self.get_serializer(
            course, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.course_save(by=request.user, course=course, **serializer.validated_data)
        return self._detail(course)


class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Enrollments of the people the caller sees (a rep: their own). POST enrolls the caller,
    or, with `users`, assigns the course to people below the caller."""

    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilterSet
    ordering_fields = ["due", "updated_at", "completed_at"]
    ordering = ["due", "id"]

    def get_queryset(self):
        return selectors.enrollment_list(viewer=self.request.user)

    @extend_schema(request=EnrollmentCreateSerializer, responses=EnrollmentSerializer(many=True))
    def create(self, request, *args, **kwargs):
        serializer = EnrollmentCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("users"):
            result = services.enrollment_assign(
                by=request.user, course=data["course"], users=data["users"], due=data.get("due")
            )
            created = result["created"]
            skipped = [user.pk for user in result["skipped"]]
        else:
            created = [services.enrollment_self_enroll(by=request.user, course=data["course"])]
            skipped = []
        return Response(
            {
                "created": EnrollmentSerializer(created, many=True).data,
                "skipped_users": skipped,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        enrollment = services.enrollment_start(by=request.user, enrollment=self.get_object())
        return Response(EnrollmentSerializer(enrollment).data)

    @extend_schema(request=EnrollmentCompleteSerializer, responses=EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        enrollment = self.get_object()
        serializer = EnrollmentCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrollment = services.enrollment_complete(
            by=request.user, enrollment=enrollment, score=serializer.validated_data.get("score")
        )
        return Response(EnrollmentSerializer(enrollment).data)


class MentorshipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MentorshipSerializer
    filterset_class = MentorshipFilterSet
    ordering_fields = ["start", "updated_at"]
    ordering = ["-start", "-id"]

    def get_queryset(self):
        return selectors.mentorship_list(viewer=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mentorship = services.mentorship_create(by=request.user, **serializer.validated_data)
        fresh = selectors.mentorship_get(viewer=request.user, pk=mentorship.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MentorshipCheckInSerializer, responses=MentorshipCheckInSerializer)
    @action(detail=True, methods=["get", "post"], url_path="check-ins")
    def check_ins(self, request, pk=None):
        mentorship = self.get_object()
        if request.method == "GET":
            rows = mentorship.check_ins.select_related("by")
            return Response(MentorshipCheckInSerializer(rows, many=True).data)
        serializer = MentorshipCheckInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_in = services.mentorship_check_in(
            by=request.user, mentorship=mentorship, **serializer.validated_data
        )
        return Response(MentorshipCheckInSerializer(check_in).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=MentorshipSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        mentorship = services.mentorship_end(by=request.user, mentorship=self.get_object())
        fresh = selectors.mentorship_get(viewer=request.user, pk=mentorship.pk)
        return Response(self.get_serializer(fresh).data)


class DevelopmentPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Career development plans (track, target level, goals and steps) of the people the
    caller sees."""

    filterset_class = DevelopmentPlanFilterSet
    ordering_fields = ["updated_at", "created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.development_plan_list(viewer=self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return DevelopmentPlanSerializer
        return DevelopmentPlanDetailSerializer

    def _detail(self, plan, code=status.HTTP_200_OK):
        fresh = selectors.development_plan_get(viewer=self.request.user, pk=plan.pk)
        data = DevelopmentPlanDetailSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.development_plan_create(by=request.user, **serializer.validated_data)
        return self._detail(plan, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        plan = self.get_object()
        serializer = self.get_serializer(plan, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "user" in data and data.pop("user") != plan.user:
            raise DRFValidationError({"user": [_("A plan cannot move to someone else.")]})
        services.development_plan_update(by=request.user, plan=plan, **data)
        return self._detail(plan)

    @extend_schema(request=DevelopmentActionSerializer, responses=DevelopmentPlanDetailSerializer)
    @action(detail=True, methods=["post"], url_path="actions")
    def add_action(self, request, pk=None):
        plan = self.get_object()
        serializer = DevelopmentActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.development_action_add(by=request.user, plan=plan, **serializer.validated_data)
        return self._detail(plan, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DevelopmentPlanDetailSerializer)
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<action_id>\d+)/done")
    def action_done(self, request, pk=None, action_id=None):
        plan = self.get_object()
        step = get_object_or_404(plan.actions.all(), pk=action_id)
        services.development_action_set_done(by=request.user, action=step, done=not step.done)
        return self._detail(plan)

    @extend_schema(request=None, responses=DevelopmentPlanDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        plan = services.development_plan_review(by=request.user, plan=self.get_object())
        return self._detail(plan)


class ArticleViewSet(viewsets.ModelViewSet):
    """The knowledge base: published articles for everyone, drafts for their author and the
    author's managers. `?search=` finds words in Chinese or English in the title, tags and
    body."""

    filterset_class = ArticleFilterSet
    ordering_fields = ["published_at", "updated_at", "title"]
    ordering = ["-published_at", "-id"]

    def get_queryset(self):
        return selectors.article_list(viewer=self.request.user)

    def get_serializer_class(self):
        return ArticleListSerializer if self.action == "list" else ArticleSerializer

    def perform_create(self, serializer):
        serializer.instance = services.article_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.article_update(
            by=self.request.user, article=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.article_delete(by=self.request.user, article=instance)


class LadderCriteriaView(APIView):
    """The promotion criteria of a ladder level (GET for everyone, PUT for admins): an
    extension of `ladder-levels`."""

    permission_classes = [IsAdminRoleOrReadOnly]

    def _level(self, pk) -> LadderLevel:
        return get_object_or_404(LadderLevel.objects.prefetch_related("required_courses"), pk=pk)

    @extend_schema(responses=LadderCriteriaSerializer)
    def get(self, request, pk):
        level = self._level(pk)
        criteria = LadderCriteria.objects.filter(level=level).first() or LadderCriteria(level=level)
        return Response(LadderCriteriaSerializer(criteria).data)

    @extend_schema(request=LadderCriteriaSerializer, responses=LadderCriteriaSerializer)
    def put(self, request, pk):
        level = self._level(pk)
        serializer = LadderCriteriaSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        criteria = services.ladder_criteria_save(
            by=request.user, level=level, **serializer.validated_data
        )
        return Response(LadderCriteriaSerializer(criteria).data)


class PromotionReadinessReportView(APIView):
    """Each person the caller sees against the next ladder level's criteria (actual against
    required, met or not); `?ready=true` keeps the ready ones, `?team=` a subtree."""

    @extend_schema(parameters=[ReadinessQuerySerializer], responses=ReadinessSerializer(many=True))
    def get(self, request):
        query = ReadinessQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        team = None
        if query.validated_data.get("team"):
            team = get_object_or_404(
                Team.objects.visible_to(request.user), pk=query.validated_data["team"]
            )
        rows = selectors.promotion_readiness(
            viewer=request.user, ready_only=query.validated_data["ready"], team=team
        )
        return Response(ReadinessSerializer(rows, many=True).data)


class TrainingRecommendationsReportView(APIView):
    """The courses recommended for a person (the caller by default) and why."""

    @extend_schema(
        parameters=[RecommendationQuerySerializer], responses=RecommendationSerializer(many=True)
    )
    def get(self, request):
        query = RecommendationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user_id = query.validated_data.get("user", request.user.pk)
        person = User.objects.visible_to(request.user).filter(pk=user_id).first()
        if person is None:
            raise Http404
        rows = selectors.recommendations(user=person)
        return Response(RecommendationSerializer(rows, many=True).data)


class PlanCourseView(APIView):
    """Adds a course to an improvement plan: an action on the plan and an enrollment that
    ticks it off when completed."""

    @extend_schema(request=PlanCourseSerializer, responses=EnrollmentSerializer)
    def post(self, request):
        serializer = PlanCourseSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        enrollment = services.plan_link_course(by=request.user, **serializer.validated_data)
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)

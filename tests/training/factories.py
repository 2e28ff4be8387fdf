"""Factories for the training app."""

from decimal import Decimal

import factory

from tests.factories import UserFactory
from training.models import Article, Course, CourseCriterion, Enrollment


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Course {n}")
    title_zh = factory.Sequence(lambda n: f"课程{n}")
    category = Course.Category.SELLING_SKILLS
    format = Course.Format.WORKSHOP
    duration_hours = Decimal("4")

    @factory.post_generation
    def stages(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.stages.set(extracted)

    @factory.post_generation
    def criteria(obj, create, extracted, **kwargs):
        if create and extracted:
            for code in extracted:
                CourseCriterion.objects.create(course=obj, criterion=code)

    @factory.post_generation
    def required_for_levels(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.required_for_levels.set(extracted)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    source = Enrollment.Source.MANAGER


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    kind = Article.Kind.PRODUCT
    title = factory.Sequence(lambda n: f"Article {n}")
    body = "Notes for the team."
    author = factory.SubFactory(UserFactory)
    published = True

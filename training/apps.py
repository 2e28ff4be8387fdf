from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Training")

    def ready(self):
        from performance.views import register_plan_panel
        from pipeline.views import register_deal_panel
        from training.services import on_user_saved
        from training.views import deal_case_panel, plan_recommendations_panel

        # teams offers no hook for new people: a new rep is enrolled in the onboarding
        # courses when their user row is first saved.
        post_save.connect(
            on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="training-onboarding"
        )
        # Won and lost deals can be shared as cases from their page.
        register_deal_panel(deal_case_panel)
        # An improvement plan lists the courses recommended for the person's gaps.
        register_plan_panel(plan_recommendations_panel)

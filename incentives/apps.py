from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = _("Incentives")

    def ready(self):
        from incentives.views import deal_estimate_panel, person_recognition_panel
        from pipeline.views import register_deal_panel
        from teams.views import register_person_panel

        # An open deal's page tells what it would pay its owner if won this period.
        register_deal_panel(deal_estimate_panel)
        # Recognition is visible where the person is: their page shows awards and kudos.
        register_person_panel(person_recognition_panel)

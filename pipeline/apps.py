from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = _("Pipeline")

    def ready(self):
        from customers.selectors import register_timeline_source
        from customers.services import register_account_merger, register_lead_assigner
        from pipeline.selectors import ACCOUNT_DEAL_TIMELINE
        from pipeline.services import (
            assign_lead_owner,
            merge_account_deals,
            reassign_pipeline_ownership,
        )
        from teams.services import register_ownership_reassigner

        # Merging accounts carries their deals along; a leaver's open deals move with the
        # rest of what they own.
        register_account_merger(merge_account_deals)
        register_ownership_reassigner(reassign_pipeline_ownership)
        # An account's timeline shows the history of its deals.
        register_timeline_source(ACCOUNT_DEAL_TIMELINE)
        # Web leads are given owners by the assignment rules before the lead-capture round
        # robin.
        register_lead_assigner(assign_lead_owner)

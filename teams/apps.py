from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _forget_visibility(**kwargs):
    from teams.selectors import forget_visibility

    forget_visibility()


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = _("Teams")

    def ready(self):
        # A saved or deleted team or user may change who manages what: requests already
        # running must not keep using what they remembered.
        for model in (self.get_model("Team"), self.get_model("User")):
            post_save.connect(_forget_visibility, sender=model, dispatch_uid=f"forget-{model}")
            post_delete.connect(_forget_visibility, sender=model, dispatch_uid=f"forget-{model}-d")

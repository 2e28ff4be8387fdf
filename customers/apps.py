from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from customers.services import reassign_customers_ownership
        from teams.services import register_ownership_reassigner

        # A leaver's accounts and open follow-ups move with everything else they own.
        register_ownership_reassigner(reassign_customers_ownership)

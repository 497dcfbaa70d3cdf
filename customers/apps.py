from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers and shop data"

    def ready(self) -> None:
        from customers import timeline_sources
        from customers.roles import on_post_migrate

        timeline_sources.register()

        post_migrate.connect(on_post_migrate, dispatch_uid="customers.roles.marketing_group")

"""Staff roles. The "Marketing" group is kept in sync after every migrate.

Permissions are resolved by app label, so models added to the campaign apps later get
their permissions on the next migrate. Permissions are only ever added, so extra rights an
administrator gives the group by hand survive.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

MARKETING_GROUP = "Marketing"
# Apps whose models Marketing may add, change, delete and view.
MARKETING_MANAGES_APPS = ("campaigns", "journeys")
# Apps whose models Marketing may only view.
MARKETING_VIEWS_APPS = ("tracking",)
# Shop data and metric model fits Marketing may view (not API keys or the raw API event log).
MARKETING_VIEWS_CUSTOMERS_MODELS = (
    "customer",
    "product",
    "order",
    "orderitem",
    "activity",
    "consentchange",
    "suppressedaddress",
    "modelfit",
)
_SYNC_ON = {"auth", "customers", *MARKETING_MANAGES_APPS, *MARKETING_VIEWS_APPS}


def marketing_group_sync(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS):
    """Create the Marketing group if needed and grant it its permissions. Safe to run any time."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.using(using).get_or_create(name=MARKETING_GROUP)
    wanted = permission_model.objects.using(using).filter(
        Q(content_type__app_label__in=MARKETING_MANAGES_APPS)
        | Q(content_type__app_label__in=MARKETING_VIEWS_APPS, codename__startswith="view_")
        | Q(
            content_type__app_label="customers",
            codename__in=[f"view_{model}" for model in MARKETING_VIEWS_CUSTOMERS_MODELS],
        )
    )
    group.permissions.add(*wanted)
    return group


def on_post_migrate(sender: AppConfig, apps=global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate runs once per app, after auth has created that app's permissions."""
    if sender.label not in _SYNC_ON:
        return
    try:
        apps.get_model("auth", "Group")
        apps.get_model("auth", "Permission")
    except LookupError:
        return
    marketing_group_sync(apps=apps, using=using)

"""Staff roles. The "Marketing" and "Data protection" groups are kept in sync after every migrate.

Permission matrix (a superuser may do everything; the admin shows a button, link or action
only to those who may use it, and the view behind it refuses everyone else):

| job                                                 | Marketing | Data prot. | permission                     |
|-----------------------------------------------------|-----------|------------|--------------------------------|
| campaigns, steps, templates, segments, A/B, coupons | all       | –          | campaigns.* (add/change/...)   |
| recipes, send now, activate/pause, requeue messages | yes       | –          | campaigns.add/change_*         |
| view customers, orders, products, activity, consent | yes       | yes        | customers.view_*               |
| metrics dashboard                                   | yes       | yes        | customers.view_customer        |
| import a customer list (CSV, background job)        | yes       | –          | customers.import_customers     |
| export an ad audience (hashed contact list)         | yes       | –          | customers.export_audience      |
| erase a contact (GDPR, confirmed, audited)          | yes       | yes        | customers.erase_customer       |
| export one person's data (GDPR, audited)            | –         | yes        | customers.export_personal_data |
| audit trail (the admin log)                         | –         | yes        | admin.view_logentry            |
| view tracking and ESP events                        | yes       | –          | tracking.view_*                |
| edit customers, import orders, recompute metrics    | –         | –          | customers.change_customer, ... |
| API keys, received API events, users and groups     | –         | –          | (superuser only)               |

Permissions are resolved by app label, so models added to the campaign apps later get
their permissions on the next migrate. Permissions are only ever added, so extra rights an
administrator gives a group by hand survive.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

MARKETING_GROUP = "Marketing"
DATA_PROTECTION_GROUP = "Data protection"
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
# Jobs on customers Marketing does (as marketers do in Klaviyo, Mautic, Customer.io).
MARKETING_CUSTOMER_JOBS = ("import_customers", "export_audience", "erase_customer")
# An access request covers what a person bought, so the products their orders and activity name.
DATA_PROTECTION_VIEWS_CUSTOMERS_MODELS = (
    "customer",
    "product",
    "order",
    "orderitem",
    "activity",
    "consentchange",
    "suppressedaddress",
)
DATA_PROTECTION_JOBS = ("export_personal_data", "erase_customer")
_SYNC_ON = {"admin", "auth", "customers", *MARKETING_MANAGES_APPS, *MARKETING_VIEWS_APPS}


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
            codename__in=[
                *(f"view_{model}" for model in MARKETING_VIEWS_CUSTOMERS_MODELS),
                *MARKETING_CUSTOMER_JOBS,
            ],
        )
    )
    group.permissions.add(*wanted)
    return group


def data_protection_group_sync(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS):
    """The group for whoever answers access and erasure requests (a DPO, support lead)."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.using(using).get_or_create(name=DATA_PROTECTION_GROUP)
    wanted = permission_model.objects.using(using).filter(
        Q(
            content_type__app_label="customers",
            codename__in=[
                *(f"view_{model}" for model in DATA_PROTECTION_VIEWS_CUSTOMERS_MODELS),
                *DATA_PROTECTION_JOBS,
            ],
        )
        | Q(content_type__app_label="admin", codename="view_logentry")
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
    data_protection_group_sync(apps=apps, using=using)

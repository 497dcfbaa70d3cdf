from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import CommandError, call_command

from customers.roles import DATA_PROTECTION_GROUP, MARKETING_GROUP, marketing_group_sync

pytestmark = pytest.mark.django_db


def codenames(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_migrate_creates_marketing_group_with_the_right_permissions():
    perms = codenames(Group.objects.get(name=MARKETING_GROUP))

    for model in ("campaign", "template", "templateversion", "segment", "step", "enrollment", "message"):
        for action in ("add", "change", "delete", "view"):
            assert f"campaigns.{action}_{model}" in perms
    for model in ("customer", "product", "order", "activity"):
        assert f"customers.view_{model}" in perms
        assert f"customers.change_{model}" not in perms
    assert "tracking.view_espevent" in perms and "tracking.change_espevent" not in perms
    assert not {p for p in perms if "apikey" in p or "ingestedevent" in p}
    # A marketer's jobs on customers, and not the privileged GDPR export or shop-data imports.
    assert {"customers.import_customers", "customers.export_audience", "customers.erase_customer"} <= perms
    assert not {"customers.export_personal_data", "customers.import_orders", "customers.delete_customer"} & perms
    privacy = codenames(Group.objects.get(name=DATA_PROTECTION_GROUP))
    assert {"customers.export_personal_data", "customers.erase_customer", "admin.view_logentry"} <= privacy


def test_every_campaigns_model_permission_is_granted():
    campaign_perms = {
        f"campaigns.{codename}"
        for codename in Permission.objects.filter(content_type__app_label="campaigns").values_list(
            "codename", flat=True
        )
    }
    assert campaign_perms and campaign_perms <= codenames(Group.objects.get(name=MARKETING_GROUP))


def test_sync_is_idempotent_and_keeps_manual_additions():
    group = Group.objects.get(name=MARKETING_GROUP)
    extra = Permission.objects.get(content_type__app_label="customers", codename="change_product")
    group.permissions.add(extra)
    before = codenames(group)

    marketing_group_sync()
    marketing_group_sync()

    assert Group.objects.filter(name=MARKETING_GROUP).count() == 1
    assert codenames(group) == before


def test_create_demo_staff_is_idempotent_and_prints_logins():
    out = StringIO()
    call_command("create_demo_staff", stdout=out)
    call_command("create_demo_staff", stdout=out)

    assert "admin / admin" in out.getvalue() and "marketing / marketing" in out.getvalue()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")
    marketer = User.objects.get(username="marketing")
    assert marketer.is_staff and not marketer.is_superuser and marketer.check_password("marketing")
    assert list(marketer.groups.values_list("name", flat=True)) == [MARKETING_GROUP]
    assert marketer.has_perm("campaigns.change_campaign") and marketer.has_perm("customers.view_customer")
    assert not marketer.has_perm("customers.change_customer") and not marketer.has_perm("customers.view_apikey")
    assert not marketer.has_perm("customers.export_personal_data")
    privacy = User.objects.get(username="privacy")
    assert privacy.has_perm("customers.export_personal_data") and not privacy.has_perm("campaigns.view_campaign")
    assert User.objects.count() == 3
    assert (admin.email, marketer.email) == ("admin@shop.example", "marketing@shop.example")  # test sends go there


def test_create_demo_staff_refuses_in_production(settings):
    settings.APP_ENV = "production"

    with pytest.raises(CommandError, match="production"):
        call_command("create_demo_staff", stdout=StringIO())

    assert not User.objects.exists()

"""The GDPR data export is a privileged, per-person, audited action, never a bulk download.

The view-only Marketing group could tick "select all" and download the full data of every
customer. Now: Marketing is refused; whoever holds customers.export_personal_data exports one
customer at a time, and each export leaves an audit entry (who, when, which customer).
"""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from customers.models import Customer, SuppressedAddress
from customers.roles import data_protection_group_sync, marketing_group_sync

pytestmark = pytest.mark.django_db

LIST = "admin:customers_customer_changelist"


@pytest.fixture
def customers() -> list[Customer]:
    return [Customer.objects.create(email=f"c{i}@example.org", first_name=f"C{i}") for i in range(3)]


def _client(username: str, group=None, *, superuser: bool = False) -> Client:
    if superuser:
        user = User.objects.create_superuser(username, f"{username}@shop.example", "pw")
    else:
        user = User.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(group())
    client = Client()
    client.force_login(user)
    return client


def _action(client: Client, action: str, pks: list[int], **extra) -> object:
    data = {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0", **extra}
    return client.post(reverse(LIST), data)


def _is_download(response) -> bool:
    return response.get("Content-Disposition", "").startswith("attachment")


def test_marketing_cannot_export_personal_data_in_bulk_or_at_all(customers):
    marketer = _client("mia", marketing_group_sync)
    page = marketer.get(reverse(LIST)).content.decode()
    assert "Export personal data" not in page and "export_customer_data" not in page

    across = _action(marketer, "export_customer_data", [c.pk for c in customers], select_across="1")
    one = _action(marketer, "export_customer_data", [customers[0].pk])
    direct = marketer.post(reverse("admin:customers_customer_export_personal_data", args=[customers[0].pk]))
    change_page = marketer.get(reverse("admin:customers_customer_change", args=[customers[0].pk])).content.decode()

    assert not _is_download(across) and not _is_download(one)
    assert direct.status_code == 403
    assert 'id="export-personal-data"' not in change_page
    assert not LogEntry.objects.exists()


def test_privileged_export_is_per_person_and_audited(customers):
    privacy = _client("dana", data_protection_group_sync)
    target = customers[1]

    response = privacy.post(reverse("admin:customers_customer_export_personal_data", args=[target.pk]))

    assert response.status_code == 200 and _is_download(response)
    assert json.loads(response.content)["profile"]["email"] == "c1@example.org"
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.object_id, entry.action_flag) == ("dana", str(target.pk), CHANGE)
    assert "Exported personal data" in entry.change_message
    history = privacy.get(reverse("admin:customers_customer_history", args=[target.pk])).content.decode()
    assert "Exported personal data (GDPR access request)." in history


@pytest.mark.parametrize("extra", [{"select_across": "1"}, {}])
def test_even_a_superuser_exports_one_customer_at_a_time(customers, extra):
    owner = _client("owner", superuser=True)

    response = _action(owner, "export_customer_data", [c.pk for c in customers], **extra)

    assert response.status_code == 302 and not _is_download(response)
    messages = owner.get(response["Location"]).content.decode()
    assert "Personal data is exported one customer at a time" in messages
    assert not LogEntry.objects.exists()

    single = _action(owner, "export_customer_data", [customers[2].pk])
    assert _is_download(single) and json.loads(single.content)["profile"]["email"] == "c2@example.org"
    assert LogEntry.objects.get().object_id == str(customers[2].pk)


def test_marketing_erases_a_contact_after_confirming_and_it_is_audited(customers):
    marketer = _client("mia", marketing_group_sync)
    target = customers[0]

    confirm = marketer.get(reverse("admin:customers_customer_erase", args=[target.pk]))
    assert confirm.status_code == 200 and "c0@example.org" in confirm.content.decode()
    assert Customer.objects.filter(pk=target.pk).exists()
    across = _action(
        marketer, "erase_customers", [c.pk for c in customers], select_across="1", confirm_gdpr_erase="yes"
    )
    assert Customer.objects.count() == 3 and across.status_code == 302

    done = marketer.post(
        reverse(LIST),
        {"action": "erase_customers", "_selected_action": [str(target.pk)], "confirm_gdpr_erase": "yes"},
    )

    assert done.status_code == 302
    assert not Customer.objects.filter(pk=target.pk).exists() and SuppressedAddress.objects.count() == 1
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.object_id, entry.action_flag) == ("mia", str(target.pk), DELETION)
    assert "c0@example.org" not in entry.object_repr + entry.change_message

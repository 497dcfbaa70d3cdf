"""The customer page explains the computed metrics and offers the GDPR actions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_customer_page_explains_metrics_in_plain_words(client):
    customer = Customer.objects.create(email="kim@example.com", first_name="Kim")
    now = timezone.now()
    for n, days_ago in enumerate((70, 40, 10)):
        Order.objects.create(
            external_id=f"o{n}", customer=customer, placed_at=now - dt.timedelta(days=days_ago), total=Decimal("30")
        )
    call_command("compute_customer_metrics")

    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "What the metrics say" in html
    assert "Buying within their usual rhythm." in html


def test_customer_list_offers_gdpr_export_and_erase_to_superusers(client):
    Customer.objects.create(email="kim@example.com")
    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))
    html = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "Export personal data (JSON, one customer)" in html
    assert "Erase (GDPR)" in html

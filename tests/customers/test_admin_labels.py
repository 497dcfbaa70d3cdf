"""Consent proof, suppression, orders and the customer list read in words, with money in its currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from customers.models import Customer, Order, SuppressedAddress
from customers.services.suppression import customer_set_email_status
from tracking.services.feedback import message_unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))
    return client


def test_consent_changes_say_how_and_which_email_in_one_query_for_the_page(staff, django_assert_max_num_queries):
    campaign = Campaign.objects.create(name="Win-back", kind=CampaignKind.WIN_BACK)
    for n in range(5):
        customer = Customer.objects.create(email=f"kim{n}@example.com")
        message = Message.objects.create(
            customer=customer, campaign=campaign, status=MessageStatus.SENT, subject="We miss you"
        )
        message_unsubscribe(message=message, one_click=n % 2 == 0)
    bounced = Customer.objects.create(email="gone@example.com")
    customer_set_email_status(customer=bounced, status="bounced", source="webhook:postmark", actor="postmark")

    with django_assert_max_num_queries(12):
        html = staff.get(reverse("admin:customers_consentchange_changelist")).content.decode()

    assert "Email status: Subscribed → Unsubscribed" in html
    assert "One-click unsubscribe (the mail app&#x27;s button)" in html and "Unsubscribe link in an email" in html
    assert "From “We miss you” from Win-back" in html
    assert "Email provider webhook (Postmark)" in html and "Email status: Subscribed → Bounced" in html
    for code in (">one_click<", ">unsubscribe_link<", "message:", ">webhook:postmark<"):
        assert code not in html


def test_suppression_list_gives_reasons_in_words(staff):
    SuppressedAddress.objects.create(email_hash="a" * 64, reason="erased")
    SuppressedAddress.objects.create(email_hash="b" * 64, reason="complained")
    html = staff.get(reverse("admin:customers_suppressedaddress_changelist")).content.decode()
    assert "Erased (GDPR)" in html and "Marked as spam" in html


def test_orders_and_customers_show_money_with_its_currency(staff, settings):
    settings.SHOP_CURRENCY = "GBP"
    customer = Customer.objects.create(email="kim@example.com", total_spent=Decimal("1234.50"))
    placed = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    Order.objects.create(external_id="A-1", customer=customer, placed_at=placed, total=Decimal("19.90"), currency="USD")

    orders = staff.get(reverse("admin:customers_order_changelist")).content.decode()
    assert "$19.90" in orders
    customers = staff.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "£1,234.50" in customers
    page = staff.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "£1,234.50" in page and "$19.90" in page

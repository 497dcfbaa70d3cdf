"""GDPR: a customer's data can be exported in full and erased, leaving only a suppressed hash."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind, Enrollment, Message, MessageStatus
from customers.models import (
    Activity,
    ActivityType,
    ConsentChange,
    Customer,
    EmailStatus,
    Order,
    OrderItem,
    Product,
    SuppressedAddress,
)
from customers.selectors import customer_mailable_ids
from customers.services.gdpr import customer_erase, customer_export_data
from customers.services.suppression import customer_set_email_status, email_hash
from tracking.models import EspEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> Customer:
    customer = Customer.objects.create(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    product = Product.objects.create(sku="TEA-1", name="Earl Grey", price=Decimal("9.50"))
    order = Order.objects.create(external_id="A-1001", customer=customer, placed_at=timezone.now(), total=Decimal("19"))
    OrderItem.objects.create(order=order, product=product, sku="TEA-1", quantity=2, unit_price=Decimal("9.50"))
    Activity.objects.create(customer=customer, type=ActivityType.PRODUCT_VIEWED, product=product)
    campaign = Campaign.objects.create(name="Loyalty", kind=CampaignKind.LOYALTY)
    enrollment = Enrollment.objects.create(campaign=campaign, customer=customer)
    message = Message.objects.create(
        customer=customer, campaign=campaign, enrollment=enrollment, status=MessageStatus.SENT, esp_message_id="esp-1"
    )
    EspEvent.objects.create(
        event_id="postmark:1",
        esp="postmark",
        event_type="delivered",
        message=message,
        recipient_hash=email_hash(customer.email),
        raw={"Recipient": customer.email},
    )
    customer_set_email_status(customer=customer, status=EmailStatus.UNSUBSCRIBED, source="one_click")
    return customer


def test_export_contains_everything_held(customer):
    data = customer_export_data(customer=customer)
    json.dumps(data)  # JSON-ready as returned
    assert data["profile"]["email"] == "ada@example.com"
    assert data["orders"][0]["external_id"] == "A-1001"
    assert data["orders"][0]["total"] == "19.00"
    assert data["orders"][0]["items"][0]["sku"] == "TEA-1"
    assert data["activities"][0]["type"] == "product_viewed"
    assert data["enrollments"][0]["campaign_name"] == "Loyalty"
    assert data["messages"][0]["status"] == "sent"
    assert data["consent_changes"][0]["new_value"] == "unsubscribed"
    assert data["other"]["tracking.espevent"][0]["event_type"] == "delivered"


def test_erase_leaves_only_the_suppressed_hash(customer):
    unrelated = EspEvent.objects.create(event_id="postmark:2", esp="postmark", event_type="bounced")
    stray = EspEvent.objects.create(
        event_id="postmark:3", esp="postmark", event_type="bounced", recipient_hash=email_hash("ada@example.com")
    )
    customer_erase(customer=customer, actor="admin:dpo")
    assert not Customer.objects.filter(email="ada@example.com").exists()
    for model in (Order, OrderItem, Activity, Enrollment, Message, ConsentChange):
        assert not model.objects.exists(), model
    assert list(EspEvent.objects.values_list("pk", flat=True)) == [unrelated.pk]
    assert not EspEvent.objects.filter(pk=stray.pk).exists()
    assert Product.objects.count() == 1  # catalogue data is not personal
    suppressed = SuppressedAddress.objects.get()
    assert (suppressed.email_hash, suppressed.reason) == (email_hash("ada@example.com"), "erased")


def test_re_imported_address_is_never_mailed(customer):
    customer_erase(customer=customer, actor="admin:dpo")
    again = Customer.objects.create(email=" Ada@Example.com ")
    assert again.email_status == EmailStatus.SUBSCRIBED  # as a naive import would create it
    assert customer_mailable_ids(customer_ids=[again.pk]) == set()


def test_commands_export_and_erase(customer):
    out = StringIO()
    call_command("export_customer", "ADA@example.com", stdout=out)
    assert json.loads(out.getvalue())["orders"][0]["external_id"] == "A-1001"
    with pytest.raises(CommandError):
        call_command("erase_customer", str(customer.pk))
    assert Customer.objects.filter(pk=customer.pk).exists()
    call_command("erase_customer", str(customer.pk), "--yes", stdout=StringIO())
    assert not Customer.objects.exists()
    assert SuppressedAddress.objects.filter(reason="erased").count() == 1
    with pytest.raises(CommandError):
        call_command("export_customer", "ada@example.com")


def test_admin_actions_export_and_erase_after_confirmation(customer, admin_user, rf):
    from django.contrib import admin
    from django.contrib.messages.storage.cookie import CookieStorage

    from customers.admin.gdpr_actions import GdprActionsMixin, erase_customers, export_customer_data

    class CustomerGdprAdmin(GdprActionsMixin, admin.ModelAdmin):
        pass

    model_admin = CustomerGdprAdmin(Customer, admin.site)

    def request(data: dict):
        req = rf.post("/admin/customers/customer/", data)
        req.user = admin_user
        req._messages = CookieStorage(req)
        return req

    assert {"export_customer_data", "erase_customers"} <= set(model_admin.get_actions(request({})))
    exported = export_customer_data(model_admin, request({}), Customer.objects.all())
    assert exported["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}-personal-data.json"'
    assert json.loads(exported.content)["orders"][0]["external_id"] == "A-1001"

    confirmation = erase_customers(model_admin, request({}), Customer.objects.all())
    html = confirmation.render().content.decode()
    assert "ada@example.com" in html and 'name="confirm_gdpr_erase" value="yes"' in html
    assert Customer.objects.filter(pk=customer.pk).exists()

    assert erase_customers(model_admin, request({"confirm_gdpr_erase": "yes"}), Customer.objects.all()) is None
    assert not Customer.objects.exists()
    assert SuppressedAddress.objects.get().reason == "erased"

"""Fixtures for the send path: a live fake ESP behind the real anymail Postmark backend, and data."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign, CampaignKind, CampaignStatus, Step, Template, TemplateVersion, Trigger
from customers.models import Consent, Customer
from tests.fake_esp import FakeESP

ESP_TOKEN = "test-server-token"

COMPILED_HTML = (
    "<!doctype html><html><head><title>{{ subject }}</title></head><body>"
    "<p>Hello {{ customer.first_name|default:'there' }},</p>"
    "<p>Something new for you.</p>"
    "<p><a href='{{ unsubscribe_url }}'>Unsubscribe</a></p></body></html>"
)


@pytest.fixture
def fake_esp(settings):
    """The fake ESP on a free loopback port, with anymail's Postmark backend pointed at it."""
    with FakeESP(token=ESP_TOKEN) as esp:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": ESP_TOKEN, "POSTMARK_API_URL": esp.url}
        settings.SEND_RETRY_BASE_SECONDS = 0.05
        settings.SEND_RETRY_MAX_SECONDS = 0.2
        settings.SEND_CONCURRENCY = 4
        settings.SEND_RATE_PER_SECOND = 0
        settings.SEND_RECONCILE_LOOKUP = True
        yield esp


@pytest.fixture
def make_customers(db):
    def make(count: int, *, prefix: str = "person") -> list[Customer]:
        Customer.objects.bulk_create(
            [
                Customer(email=f"{prefix}{i}@example.test", first_name=f"Name{i}", consent=Consent.GRANTED)
                for i in range(count)
            ]
        )
        return list(Customer.objects.filter(email__startswith=prefix).order_by("pk"))

    return make


@pytest.fixture
def make_campaign(db):
    def make(*, name: str = "Spring sale", kind: str = CampaignKind.ONE_OFF, status: str = CampaignStatus.DRAFT):
        campaign = make_campaign_now(name=name, status=status)
        if kind != CampaignKind.ONE_OFF:
            Campaign.objects.filter(pk=campaign.pk).update(kind=kind, trigger=Trigger.AUDIENCE)
            campaign.refresh_from_db()
        return campaign

    return make


def make_campaign_now(*, name: str, status: str = CampaignStatus.ACTIVE) -> Campaign:
    """A one-off campaign with one step and a valid saved template version (outside fixtures)."""
    template, _ = Template.objects.get_or_create(
        name="Sending test template",
        defaults={"subject": "Hi {{ customer.first_name }}", "mjml": "<mjml></mjml>", "is_valid": True},
    )
    if template.current_version is None:
        template.current_version = TemplateVersion.objects.create(
            template=template,
            number=1,
            subject="Hi {{ customer.first_name }}",
            preheader="News",
            mjml="<mjml></mjml>",
            compiled_html=COMPILED_HTML,
        )
        template.save(update_fields=["current_version"])
    campaign = Campaign.objects.create(name=name, kind=CampaignKind.ONE_OFF, status=status)
    Step.objects.create(campaign=campaign, position=1, template=template)
    return campaign

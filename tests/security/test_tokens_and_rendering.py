"""Public tokens under attack, hostile customer data in templates, and no PII in any generated URL."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.core import signing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import CampaignStatus, Message, MessageStatus, Template, TemplateVersion
from campaigns.services.sending.delivery import message_email_build
from customers.models import Customer, EmailStatus
from tests.campaigns.conftest import make_campaign_now
from tracking.link_rewriting import CLICK_PURPOSE, HONEYPOT_PURPOSE, OPEN_PURPOSE
from tracking.models import TrackingEvent
from tracking.tokens import make_token
from tracking.unsubscribe_links import UNSUBSCRIBE_PURPOSE, unsubscribe_token

pytestmark = pytest.mark.django_db
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SITE = "https://mail.shop.example"

HOSTILE_HTML = (
    "<!doctype html><html><body><p>Hello {{ customer.first_name }} {{ customer.last_name }}</p>"
    "<p>{{ preheader }}</p>"
    '<a href="https://shop.example/for-you?utm_source=email">Your picks</a>'
    "<a href='{{ unsubscribe_url }}'>Unsubscribe</a></body></html>"
)
HOSTILE_NAMES = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "{{ settings.SECRET_KEY }}",
    "{% load static %}{% debug %}",
    "\"'><svg/onload=alert(1)>",
    "Robert'); DROP TABLE customers;--",
]


@pytest.fixture
def message(settings) -> Message:
    settings.SITE_URL = SITE
    customer = Customer.objects.create(email="jane.doe@example.org", first_name="Jane", last_name="Doe")
    campaign = make_campaign_now(name="Security")
    return Message.objects.create(
        customer=customer, campaign=campaign, step=campaign.steps.first(), status=MessageStatus.SENT
    )


def _hostile_version() -> TemplateVersion:
    template = Template.objects.create(name="Hostile", subject="Hi {{ customer.first_name }}", mjml="<mjml/>")
    template.is_valid = True
    version = TemplateVersion.objects.create(
        template=template, number=1, subject="Hi {{ customer.first_name }}", preheader="For {{ customer.first_name }}",
        mjml="<mjml/>", compiled_html=HOSTILE_HTML,
    )  # fmt: skip
    template.current_version = version
    template.save()
    return version


# --- tokens -------------------------------------------------------------------------------------


def _paths(message_id: int) -> dict[str, str]:
    return {
        "unsubscribe": f"/u/{unsubscribe_token(message_id)}",
        "open": f"/o/{make_token(OPEN_PURPOSE, message_id)}.gif",
        "trap": f"/c/{make_token(HONEYPOT_PURPOSE, message_id)}",
    }


def _damaged(token: str) -> list[str]:
    value, _, signature = token.rpartition(":")
    return [
        token[: len(token) // 2],  # truncated
        token[:-1],
        f"{value}:{signature[::-1]}",  # forged signature
        f"{signing.b64_encode(b'[999999]').decode()}:{signature}",  # another message id, old signature
        token + "A",
        token.upper(),
    ]


def test_damaged_and_other_purpose_tokens_act_on_nothing(client, message):
    customer = message.customer
    bad_tokens = _damaged(unsubscribe_token(message.pk))
    bad_tokens += [make_token(purpose, message.pk) for purpose in (CLICK_PURPOSE,)]
    bad_tokens += [make_token(UNSUBSCRIBE_PURPOSE, message.pk, 1), make_token(UNSUBSCRIBE_PURPOSE)]
    for token in bad_tokens:
        assert client.get(f"/u/{token}").status_code == 404
        assert client.post(f"/u/{token}", {"List-Unsubscribe": "One-Click"}).status_code == 404
        assert client.get(f"/c/{token}").status_code == 404
        assert client.get(f"/o/{token}.gif").status_code == 200  # the pixel always answers...
    assert not TrackingEvent.objects.exists()  # ...but records nothing for a bad token
    customer.refresh_from_db()
    assert customer.email_status == EmailStatus.SUBSCRIBED


@FUZZ
@given(token=st.one_of(st.text(max_size=80), st.binary(max_size=60).map(lambda b: signing.b64_encode(b).decode())))
def test_random_tokens_never_error(client, message, token):
    quoted = re.sub(r"[^A-Za-z0-9._~:-]", lambda m: f"%{ord(m.group(0)) & 0xFF:02X}", token) or "x"
    for path, expected in ((f"/u/{quoted}", {404}), (f"/c/{quoted}", {404}), (f"/o/{quoted}.gif", {200, 404})):
        assert client.get(path).status_code in expected
    assert client.post(f"/u/{quoted}", {"List-Unsubscribe": "One-Click"}).status_code == 404
    message.customer.refresh_from_db()
    assert message.customer.email_status == EmailStatus.SUBSCRIBED


def test_a_token_acts_only_on_its_own_messages_customer(client, message):
    other = Customer.objects.create(email="other@example.org")
    theirs = Message.objects.create(customer=other, campaign=message.campaign, status=MessageStatus.SENT)
    assert client.post(f"/u/{unsubscribe_token(message.pk)}", {"List-Unsubscribe": "One-Click"}).status_code == 200
    message.customer.refresh_from_db()
    other.refresh_from_db()
    assert message.customer.email_status == EmailStatus.UNSUBSCRIBED
    assert other.email_status == EmailStatus.SUBSCRIBED, "a token of message A acted on another customer"
    assert client.get(f"/u/{unsubscribe_token(theirs.pk)}").content.count(b"o***@example.org") == 1


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: a refused insert stays refused
def test_tokens_of_a_deleted_or_erased_message_answer_neutrally(client, message):
    paths = _paths(message.pk)
    message.campaign.status = CampaignStatus.ARCHIVED
    message.campaign.save()
    message.delete()
    assert client.get(paths["unsubscribe"]).status_code == 404
    assert client.post(paths["unsubscribe"], {"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get(paths["open"]).status_code == 200
    assert client.get(paths["trap"]).status_code in {200, 404}
    assert not TrackingEvent.objects.exists()
    page = client.get(paths["unsubscribe"]).content.decode()
    assert "jane" not in page.lower() and "@" not in page.replace("&#x27;", "")


# --- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_escaped_in_html_and_never_evaluated(message, name, settings):
    settings.SECRET_KEY = "a-secret-that-must-not-leak-into-mail"
    Customer.objects.filter(pk=message.customer_id).update(first_name=name, last_name=name)
    message.customer.refresh_from_db()
    message.template_version = _hostile_version()
    message.save()
    email = message_email_build(message=message)
    html = email.alternatives[0][0]
    assert "<script>" not in html and "<img src=x" not in html and "<svg" not in html
    assert settings.SECRET_KEY not in html + email.body + email.subject
    assert "{{" not in name or name in email.subject, "data is shown as typed, not run as a template"
    assert email.subject == f"Hi {name}"  # a header is plain text; it is not HTML


# --- no PII in URLs -----------------------------------------------------------------------------

_URL = re.compile(r"""(?:https?|mailto):[^\s"'<>]+""")


def test_no_email_address_or_name_in_any_url_of_a_rendered_message(message, settings):
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@shop.example"
    message.template_version = _hostile_version()
    message.save()
    email = message_email_build(message=message)
    sources = [email.alternatives[0][0], email.body, *email.extra_headers.values()]
    urls = [unquote(url) for source in sources for url in _URL.findall(source)]
    assert len(urls) >= 5  # click, unsubscribe, honeypot, pixel, List-Unsubscribe (https + mailto)
    for url in urls:
        lowered = url.lower()
        assert "jane" not in lowered and "doe" not in lowered, url
        assert "@" not in url or url.startswith(f"mailto:{settings.UNSUBSCRIBE_MAILTO}?"), url

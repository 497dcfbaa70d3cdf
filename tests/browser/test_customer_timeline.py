"""A customer's whole story on their admin page, built the way it happens in production.

The shop reports a cart and an order through the event API, the abandoned-cart journey mails
them through the real send path into the fake ESP, the recipient's mail app fetches the open
pixel and follows a link from that mail (a security scanner follows it too), then the
recipient unsubscribes with the link in the footer. A marketer then reads the customer page
and the tracking events list in Chromium.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from campaigns.journeys.services.recipes import campaign_create_from_recipe
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Campaign, CampaignStatus, Enrollment, Message
from campaigns.services.sending import messages_send_due
from customers.models import Customer, Order
from tests.browser.conftest import admin_log_in
from tests.fake_esp import FakeESP
from tracking.services.classification import tracking_events_classify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "timeline-test-token"
MAIL_APP_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)
SCANNER_UA = "Mozilla/5.0 (compatible; Barracuda Sentinel; +https://www.barracuda.com)"


@pytest.fixture
def esp(settings):
    with FakeESP(token=TOKEN) as server:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": server.url}
        settings.SEND_RATE_PER_SECOND = 0
        yield server


def _post_events(base: str, key: str, *events: dict) -> dict:
    response = requests.post(
        f"{base}/api/v1/events", json={"events": list(events)}, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == len(events), body
    return body


def _zone_in_daytime() -> str:
    """A fixed-offset zone whose local hour right now is outside quiet hours."""
    from zoneinfo import ZoneInfo

    for offset in range(-12, 13):
        name = f"Etc/GMT{'+' if offset >= 0 else '-'}{abs(offset)}"
        if timezone.now().astimezone(ZoneInfo(name)).hour in range(10, 18):
            return name
    raise AssertionError("no zone in daytime")


def test_customer_page_tells_the_whole_story_in_words(live_server, browser, page, shot, marketer, esp, settings):
    base = live_server.url
    settings.SITE_URL = base  # the links in the mail point at this server
    settings.TRACKING_BUFFER = False  # hits land directly instead of waiting for the buffer's drain
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    out = StringIO()
    call_command("create_api_key", "Shop", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    campaigns = campaign_create_from_recipe(recipe="abandoned_cart", user=None)
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(status=CampaignStatus.ACTIVE, holdout_percent=0)

    # The shop: a new visitor leaves a cart behind two hours ago.
    two_hours_ago = (timezone.now() - timedelta(hours=2)).isoformat()
    who = {"email": "nora@example.com", "first_name": "Nora", "email_consent": True, "timezone": _zone_in_daytime()}
    cart = [{"sku": "MUG-1", "product_name": "Blue mug", "quantity": 1, "unit_price": "24.95"}]
    left_behind = {"id": "cart-1", "type": "cart_updated", "occurred_at": two_hours_ago, "customer": who}
    _post_events(base, key, {**left_behind, "items": cart})
    customer = Customer.objects.get(email="nora@example.com")

    # The journey picks her up and the mail goes out through the real sender.
    journeys_tick()
    messages_send_due(budget_seconds=10)
    [received] = esp.messages()
    html = received["HtmlBody"]
    message = Message.objects.get(customer=customer)
    subject = message.subject
    assert subject and received["Subject"] == subject
    # She reads it an hour later (clicks within seconds of delivery are a scanner's).
    an_hour = timedelta(hours=1)
    Message.objects.filter(pk=message.pk).update(sent_at=message.sent_at - an_hour)
    assert Enrollment.objects.get(customer=customer).entered_at < message.sent_at - an_hour

    pixel = re.search(r'<img[^>]+src="([^"]+/o/[^"]+\.gif)"', html).group(1)
    clicks = [url for url in re.findall(r'href="([^"]+/c/[^"]+)"', html)]
    unsubscribe = re.search(r'href="([^"]+/u/[^"]+)"', html).group(1)
    assert pixel.startswith(base) and clicks and unsubscribe.startswith(base)

    # Her mail app fetches the pixel; a security scanner follows the first link, then she does.
    mail_app = browser.new_context(user_agent=MAIL_APP_UA)
    scanner = browser.new_context(user_agent=SCANNER_UA)
    assert mail_app.request.get(pixel).headers["content-type"] == "image/gif"
    scanned = scanner.request.get(clicks[0], max_redirects=0)
    followed = mail_app.request.get(clicks[0], max_redirects=0)
    assert scanned.status == followed.status == 302
    target = followed.headers["location"]
    tracking_events_classify()  # what the beat does every few seconds

    # She buys (in dollars, to see the currency follow the order), which ends the journey.
    order = {"id": "order-1", "type": "order_placed", "customer": {"email": "nora@example.com"}, "order_id": "A-1001"}
    _post_events(base, key, {**order, "currency": "USD", "items": [{**cart[0], "quantity": 2}]})
    # Then she unsubscribes with the link in the mail's footer.
    footer = mail_app.new_page()
    footer.goto(unsubscribe)
    footer.click("button:has-text('Unsubscribe')")
    footer.wait_for_selector("text=unsubscribed")
    mail_app.close()
    scanner.close()

    admin_log_in(page, base)
    page.goto(f"{base}/admin/customers/customer/{customer.pk}/change/")
    page.wait_for_selector("#timeline")
    shot("customer_timeline")
    rows = page.locator("#timeline tr.tl-entry")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    kinds = [rows.nth(i).get_attribute("class").split()[-1].removeprefix("tl-") for i in range(rows.count())]

    # Newest first: unsubscribe, journey left, order, her click, the scanner's click, the open, the mail,
    # the journey entered by the cart, then what the shop told us two hours ago (cart and consent).
    assert kinds[:8] == ["consent", "journey", "order", "click", "click", "open", "message", "journey"], kinds
    assert sorted(kinds[8:]) == ["activity", "consent"], kinds
    unsubscribed, left, bought, human_click, scanner_click, opened, sent, entered = texts[:8]
    assert "Email status: Subscribed → Unsubscribed" in unsubscribed
    assert "Unsubscribe link in an email" in unsubscribed and f"“{subject}”" in unsubscribed
    assert "reached the goal: placed an order" in left and "Abandoned cart: leads" in left
    assert "Placed order A-1001" in bought and "$49.90" in bought and "Blue mug" in bought
    assert "Human" in human_click and target[:120] in human_click
    assert "Security scanner: known scanner user agent" in scanner_click
    assert f"Opened “{subject}”" in opened and "Human" in opened
    assert f"Sent “{subject}”" in sent and "Abandoned cart: leads, step 1" in sent
    assert "Entered the journey Abandoned cart: leads" in entered
    cart_row = texts[8 + kinds[8:].index("activity")]
    consent_row = texts[8 + kinds[8:].index("consent")]
    assert "Cart updated" in cart_row and "Blue mug" in cart_row and "€24.95" in cart_row
    assert "Marketing consent: Unknown → Granted" in consent_row and "Sent by the shop (event API)" in consent_row
    timeline = page.inner_text("#timeline")
    for code in ("scanner_user_agent", "unsubscribe_link", "order_placed", "message:"):
        assert code not in timeline, code

    # The links lead to the objects.
    page.click("#timeline tr.tl-order a:has-text('Order A-1001')")
    page.wait_for_selector("#content h2, #content h1")
    assert "A-1001" in page.content() and "$49.90" in page.inner_text("#content")
    page.go_back()
    page.locator("#timeline tr.tl-message a", has_text="Email").first.click()
    page.wait_for_selector("#content")
    assert subject in page.inner_text("#content")
    page.go_back()
    page.locator("#timeline tr.tl-message a", has_text="Campaign: Abandoned cart: leads").first.click()
    page.wait_for_selector("#content")
    assert "Abandoned cart: leads" in page.inner_text("#content")

    # The tracking events list says who made each hit, in words.
    page.goto(f"{base}/admin/tracking/trackingevent/")
    page.wait_for_selector("#result_list")
    shot("tracking_events_verdicts")
    listing = page.inner_text("#result_list")
    assert "Human" in listing and "Security scanner: known scanner user agent" in listing
    assert "scanner_user_agent" not in listing and f"“{subject}”" in listing
    assert Order.objects.get(external_id="A-1001").currency == "USD"

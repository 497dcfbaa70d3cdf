"""Open pixel, click redirect and link rewriting, through real HTTP requests to the Django app."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.tracking.engagement_support import _fresh_url_caches, make_message  # noqa: F401
from tracking.link_rewriting import html_add_tracking
from tracking.models import TrackedUrl, TrackingEvent, Verdict
from tracking.services.classification import tracking_events_classify
from tracking.tokens import make_token
from tracking.unsubscribe_links import unsubscribe_url

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0"
SITE = "http://127.0.0.1:8000"


def _email_html(message_id: int) -> str:
    html = (
        "<html><body>"
        "<a href=\"https://shop.example/sale?a=1&amp;b=2\" class='btn'>Sale</a>"
        "<a class=x href='https://shop.example/p/42'>Product</a>"
        '<a href="https://shop.example/sale?a=1&amp;b=2">Sale again</a>'
        '<a href="mailto:help@shop.example">Mail us</a><a href="tel:+4930123">Call</a><a href="#top">Top</a>'
        '<a href="https://partner.example/" data-no-track>Partner</a>'
        f'<a href="{unsubscribe_url(message_id)}">Unsubscribe</a>'
        "</body></html>"
    )
    return html_add_tracking(html, message_id=message_id)


def _click_urls(html: str) -> list[str]:
    return [url for url in re.findall(r'href="([^"]+)"', html) if "/c/" in url]


def _path(url: str) -> str:
    return url.removeprefix(SITE)


@pytest.fixture
def sent_message(settings):
    settings.SITE_URL = SITE
    return make_message(sent_at=timezone.now() - timedelta(hours=2), delivered_at=timezone.now() - timedelta(hours=2))


def test_links_are_rewritten_except_unsubscribe_mailto_and_marked(sent_message):
    html = _email_html(sent_message.pk)
    clicks = _click_urls(html)
    # three tracked links plus the honeypot; the two "Sale" links share one stored URL
    assert len(clicks) == 4
    assert TrackedUrl.objects.count() == 2
    assert set(TrackedUrl.objects.values_list("url", flat=True)) == {
        "https://shop.example/sale?a=1&b=2",
        "https://shop.example/p/42",
    }
    for untouched in ("mailto:help@shop.example", "tel:+4930123", "#top", unsubscribe_url(sent_message.pk)):
        assert f'href="{untouched}"' in html
    assert 'href="https://partner.example/"' in html and "data-no-track" not in html
    assert "class='btn'" in html and "class=x" in html
    pixel = re.search(r'<img src="([^"]+\.gif)" width="1" height="1" alt=""', html)
    assert pixel and html.index(pixel.group(0)) < html.index("</body>")
    assert sent_message.customer.email not in html.replace(unsubscribe_url(sent_message.pk), "")


def test_no_email_address_in_any_generated_url(sent_message):
    html = _email_html(sent_message.pk)
    urls = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert "@" not in url or url.startswith("mailto:")
        assert sent_message.customer.email.split("@")[0] not in url


def test_repeated_renders_cost_no_queries(sent_message, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _email_html(sent_message.pk)
    with CaptureQueriesContext(connection) as queries:
        _email_html(sent_message.pk)
    assert len(queries) == 0


def test_click_redirects_to_the_stored_url_and_is_recorded(client, sent_message):
    sale = _click_urls(_email_html(sent_message.pk))[0]
    response = client.get(_path(sale), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/sale?a=1&b=2"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    event = TrackingEvent.objects.get()
    assert (event.kind, event.message_id, event.url.url) == (
        "click",
        sent_message.pk,
        "https://shop.example/sale?a=1&b=2",
    )
    assert event.verdict == Verdict.PENDING
    tracking_events_classify()
    event.refresh_from_db()
    assert (event.verdict, event.counts_as_human, event.customer_id) == ("human", True, sent_message.customer_id)


def test_open_pixel_for_valid_and_tampered_tokens_records_only_valid(client, sent_message):
    pixel = re.search(r'<img src="([^"]+\.gif)"', _email_html(sent_message.pk)).group(1)
    good = client.get(_path(pixel), HTTP_USER_AGENT=BROWSER)
    token = _path(pixel)[len("/o/") : -len(".gif")]
    tampered = client.get(f"/o/{token[:-2]}xx.gif", HTTP_USER_AGENT=BROWSER)
    garbage = client.get("/o/not-a-token.gif")
    for response in (good, tampered, garbage):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif" and response.content.startswith(b"GIF89a")
        assert response["Referrer-Policy"] == "no-referrer"
    assert TrackingEvent.objects.filter(kind="open").count() == 1


@pytest.mark.parametrize(
    "token_for",
    [
        lambda m, u: make_token("click", m, u)[:-3] + "abc",  # tampered signature
        lambda m, u: make_token("open", m),  # open token used as a click token
        lambda m, u: make_token("unsubscribe", m),  # unsubscribe token swapped in
        lambda m, u: make_token("click", m, u + 999),  # validly signed, unknown link
        lambda m, u: "forged:token",
    ],
    ids=["tampered", "open-purpose", "unsubscribe-purpose", "unknown-link", "forged"],
)
def test_bad_click_tokens_get_404_and_no_record(client, sent_message, token_for):
    _email_html(sent_message.pk)
    url_id = TrackedUrl.objects.order_by("pk").first().pk
    response = client.get(f"/c/{token_for(sent_message.pk, url_id)}", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 404
    assert "Location" not in response
    assert response["Referrer-Policy"] == "no-referrer"
    assert TrackingEvent.objects.count() == 0


def test_open_redirect_attempt_is_impossible(client, sent_message):
    sale = _path(_click_urls(_email_html(sent_message.pk))[0])
    token = sale[len("/c/") :]
    payload, signature = token.rsplit(":", 1)
    for attempt in (
        f"/c/{token}?url=https://evil.example/",
        f"/c/{payload}:https://evil.example/",
        f"/c/aHR0cHM6Ly9ldmlsLmV4YW1wbGUv:{signature}",
    ):
        response = client.get(attempt)
        assert "evil.example" not in response.get("Location", "")
    assert client.get(f"/c/{token}?url=https://evil.example/")["Location"] == "https://shop.example/sale?a=1&b=2"


def test_head_request_is_answered_and_judged_scanner(client, sent_message):
    sale = _path(_click_urls(_email_html(sent_message.pk))[0])
    assert client.head(sale, HTTP_USER_AGENT=BROWSER).status_code == 302
    tracking_events_classify()
    event = TrackingEvent.objects.get()
    assert (event.method, event.verdict, event.reason) == ("HEAD", "scanner", "head_request")


def test_honeypot_link_is_recorded_as_scanner(client, sent_message):
    honeypot = _path(_click_urls(_email_html(sent_message.pk))[-1])
    response = client.get(honeypot, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200 and "Location" not in response
    tracking_events_classify()
    event = TrackingEvent.objects.get()
    assert (event.is_honeypot, event.verdict, event.reason) == (True, "scanner", "honeypot")


def test_ip_is_stored_truncated_or_hashed(client, sent_message, settings):
    pixel = _path(re.search(r'<img src="([^"]+\.gif)"', _email_html(sent_message.pk)).group(1))
    client.get(pixel, REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT=BROWSER)
    settings.TRACKING_IP_MODE = "hash"
    client.get(pixel, REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT=BROWSER)
    settings.TRACKING_IP_MODE = "none"
    client.get(pixel, REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT=BROWSER)
    stored = list(TrackingEvent.objects.order_by("pk").values_list("ip", flat=True))
    assert stored[0] == "203.0.113.0"
    assert stored[1].startswith("h:") and "203.0.113" not in stored[1]
    assert stored[2] == ""


def test_client_ip_behind_a_trusted_proxy(client, sent_message, settings):
    settings.TRACKING_PROXY_HOPS = 1
    pixel = _path(re.search(r'<img src="([^"]+\.gif)"', _email_html(sent_message.pk)).group(1))
    client.get(pixel, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 17.58.1.9", HTTP_USER_AGENT=BROWSER)
    tracking_events_classify()
    event = TrackingEvent.objects.get()
    assert (event.ip, event.network, event.proxy_kind) == ("17.58.1.0", "apple", "apple_mpp")


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: the one-statement insert path
def test_a_hit_stored_directly_lands_whole_and_leaves_the_connection_durable(client, sent_message, caplog):
    from tracking.link_rewriting import OPEN_PURPOSE

    path = f"/o/{make_token(OPEN_PURPOSE, sent_message.pk)}.gif"
    assert client.get(path, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9").status_code == 200
    [event] = TrackingEvent.objects.all()
    assert (event.message_id, event.kind, event.method, event.user_agent) == (sent_message.pk, "open", "GET", BROWSER)
    assert event.verdict == Verdict.PENDING and event.esp_flags == {} and event.ip in {"203.0.113.0", ""}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the relaxed commit was the hit's own, not the session's
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    other = make_message(sent_at=timezone.now())
    gone = f"/o/{make_token(OPEN_PURPOSE, other.pk)}.gif"
    other.delete()
    with caplog.at_level("INFO", logger="tracking.services.tracking_events"):
        assert client.get(gone, HTTP_USER_AGENT=BROWSER).status_code == 200  # a deleted message: nothing kept
    assert TrackingEvent.objects.count() == 1
    assert [r.levelname for r in caplog.records if "no longer exists" in r.getMessage()] == ["INFO"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

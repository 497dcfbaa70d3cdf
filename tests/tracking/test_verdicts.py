"""Who is a person, who a privacy proxy, who a scanner: user agents and timing patterns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.tracking.engagement_support import _fresh_url_caches, make_message  # noqa: F401
from tracking.models import TrackedUrl, TrackingEvent
from tracking.services.classification import tracking_events_classify
from tracking.services.tracking_events import hit_build, hit_record, tracking_hits_store
from tracking.verdicts import Hit, MessageHistory, Thresholds, esp_flags_from_event, judge, network_of

SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"
)

DELIVERED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
RULES = Thresholds(scanner_click_seconds=10, burst_seconds=5, burst_links=3, click_without_open_seconds=60)


def _history(**kwargs) -> MessageHistory:
    return MessageHistory(sent_at=DELIVERED - timedelta(seconds=5), delivered_at=DELIVERED, **kwargs)


def _click(after_seconds: float, url_id: int = 1, **kwargs) -> Hit:
    return Hit(kind="click", occurred_at=DELIVERED + timedelta(seconds=after_seconds), url_id=url_id, **kwargs)


def _open(after_seconds: float, **kwargs) -> Hit:
    return Hit(kind="open", occurred_at=DELIVERED + timedelta(seconds=after_seconds), **kwargs)


def test_a_person_opening_in_a_browser_is_human():
    judgement = judge(_open(3600, user_agent=SAFARI), _history(), RULES)
    assert (judgement.verdict, judgement.counts_as_human) == ("human", True)


def test_gmail_image_proxy_is_a_proxy_that_counts_as_a_human_open():
    judgement = judge(_open(600, user_agent=GMAIL_PROXY), _history(), RULES)
    assert (judgement.verdict, judgement.proxy_kind, judgement.counts_as_human) == ("proxy", "gmail_proxy", True)


@pytest.mark.parametrize(
    "hit",
    [
        _open(2, user_agent="Mozilla/5.0", network="apple"),
        _open(90, user_agent="Mozilla/5.0"),  # Apple's bare user agent
        _open(30, user_agent=SAFARI, network="apple"),  # fetched from Apple's network
        _open(30, user_agent=SAFARI, esp_flags=esp_flags_from_event({"sg_machine_open": True})),
        _open(30, user_agent=SAFARI, esp_flags=esp_flags_from_event({"event": "proxy_open"})),
    ],
    ids=["apple-ip-and-ua", "apple-ua", "apple-ip", "sendgrid-flag", "brevo-flag"],
)
def test_apple_privacy_protection_is_a_proxy_not_a_human_open(hit):
    judgement = judge(hit, _history(), RULES)
    assert (judgement.verdict, judgement.proxy_kind, judgement.counts_as_human) == ("proxy", "apple_mpp", False)


def test_apple_network_is_recognised_from_the_raw_ip():
    assert network_of("17.58.101.12") == "apple"
    assert network_of("203.0.113.9") == "" and network_of("garbage") == ""


def test_a_click_two_seconds_after_delivery_is_a_scanner():
    judgement = judge(_click(2, user_agent=CHROME), _history(opens=[DELIVERED]), RULES)
    assert (judgement.verdict, judgement.reason) == ("scanner", "click_too_soon")


def test_three_links_clicked_in_one_burst_are_a_scanner():
    history = _history(opens=[DELIVERED + timedelta(minutes=5)])
    history.clicks = [(DELIVERED + timedelta(minutes=10), 1), (DELIVERED + timedelta(minutes=10, seconds=1), 2)]
    judgement = judge(_click(602, url_id=3, user_agent=CHROME), history, RULES)
    assert (judgement.verdict, judgement.reason) == ("scanner", "click_burst")
    # the same link clicked three times is a person double-clicking, not a burst of links
    history.clicks = [(DELIVERED + timedelta(minutes=10), 1), (DELIVERED + timedelta(minutes=10, seconds=1), 1)]
    assert judge(_click(602, url_id=1, user_agent=CHROME), history, RULES).verdict == "human"


def test_honeypot_head_and_headless_agents_are_scanners():
    assert judge(_click(3600, is_honeypot=True, user_agent=CHROME), _history(), RULES).reason == "honeypot"
    assert judge(_click(3600, method="HEAD", user_agent=CHROME), _history(), RULES).reason == "head_request"
    for agent in (HEADLESS, "python-requests/2.31", "curl/8.4.0", "Mozilla/5.0 (compatible; Barracuda Sentinel)", ""):
        rules = Thresholds.from_settings()
        judgement = judge(_click(3600, user_agent=agent), _history(opens=[DELIVERED]), rules)
        assert (judgement.verdict, judgement.reason) == ("scanner", "scanner_user_agent"), agent


def test_click_without_any_open_soon_after_delivery_is_a_scanner_later_it_is_human():
    assert judge(_click(30, user_agent=CHROME), _history(), RULES).reason == "click_without_open"
    # images off is common: a click without an open an hour later is a person
    assert judge(_click(3600, user_agent=CHROME), _history(), RULES).verdict == "human"


def test_a_normal_person_clicking_after_reading_is_human():
    judgement = judge(_click(1800, user_agent=CHROME), _history(opens=[DELIVERED + timedelta(minutes=29)]), RULES)
    assert (judgement.verdict, judgement.counts_as_human) == ("human", True)


@pytest.mark.django_db
def test_burst_turns_earlier_clicks_of_the_burst_into_scanner_clicks(settings):
    settings.TRACKING_BURST_LINKS = 3
    message = make_message(sent_at=DELIVERED, delivered_at=DELIVERED)
    urls = [TrackedUrl.objects.create(url_hash=str(i), url=f"https://shop.example/{i}") for i in range(3)]
    open_hit = hit_build(kind="open", message_id=message.pk, method="GET", user_agent=SAFARI, ip="", network="")
    open_hit["t"] = (DELIVERED + timedelta(minutes=5)).timestamp()
    first = hit_build(
        kind="click", message_id=message.pk, method="GET", user_agent=CHROME, ip="", network="", url_id=urls[0].pk
    )
    first["t"] = (DELIVERED + timedelta(minutes=10)).timestamp()
    tracking_hits_store([open_hit, first])
    tracking_events_classify()
    assert TrackingEvent.objects.get(url=urls[0]).verdict == "human"
    for offset, url in ((1, urls[1]), (2, urls[2])):
        hit = hit_build(
            kind="click", message_id=message.pk, method="GET", user_agent=CHROME, ip="", network="", url_id=url.pk
        )
        hit["t"] = (DELIVERED + timedelta(minutes=10, seconds=offset)).timestamp()
        hit_record(hit=hit)
    tracking_events_classify()
    verdicts = set(TrackingEvent.objects.filter(kind="click").values_list("verdict", "reason"))
    assert verdicts == {("scanner", "click_burst")}
    message.customer.refresh_from_db()
    # only the human open is left in the score
    assert message.customer.engagement_score == pytest.approx(settings.ENGAGEMENT_WEIGHT_OPEN, rel=1e-3)


def test_an_esp_open_without_user_agent_is_not_a_scanner_but_ours_is():
    assert judge(_open(3600, from_esp=True), _history(), RULES).verdict == "human"
    assert judge(_open(3600), _history(), RULES).verdict == "scanner"

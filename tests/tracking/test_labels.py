"""Every code the verdict rules and the unsubscribe paths write has words for staff."""

from __future__ import annotations

import re
from pathlib import Path

from customers.labels import consent_source_label
from tracking import verdicts
from tracking.labels import VERDICT_REASONS, esp_event_type_label, verdict_label

VERDICTS_SOURCE = Path(verdicts.__file__).read_text()


def test_every_reason_the_rules_can_give_has_words():
    reasons = set(re.findall(r'Judgement\((?:SCANNER|PROXY), "([a-z_]+)"', VERDICTS_SOURCE))
    reasons |= set(
        re.findall(
            r'reason = SCANNER, "([a-z_]+)"',
            Path(verdicts.__file__).with_name("services").joinpath("classification.py").read_text(),
        )
    )
    assert {"scanner_user_agent", "click_too_soon", "apple_network", "head_request"} <= reasons
    assert reasons <= set(VERDICT_REASONS), reasons - set(VERDICT_REASONS)


def test_verdicts_in_words():
    assert verdict_label(verdict="human") == "Human"
    assert (
        verdict_label(verdict="proxy", reason="apple_network", proxy_kind="apple_mpp") == "Privacy proxy (Apple Mail)"
    )
    assert verdict_label(verdict="proxy", reason="gmail_image_proxy", proxy_kind="gmail_proxy") == (
        "Privacy proxy (Gmail), counts as human"
    )
    assert verdict_label(verdict="proxy", proxy_kind="mimecast_bot") == "Privacy proxy (Mimecast bot)"
    assert verdict_label(verdict="scanner", reason="scanner_user_agent") == "Security scanner: known scanner user agent"
    assert verdict_label(verdict="pending") == "Not classified yet"


def test_unsubscribe_methods_and_provider_events_in_words():
    assert consent_source_label("one_click") == "One-click unsubscribe (the mail app's button)"
    assert consent_source_label("unsubscribe_link") == "Unsubscribe link in an email"
    assert consent_source_label("webhook:postmark") == "Email provider webhook (Postmark)"
    assert consent_source_label("esp_reject") == "Rejected by the email provider when sending"
    assert esp_event_type_label("deferred") == "Delivery delayed (soft bounce)"

"""Words for tracking's codes: verdict reasons, proxy kinds, unsubscribe methods, ESP event types.

One mapping, read by the tracking admin, the customer timeline and the consent-proof list, so a
marketer sees "Security scanner: known scanner user agent", never `scanner_user_agent`.
"""

from __future__ import annotations

from tracking import verdicts
from tracking.services.feedback import SOURCE_LINK, SOURCE_ONE_CLICK, SOURCE_RESUBSCRIBE

VERDICT_REASONS = {
    "head_request": "Security scanner: checked the link without opening it (HEAD request)",
    "honeypot": "Security scanner: followed the hidden trap link",
    "scanner_user_agent": "Security scanner: known scanner user agent",
    "esp_machine_click": "Security scanner: machine click reported by the email provider",
    "click_too_soon": "Security scanner: clicked within seconds of delivery",
    "click_burst": "Security scanner: several links clicked at once",
    "click_without_open": "Security scanner: clicked right after delivery, without an open",
    "gmail_image_proxy": "Gmail image proxy: fetched when the person opened",
    "yahoo_image_proxy": "Yahoo image proxy: fetched when the person opened",
    "esp_machine_open": "Machine open reported by the email provider",
    "apple_network": "Apple Mail Privacy Protection (Apple's network)",
    "generic_user_agent": "Apple Mail Privacy Protection (anonymous user agent)",
}

PROXY_KINDS = {
    "apple_mpp": "Apple Mail",
    "gmail_proxy": "Gmail",
    "yahoo_proxy": "Yahoo",
}

UNSUBSCRIBE_METHODS = {
    SOURCE_LINK: "Unsubscribe link in an email",
    SOURCE_ONE_CLICK: "One-click unsubscribe (the mail app's button)",
    SOURCE_RESUBSCRIBE: "Resubscribed from an email's link",
}

ESP_EVENT_TYPES = {
    "queued": "Queued at the email provider",
    "sent": "Sent by the email provider",
    "delivered": "Delivered",
    "deferred": "Delivery delayed (soft bounce)",
    "bounced": "Bounced",
    "rejected": "Rejected by the email provider",
    "failed": "Sending failed",
    "complained": "Marked as spam",
    "unsubscribed": "Unsubscribed at the email provider",
    "subscribed": "Resubscribed at the email provider",
    "opened": "Opened",
    "clicked": "Clicked",
    "autoresponded": "Automatic reply",
    "unknown": "Unknown event",
}

REJECT_REASONS = {
    "invalid": "Invalid address",
    "bounced": "Earlier bounce",
    "timed_out": "Timed out",
    "blocked": "Blocked",
    "spam": "Spam complaint",
    "unsubscribed": "Unsubscribed",
    "other": "Other",
}


def _words(code: str) -> str:
    return code.replace("_", " ").capitalize() if code else "—"


def proxy_kind_label(proxy_kind: str) -> str:
    if proxy_kind in PROXY_KINDS:
        return PROXY_KINDS[proxy_kind]
    if proxy_kind.endswith("_bot"):  # "<name>_bot", a machine the ESP named (Mailgun's client-info.bot)
        return f"{proxy_kind.removesuffix('_bot').capitalize()} bot"
    return _words(proxy_kind)


def verdict_reason_label(reason: str) -> str:
    return VERDICT_REASONS.get(reason, _words(reason))


def verdict_label(*, verdict: str, reason: str = "", proxy_kind: str = "") -> str:
    """The verdict of one open or click in words: "Human", "Privacy proxy (Apple Mail)", "Security scanner: …"."""
    if verdict == verdicts.HUMAN:
        return "Human"
    if verdict == verdicts.PROXY:
        label = f"Privacy proxy ({proxy_kind_label(proxy_kind)})" if proxy_kind else "Privacy proxy"
        return f"{label}, counts as human" if proxy_kind in ("gmail_proxy", "yahoo_proxy") else label
    if verdict == verdicts.SCANNER:
        return VERDICT_REASONS.get(reason, "Security scanner")
    return "Not classified yet"


def esp_event_type_label(event_type: str) -> str:
    return ESP_EVENT_TYPES.get(event_type, _words(event_type))


def reject_reason_label(reason: str) -> str:
    return REJECT_REASONS.get(reason, _words(reason)) if reason else "—"

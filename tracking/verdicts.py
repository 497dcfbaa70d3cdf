"""Tell people from machines: pure rules over one hit and what is known about its message.

Rules, in this order (thresholds are settings, see `Thresholds.from_settings`):

scanner   HEAD request · the hidden honeypot link
proxy     opens only: Gmail's GoogleImageProxy (counts as a human open: Gmail fetches when the
          person opens) · Yahoo's proxy (same) · Apple Mail Privacy Protection, recognised by
          an ESP flag (SendGrid sg_machine_open, Brevo proxy_open, Mailgun client-info.bot),
          Apple's network (TRACKING_APPLE_NETWORKS) or the bare "Mozilla/5.0" user agent it
          sends — not a human open.
scanner   a scanner/headless user agent (TRACKING_SCANNER_UA_MARKERS, ua-parser's "Spider"
          device, or no user agent at all on our own endpoints) · for clicks: an ESP machine
          flag · a click within TRACKING_SCANNER_CLICK_SECONDS of delivery (of sending when
          delivery is unknown) · TRACKING_BURST_LINKS distinct links clicked within
          TRACKING_BURST_SECONDS (the earlier clicks of the burst become scanner clicks too) ·
          a click when the message has no open at all, within TRACKING_CLICK_WITHOUT_OPEN_SECONDS
          of delivery (later clicks without an open are human: many people read with images off).
human     everything else.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from ua_parser import parse as ua_parse

HUMAN, PROXY, SCANNER = "human", "proxy", "scanner"
OPEN, CLICK = "open", "click"


@dataclass(frozen=True)
class Thresholds:
    scanner_click_seconds: int = 10
    burst_seconds: int = 5
    burst_links: int = 3
    click_without_open_seconds: int = 60
    scanner_markers: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            scanner_click_seconds=settings.TRACKING_SCANNER_CLICK_SECONDS,
            burst_seconds=settings.TRACKING_BURST_SECONDS,
            burst_links=settings.TRACKING_BURST_LINKS,
            click_without_open_seconds=settings.TRACKING_CLICK_WITHOUT_OPEN_SECONDS,
            scanner_markers=tuple(settings.TRACKING_SCANNER_UA_MARKERS),
        )


@dataclass(frozen=True)
class Hit:
    kind: str
    occurred_at: datetime
    method: str = "GET"
    user_agent: str = ""
    network: str = ""
    url_id: int | None = None
    is_honeypot: bool = False
    esp_flags: dict = field(default_factory=dict)
    from_esp: bool = False  # ESP webhooks often omit the user agent: a missing one proves nothing


@dataclass
class MessageHistory:
    """What is known about a message when a hit is judged; updated as hits are judged."""

    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    opens: list[datetime] = field(default_factory=list)
    clicks: list[tuple[datetime, int | None]] = field(default_factory=list)

    @property
    def reference_time(self) -> datetime | None:
        return self.delivered_at or self.sent_at


@dataclass(frozen=True)
class Judgement:
    verdict: str
    reason: str
    proxy_kind: str = ""
    counts_as_human: bool = False


def network_of(ip: str) -> str:
    """Tag the raw IP with a known proxy network before it is truncated or hashed."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    return "apple" if any(address in net for net in _apple_networks(tuple(settings.TRACKING_APPLE_NETWORKS))) else ""


@lru_cache(maxsize=4)
def _apple_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


@lru_cache(maxsize=4096)
def is_scanner_agent(user_agent: str, markers: tuple[str, ...]) -> bool:
    if not user_agent.strip():
        return True
    if any(marker and marker in user_agent for marker in markers):
        return True
    result = ua_parse(user_agent)
    return bool(result.device and result.device.family == "Spider")


def _open_proxy(hit: Hit) -> Judgement | None:
    ua = hit.user_agent
    if "GoogleImageProxy" in ua:
        return Judgement(PROXY, "gmail_image_proxy", "gmail_proxy", counts_as_human=True)
    if "YahooMailProxy" in ua:
        return Judgement(PROXY, "yahoo_image_proxy", "yahoo_proxy", counts_as_human=True)
    if hit.esp_flags.get("machine_open"):
        kind = hit.esp_flags.get("proxy_kind", "apple_mpp")
        return Judgement(PROXY, "esp_machine_open", kind, counts_as_human=kind == "gmail_proxy")
    if hit.network == "apple":
        return Judgement(PROXY, "apple_network", "apple_mpp")
    if ua.strip() == "Mozilla/5.0":
        return Judgement(PROXY, "generic_user_agent", "apple_mpp")
    return None


def _distinct_links_in_burst(hit: Hit, history: MessageHistory, window: timedelta) -> int:
    links = {url for at, url in history.clicks if abs(at - hit.occurred_at) <= window}
    links.add(hit.url_id)
    return len(links)


def judge(hit: Hit, history: MessageHistory, thresholds: Thresholds) -> Judgement:
    """The verdict for one hit. Does not modify `history`; see `judge_and_remember`."""
    if hit.method.upper() == "HEAD":
        return Judgement(SCANNER, "head_request")
    if hit.is_honeypot:
        return Judgement(SCANNER, "honeypot")
    if hit.kind == OPEN:
        proxy = _open_proxy(hit)
        if proxy:
            return proxy
    if (hit.user_agent or not hit.from_esp) and is_scanner_agent(hit.user_agent, thresholds.scanner_markers):
        return Judgement(SCANNER, "scanner_user_agent")
    if hit.kind == OPEN:
        return Judgement(HUMAN, "", counts_as_human=True)

    if hit.esp_flags.get("machine_click"):
        return Judgement(SCANNER, "esp_machine_click")
    reference = history.reference_time
    since_delivery = (hit.occurred_at - reference).total_seconds() if reference else None
    if since_delivery is not None and since_delivery < thresholds.scanner_click_seconds:
        return Judgement(SCANNER, "click_too_soon")
    window = timedelta(seconds=thresholds.burst_seconds)
    if _distinct_links_in_burst(hit, history, window) >= thresholds.burst_links:
        return Judgement(SCANNER, "click_burst")
    if not history.opens and since_delivery is not None and since_delivery < thresholds.click_without_open_seconds:
        return Judgement(SCANNER, "click_without_open")
    return Judgement(HUMAN, "", counts_as_human=True)


def judge_and_remember(hit: Hit, history: MessageHistory, thresholds: Thresholds) -> Judgement:
    judgement = judge(hit, history, thresholds)
    if hit.kind == OPEN:
        if judgement.verdict != SCANNER:
            history.opens.append(hit.occurred_at)
    elif not hit.is_honeypot:
        history.clicks.append((hit.occurred_at, hit.url_id))
    return judgement


def esp_flags_from_event(esp_event: object) -> dict:
    """Machine flags some ESPs put in their raw open/click event."""
    if not isinstance(esp_event, dict):
        return {}
    flags: dict = {}
    if esp_event.get("sg_machine_open") in (True, "true", 1):
        flags.update(machine_open=True, proxy_kind="apple_mpp")
    if str(esp_event.get("event", "")).lower() in {"proxy_open", "unique_proxy_open"}:
        flags.update(machine_open=True, proxy_kind="apple_mpp")
    # Mailgun puts it under event-data (its webhook body is {"signature": ..., "event-data": ...}).
    event_data = esp_event.get("event-data")
    client_info = (event_data if isinstance(event_data, dict) else esp_event).get("client-info")
    if isinstance(client_info, dict) and client_info.get("bot"):
        bot = str(client_info["bot"]).lower()
        if bot == "gmail":
            flags.update(machine_open=True, proxy_kind="gmail_proxy")
        elif bot == "apple":
            flags.update(machine_open=True, proxy_kind="apple_mpp")
        else:
            flags.update(machine_open=True, machine_click=True, proxy_kind=f"{bot}_bot"[:32])
    return flags

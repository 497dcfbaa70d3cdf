"""Smoke check of the running processes (see .ci/smoke_default.sh).

Creates a one-off campaign from a starter template, sends it through the running Celery
worker into the fake ESP, and checks: everyone mailed exactly once, the open pixel and the
one-click unsubscribe work against the running web server.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus, Step, Template  # noqa: E402
from campaigns.services.sending import campaign_send_now  # noqa: E402
from customers.models import Customer, EmailStatus  # noqa: E402

ESP = os.environ["POSTMARK_API_URL"].rstrip("/")
TIMEOUT = 180


def esp_get(path: str) -> object:
    with urllib.request.urlopen(f"{ESP}{path}", timeout=10) as response:  # noqa: S310
        return json.load(response)


def main() -> int:
    template = Template.objects.filter(is_valid=True, current_version__isnull=False).order_by("name").first()
    if template is None:
        print("no valid starter template was loaded")
        return 1
    campaign = Campaign.objects.create(name="Smoke one-off", kind=CampaignKind.ONE_OFF)
    Step.objects.create(campaign=campaign, position=1, template=template)
    planned = campaign_send_now(campaign=campaign, everyone=True)  # no segment: the whole demo list, confirmed
    print(f"planned {planned} messages with template {template.name!r}")
    if planned == 0:
        return 1

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        left = Message.objects.filter(campaign=campaign, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
        if not left.exists():
            break
        time.sleep(1)
    statuses = dict(
        (row["status"], row["n"])
        for row in Message.objects.filter(campaign=campaign).values("status").annotate(n=django.db.models.Count("id"))
    )
    print(f"message statuses: {statuses}")
    stats = esp_get("/_stats")
    counts = stats["recipients"]
    twice = {address: n for address, n in counts.items() if n > 1}
    sent = statuses.get(MessageStatus.SENT, 0)
    print(f"fake ESP accepted {stats['accepted']} messages for {len(counts)} recipients")
    if twice or sent != planned or len(counts) != planned:
        print(f"FAILED: sent={sent} planned={planned} recipients={len(counts)} mailed twice={len(twice)}")
        return 1

    messages = esp_get("/_messages")
    html = messages[0].get("HtmlBody", "")
    pixel = re.search(r'src="(http[^"]+/o/[^"]+\.gif)"', html)
    if not pixel:
        print("FAILED: no open pixel in the sent HTML")
        return 1
    with urllib.request.urlopen(pixel.group(1), timeout=10) as response:  # noqa: S310
        assert response.status == 200 and response.headers["Content-Type"] == "image/gif"
    print("open pixel answers from the running web server")

    unsubscribe = (messages[0].get("Headers") or {}).get("List-Unsubscribe", "")
    link = re.search(r"<(http[^>]+)>", unsubscribe)
    if not link:
        print("FAILED: no https List-Unsubscribe header")
        return 1
    request = urllib.request.Request(  # noqa: S310
        link.group(1),
        data=b"List-Unsubscribe=One-Click",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
    unsubscribed = Customer.objects.filter(email_status=EmailStatus.UNSUBSCRIBED, consent_changes__source="one_click")
    if not unsubscribed.exists():
        print("FAILED: one-click unsubscribe did not unsubscribe anyone")
        return 1
    print("one-click unsubscribe works against the running web server")
    print("smoke: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

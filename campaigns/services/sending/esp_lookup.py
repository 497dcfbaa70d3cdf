"""Ask the ESP whether it has a message: Postmark's outbound message search by metadata.

Every message carries metadata {"message_id": <our id>}, so after a crash we can ask
`GET /messages/outbound?metadata_message_id=<id>` instead of guessing. Only the Postmark
backend (and the fake ESP, which speaks the same API) can be asked; for other backends the
answer is always "cannot tell".
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from anymail.utils import get_anymail_setting
from django.conf import settings

POSTMARK_BACKEND = "anymail.backends.postmark.EmailBackend"


@dataclass(frozen=True)
class Lookup:
    known: bool  # False: the ESP could not be asked, or did not answer clearly
    found: bool = False
    esp_message_id: str = ""


CANNOT_TELL = Lookup(known=False)


def esp_lookup_available() -> bool:
    return bool(settings.SEND_RECONCILE_LOOKUP) and settings.EMAIL_BACKEND == POSTMARK_BACKEND


def esp_message_lookup(*, message_id: int, session: requests.Session | None = None) -> Lookup:
    if not esp_lookup_available():
        return CANNOT_TELL
    api_url = get_anymail_setting("api_url", esp_name="Postmark", default="https://api.postmarkapp.com/")
    token = get_anymail_setting("server_token", esp_name="Postmark", allow_bare=True)
    http = session or requests
    try:
        response = http.get(
            api_url.rstrip("/") + "/messages/outbound",
            params={"count": 1, "offset": 0, "metadata_message_id": str(message_id)},
            headers={"Accept": "application/json", "X-Postmark-Server-Token": token},
            timeout=10,
        )
        if response.status_code != 200:
            return CANNOT_TELL
        data = response.json()
        total = int(data["TotalCount"])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return CANNOT_TELL
    if total == 0:
        return Lookup(known=True, found=False)
    messages = data.get("Messages") or [{}]
    return Lookup(known=True, found=True, esp_message_id=str(messages[0].get("MessageID", "")))

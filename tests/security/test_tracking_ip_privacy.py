"""Tracking never stores a reader's full IP address: truncated, keyed-hashed or dropped per setting."""

from __future__ import annotations

import pytest

from tests.tracking.engagement_support import make_message
from tests.tracking.test_buffer import BROWSER, SITE, _tracked_paths
from tracking.models import TrackingEvent

pytestmark = pytest.mark.django_db

ADDRESSES = ["203.0.113.77", "2001:db8:85a3:8d3:1319:8a2e:370:7348"]


@pytest.mark.parametrize("mode", ["truncate", "hash", "none"])
def test_stored_ip_is_never_the_readers_address(client, settings, mode):
    settings.TRACKING_IP_MODE = mode
    settings.TRACKING_BUFFER = False
    settings.SITE_URL = SITE
    message = make_message()
    pixel, clicks = _tracked_paths(message.pk)
    for address in ADDRESSES:
        client.get(pixel, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=address)
        client.get(clicks[0], HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=address)
    stored = list(TrackingEvent.objects.values_list("ip", flat=True))
    assert len(stored) == 2 * len(ADDRESSES)
    for value in stored:
        assert value not in ADDRESSES
        assert "77" not in value.split(".")[-1:] and "7348" not in value
    expected = {"truncate": {"203.0.113.0", "2001:db8:85a3::"}, "none": {""}}
    if mode in expected:
        assert set(stored) == expected[mode]
    else:
        assert all(value.startswith("h:") for value in stored)

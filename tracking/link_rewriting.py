"""Rewrites links in outgoing HTML to signed click-tracking URLs and adds the open pixel.

Interface used by campaigns/rendering.py: `html_add_tracking(html, message_id=...)`.
The tracking feature owns the implementation.
"""

from __future__ import annotations


def html_add_tracking(html: str, *, message_id: int) -> str:
    raise NotImplementedError("implemented by the tracking feature")

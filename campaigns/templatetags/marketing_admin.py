"""Small display filters for the marketing admin pages."""

from __future__ import annotations

from datetime import timedelta

from django import template

from campaigns.selectors.campaign_page import duration_words

register = template.Library()


@register.filter
def pct(value: float | None, decimals: int = 1) -> str:
    """0.0123 -> '1.2%'; None -> '—'."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(decimals)}f}%"


@register.filter
def duration(value: timedelta | None) -> str:
    """timedelta(hours=4) -> '4 hours'."""
    return duration_words(value) if value is not None else "—"


@register.filter
def seconds_words(value: int | None) -> str:
    if value is None:
        return "—"
    minutes, seconds = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {seconds}s" if minutes else f"{seconds}s"

"""Link targets for the click redirect, cached per process (rows never change)."""

from __future__ import annotations

from tracking.models import TrackedUrl

_CACHE_MAX = 20_000
_targets: dict[int, str] = {}


def tracked_url_target(*, url_id: int) -> str | None:
    """The stored http(s) target of a tracked link, or None."""
    target = _targets.get(url_id)
    if target is not None:
        return target
    target = TrackedUrl.objects.filter(pk=url_id).values_list("url", flat=True).first()
    if target is None or not target.lower().startswith(("http://", "https://")):
        return None
    if len(_targets) >= _CACHE_MAX:
        _targets.clear()
    _targets[url_id] = target
    return target


def tracked_url_targets_clear() -> None:
    _targets.clear()

"""Strict parsing of settings from the environment.

Every variable the project reads goes through these helpers so that a typo in a
value fails loudly at start-up instead of silently falling back to a default.
A variable that is unset or set to an empty string takes its default. A bad value
raises `EnvError` (an `ImproperlyConfigured`) whose message names the variable, the
value and what it accepts; `manage.py` and the Celery app print it without a traceback.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvError(ImproperlyConfigured, ValueError):
    """An environment variable holds a value the project refuses to start with."""


def _raw(name: str) -> str | None:
    """The stripped value, or None when the variable is unset or empty."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    return raw.strip()


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name} must be true or false (also 1/0, yes/no, on/off), not {raw!r}")


def _bounds(name: str, value: float, minimum: float | None, maximum: float | None, above: float | None) -> None:
    if above is not None and value <= above:
        raise EnvError(f"{name} must be greater than {above:g}, not {value:g}")
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise EnvError(f"{name} must be between {minimum:g} and {maximum:g}, not {value:g}")
    if minimum is not None and value < minimum:
        raise EnvError(f"{name} must be at least {minimum:g}, not {value:g}")
    if maximum is not None and value > maximum:
        raise EnvError(f"{name} must be at most {maximum:g}, not {value:g}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number within [minimum, maximum] (either bound optional, both inclusive)."""
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise EnvError(f"{name} must be a whole number, not {raw!r}") from exc
    _bounds(name, value, minimum, maximum, None)
    return value


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> float:
    """A finite number within [minimum, maximum]; `above` is a strict lower bound (e.g. 0 for durations)."""
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise EnvError(f"{name} must be a number, not {raw!r}") from exc
    if not math.isfinite(value):
        raise EnvError(f"{name} must be a finite number, not {raw!r}")
    _bounds(name, value, minimum, maximum, above)
    return value


def env_percent(name: str, default: int) -> int:
    """A whole percentage, 0 to 100."""
    return env_int(name, default, minimum=0, maximum=100)


def env_choice(name: str, default: str, choices: Collection[str], *, case_sensitive: bool = False) -> str:
    """One of `choices`. Unless case_sensitive, matched ignoring case and returned as spelled in choices."""
    raw = _raw(name)
    if raw is None:
        return default
    for choice in choices:
        if raw == choice or (not case_sensitive and raw.lower() == choice.lower()):
            return choice
    allowed = ", ".join(choices)
    raise EnvError(f"{name} must be one of {allowed}; {raw!r} is not")


def env_url(name: str, default: str, *, schemes: Collection[str] = ("http", "https")) -> str:
    """A URL with one of `schemes` and a host (trailing slashes are kept as given)."""
    raw = _raw(name)
    if raw is None:
        return default
    parts = urlsplit(raw)
    allowed = " or ".join(f"{scheme}://" for scheme in schemes)
    if parts.scheme.lower() not in schemes:
        raise EnvError(f"{name} must be a URL starting with {allowed}, not {raw!r}")
    if not parts.netloc and parts.scheme.lower() != "unix":
        raise EnvError(f"{name} must name a host after {parts.scheme}://, not {raw!r}")
    return raw


def env_list(name: str, default: list[str] | None = None, *, check: Callable[[str], object] | None = None) -> list[str]:
    """Comma-separated items; `check` (e.g. ipaddress.ip_network) raises ValueError on a bad item."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    items = [item.strip() for item in raw.split(",") if item.strip()]
    for item in items if check else ():
        try:
            check(item)
        except ValueError as exc:
            raise EnvError(f"{name}: {item!r} is not valid ({exc})") from exc
    return items


def env_currency(name: str, default: str) -> str:
    """An ISO 4217 currency code such as EUR; lower case is accepted, an unknown code is not."""
    from babel.numbers import list_currencies

    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    code = raw.strip().upper()
    if len(code) != 3 or code not in list_currencies():
        raise EnvError(f"{name} must be an ISO 4217 currency code such as EUR or USD, not {raw!r}")
    return code

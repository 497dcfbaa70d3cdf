"""Strict parsing of settings from the environment.

Every variable the project reads goes through these helpers so that a typo in a
value fails loudly at start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import os

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    """Raised when an environment variable holds a value we cannot parse."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise EnvError(f"{name} must be an integer, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise EnvError(f"{name} must be a number, not {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


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


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """One of `choices` (case-insensitive); anything else stops start-up with the valid values."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise EnvError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return value

"""Signed, opaque tokens for every public URL (unsubscribe, open, click).

A token names a message (and for clicks a link) and is signed with SECRET_KEY
under a purpose-specific salt, so a token for one purpose is useless for
another and any tampering is detected. No email address is ever in a token.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core import signing

_SALT = "remarketing.tracking.{purpose}"


def make_token(purpose: str, *values: int) -> str:
    """Sign a short tuple of integers (message id, link index…) for `purpose`.

    Tokens carry no timestamp, so the same values always give the same token: a message's
    unsubscribe token, needed for its body link and both List-Unsubscribe headers, is signed once.
    """
    return _signed(purpose, values, settings.SECRET_KEY)


@lru_cache(maxsize=4096)
def _signed(purpose: str, values: tuple[int, ...], _secret: str) -> str:  # the key is part of the cache key
    signer = signing.Signer(salt=_SALT.format(purpose=purpose), algorithm="sha256")
    return signer.sign_object(list(values), compress=False)


def read_token(purpose: str, token: str, *, arity: int) -> tuple[int, ...] | None:
    """Return the signed integers, or None for anything forged, truncated or of another purpose."""
    if not token or len(token) > 512:
        return None
    signer = signing.Signer(salt=_SALT.format(purpose=purpose), algorithm="sha256")
    try:
        values = signer.unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != arity:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return None
    return tuple(values)

"""API keys for the event API: random secrets of which only a SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from customers.models import ApiKey

KEY_PREFIX = "rk_"
# last_used_at is written at most this often per key, so a busy key costs no extra writes.
TOUCH_INTERVAL = timedelta(minutes=1)


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(*, api_key: ApiKey, created_by: AbstractBaseUser | None = None) -> str:
    """Give an unsaved ApiKey (with its name set) a fresh secret, save it and return the secret.

    The secret is returned once and never stored: only its hash and public prefix are kept.
    """
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    api_key.prefix = prefix
    api_key.key_hash = api_key_hash(secret)
    if created_by is not None and created_by.is_authenticated:
        api_key.created_by = created_by
    api_key.save()
    return secret


def api_key_create(*, name: str, created_by: AbstractBaseUser | None = None) -> tuple[ApiKey, str]:
    api_key = ApiKey(name=name)
    secret = api_key_issue(api_key=api_key, created_by=created_by)
    return api_key, secret


def api_key_revoke(*, api_keys: list[ApiKey] | None = None, pks: list[int] | None = None) -> int:
    """Revoke keys (already revoked ones keep their original revocation time). Returns how many changed."""
    ids = [key.pk for key in api_keys or []] + list(pks or [])
    return ApiKey.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_authenticate(*, secret: str) -> ApiKey | None:
    """The active key for this secret, or None. Records the use at most once a minute."""
    if not secret or len(secret) > 200:
        return None
    api_key = ApiKey.objects.filter(key_hash=api_key_hash(secret), revoked_at__isnull=True).first()
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= TOUCH_INTERVAL:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_INTERVAL)
        ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key

"""System checks that catch a bad configuration at start-up (``check``, ``migrate``,
``runserver``, and the web process's first request) instead of at the first use."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from .fields import _fernet


@register()
def field_encryption_key_check(app_configs, **kwargs) -> list[Error]:
    """``FIELD_ENCRYPTION_KEY`` must be one or more comma-separated Fernet keys."""
    keys = getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""
    if not keys.strip():
        return [
            Error(
                "FIELD_ENCRYPTION_KEY is empty.",
                hint="Set it to a Fernet key (see README, Configuration).",
                id="core.E001",
            )
        ]
    try:
        _fernet(keys)
    except ImproperlyConfigured:
        bad = [
            str(position)
            for position, key in enumerate(keys.split(","), start=1)
            if key.strip() and not _valid_key(key.strip())
        ]
        return [
            Error(
                "FIELD_ENCRYPTION_KEY is not a valid Fernet key "
                f"(key {', '.join(bad) or '?'} of {len(keys.split(','))}): each must be 32 "
                "url-safe base64-encoded bytes.",
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="core.E001",
            )
        ]
    return []


def _valid_key(key: str) -> bool:
    try:
        _fernet(key)
    except ImproperlyConfigured:
        return False
    return True

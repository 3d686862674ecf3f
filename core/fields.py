"""A JSON field encrypted at rest with Fernet (``FIELD_ENCRYPTION_KEY``)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k.strip()])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from exc


def encrypt(value: Any) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(json.dumps(value).encode()).decode()


def decrypt(token: str) -> Any:
    try:
        return json.loads(_fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "Stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY "
            "(was the key changed without keeping the old one after it?)"
        ) from exc


class EncryptedJSONField(models.TextField):
    """Stores any JSON value as a Fernet token. Not searchable, never shown back."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return decrypt(value)

    def to_python(self, value):
        if isinstance(value, str) and value:
            try:
                return decrypt(value)
            except ImproperlyConfigured:
                return json.loads(value)
        return value if value is not None else {}

    def get_prep_value(self, value):
        if value is None:
            value = {}
        return encrypt(value)

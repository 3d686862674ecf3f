"""What an erasure leaves behind so it stays erased: keyed hashes, never the values.

After a GDPR erase the networks still serve the person's posts; every write path asks
``Tombstone.matching`` before it stores an author, a handle, an email or an item, and
drops what matches (sync, backfill, webhooks and listening in ``crm.ingest``, the CSV
import in ``contacts.services.imports``). A row holds only HMAC-SHA256(key, kind + network + value), the key derived from
``SECRET_KEY`` (and each of ``SECRET_KEY_FALLBACKS`` when matching, so rotating the key
the Django way keeps tombstones working): without the key nobody can tell whose they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import batched

from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

_SALT = "momento.contacts.tombstone"


class Tombstone(models.Model):
    class Kind(models.TextChoices):
        AUTHOR = "author", _("network user id")
        HANDLE = "handle", _("handle")
        ITEM = "item", _("network item id")
        EMAIL = "email", _("email")

    digest = models.CharField(_("keyed hash"), max_length=64, primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("erasure tombstone")
        verbose_name_plural = _("erasure tombstones")

    def __str__(self) -> str:
        return self.digest[:12]

    @staticmethod
    def digest_of(kind: str, network: str, value: str, *, secret: str | None = None) -> str:
        """The keyed hash of one value (handles compare case-insensitively)."""
        if kind in (Tombstone.Kind.HANDLE, Tombstone.Kind.EMAIL):
            value = value.strip().lstrip("@").lower()
        message = f"{kind}\x00{network}\x00{value}"
        return salted_hmac(
            _SALT, message, secret=secret or settings.SECRET_KEY, algorithm="sha256"
        ).hexdigest()

    @classmethod
    def record(cls, kind: str, network: str, values: Iterable[str]) -> int:
        """Keep tombstones for ``values``; returns how many were new."""
        rows = [cls(digest=cls.digest_of(kind, network, v)) for v in set(values) if v]
        return len(cls.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000))

    @classmethod
    def matching(cls, network: str, values: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
        """Of ``values`` (kind → values), those that were erased, by kind. One query
        (per 900 hashes) whatever their number and kinds."""
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        by_digest = {
            cls.digest_of(kind, network, value, secret=secret): (kind, value)
            for kind, some in values.items()
            for value in set(some)
            if value
            for secret in secrets
        }
        erased: dict[str, set[str]] = {kind: set() for kind in values}
        for chunk in batched(by_digest, 900):
            for digest in cls.objects.filter(digest__in=chunk).values_list("digest", flat=True):
                kind, value = by_digest[digest]
                erased[kind].add(value)
        return erased

"""Fixtures shared by the network adapter tests."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.models import SyncStream


def stream_row(account, name: str) -> SyncStream:
    return SyncStream.objects.get(account=account, name=name)


def time_passes(account) -> None:
    """The streams' retry times have come (a test's stand-in for waiting)."""
    SyncStream.objects.filter(account=account).update(retry_at=None)


@pytest.fixture
def answer(django_capture_on_commit_callbacks):
    """Answer from the inbox's form, and run what it queued after commit (the send)."""

    def post(client, user, entry, text, *, private: bool):
        with django_capture_on_commit_callbacks(execute=True):
            return _post_answer(client, user, entry, text, private=private)

    return post


def _post_answer(client, user, entry, text, *, private: bool):
    client.force_login(user)
    return client.post(
        reverse("crm:answer", args=[entry.pk]),
        {
            f"answer{entry.pk}-text": text,
            f"answer{entry.pk}-private": "1" if private else "0",
            f"answer{entry.pk}-idempotency_key": f"k-{len(text)}-{text[:20]}",
        },
    )

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


def held_against_stored(account, held: dict) -> dict:
    """What a fake holds (external id → the time the network gives it) against what
    Momento stored for ``account``: how many are missing, how many stored twice, how many
    stored that the fake does not hold, and whether the timeline (its order: time, then
    arrival) lists them in the network's order with the network's times."""
    from collections import Counter

    from contacts.models import TimelineEntry

    rows = list(
        TimelineEntry.objects.filter(account=account)
        .exclude(external_id="")
        .order_by("occurred_at", "id")
        .values_list("external_id", "occurred_at")
    )
    counts = Counter(eid for eid, _ in rows)
    network_order = sorted(held, key=lambda eid: (held[eid], eid))
    stored_order = [eid for eid, _ in rows]
    return {
        "missing": len(set(held) - set(counts)),
        "duplicated": sum(n - 1 for n in counts.values()),
        "unknown": len(set(counts) - set(held)),
        "in_order": stored_order == network_order and all(when == held[eid] for eid, when in rows),
    }


def crash_once_in_page_commit(monkeypatch, *, after: int) -> list[str]:
    """The sync crashes (an exception inside a page's transaction, after its items were
    written) on the ``after``-th page committed from now; the list it returns says when it
    did."""
    from crm import sync

    real = sync._renew
    seen: list[str] = []

    def renew(*args, **kwargs):
        seen.append("page")
        if len(seen) == after:
            seen.append("crashed")
            raise RuntimeError("the worker died mid-page")
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "_renew", renew)
    return seen

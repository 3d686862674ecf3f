"""The data migration: each account's cursors become its streams' rows (and back)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.models import SyncStream

BEFORE = [("crm", "0006_syncstream")]
AFTER = [("crm", "0007_syncstream_from_account_cursors")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_account_cursors_become_stream_rows():
    apps = _migrate(BEFORE)
    account_model = apps.get_model("crm", "SocialAccount")
    synced = account_model.objects.create(
        network="mastodon",
        handle="brand",
        cursors={"notifications": "4242", "dms": "77", "empty": ""},
    )
    never = account_model.objects.create(network="bluesky", handle="new.test", cursors={})
    try:
        _migrate(AFTER)
        rows = {
            s.name: (s.cursor, s.status, s.walking)
            for s in SyncStream.objects.filter(account_id=synced.pk)
        }
        assert rows == {"notifications": ("4242", "ok", False), "dms": ("77", "ok", False)}
        # An account that never synced gets no row: its first poll reads the history.
        assert not SyncStream.objects.filter(account_id=never.pk).exists()

        # And back: the rows become the account's cursors again.
        apps = _migrate(BEFORE)
        back = apps.get_model("crm", "SocialAccount").objects.get(pk=synced.pk)
        assert back.cursors == {"notifications": "4242", "dms": "77"}
    finally:
        _migrate(_latest())


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()

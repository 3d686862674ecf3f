"""The state-only moves of TimelineEntry (crm → contacts) and Notification (crm → core)
keep every row, the content types (so permissions and generic references) and the
tables; and the models match the migrations."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("contacts", "0005_contact_never_interacted_index"),
    ("crm", "0004_sync_failures_leases_and_backfill_progress"),
    ("support", "0002_default_team_policies_canned"),
    ("campaigns", "0001_campaigns_listening_links_posts_attribution"),
    ("core", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_moving_the_timeline_keeps_rows_content_types_and_permissions():
    old = _migrate(BEFORE)
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    timeline_type, _ = ContentType.objects.get_or_create(app_label="crm", model="timelineentry")
    notification_type, _ = ContentType.objects.get_or_create(app_label="crm", model="notification")
    perm = Permission.objects.create(
        content_type=timeline_type, codename="view_timelineentry_probe", name="probe"
    )
    Contact = old.get_model("contacts", "Contact")
    Entry = old.get_model("crm", "TimelineEntry")
    contact = Contact.objects.create(display_name="Lucía")
    entry = Entry.objects.create(contact=contact, kind="note", direction="internal", text="hola")

    new = _migrate(executor_leaf_nodes())
    ContentType = new.get_model("contenttypes", "ContentType")
    assert ContentType.objects.get(pk=timeline_type.pk).app_label == "contacts"
    assert ContentType.objects.get(pk=notification_type.pk).app_label == "core"
    assert not ContentType.objects.filter(app_label="crm", model="timelineentry").exists()
    moved = new.get_model("contacts", "TimelineEntry").objects.get(pk=entry.pk)
    assert moved.text == "hola" and moved.contact_id == contact.pk
    assert new.get_model("auth", "Permission").objects.get(pk=perm.pk).content_type_id == (
        timeline_type.pk
    )
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "crm_timelineentry" in tables and "crm_notification" in tables


def executor_leaf_nodes():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db
def test_models_match_their_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)

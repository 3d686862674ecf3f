"""Each account's cursors become its streams' rows; the account keeps no cursor."""

from django.db import migrations


def cursors_to_streams(apps, schema_editor):
    SocialAccount = apps.get_model("crm", "SocialAccount")
    SyncStream = apps.get_model("crm", "SyncStream")
    rows = []
    for account in SocialAccount.objects.exclude(cursors={}).only("pk", "cursors").iterator():
        for name, cursor in (account.cursors or {}).items():
            if cursor in (None, ""):
                continue
            rows.append(
                SyncStream(
                    account_id=account.pk,
                    name=str(name)[:32],
                    cursor=str(cursor),
                    status="ok",
                    last_synced_at=account.last_synced_at,
                )
            )
    SyncStream.objects.bulk_create(rows, ignore_conflicts=True)


def streams_to_cursors(apps, schema_editor):
    SocialAccount = apps.get_model("crm", "SocialAccount")
    SyncStream = apps.get_model("crm", "SyncStream")
    cursors: dict[int, dict] = {}
    for stream in SyncStream.objects.exclude(cursor="").iterator():
        cursors.setdefault(stream.account_id, {})[stream.name] = stream.cursor
    for account_id, values in cursors.items():
        SocialAccount.objects.filter(pk=account_id).update(cursors=values)


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_syncstream")]

    operations = [
        migrations.RunPython(cursors_to_streams, streams_to_cursors),
        migrations.RemoveField(model_name="socialaccount", name="cursors"),
        migrations.RemoveField(model_name="socialaccount", name="backfill_cursors"),
    ]

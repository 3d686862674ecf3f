"""TimelineEntry (now in contacts) and Notification (now in core) leave crm's state; their
tables and rows are untouched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_notification_moved_from_crm'),
        ('campaigns', '0002_timelineentry_moved_to_contacts'),
        ('contacts', '0006_timelineentry_moved_from_crm'),
        ('crm', '0004_sync_failures_leases_and_backfill_progress'),
        ('support', '0003_timelineentry_moved_to_contacts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of which app owns the
            # model changes.
            state_operations=[
                migrations.AlterField(
                    model_name='outboundmessage',
                    name='in_reply_to',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='answers', to='contacts.timelineentry', verbose_name='in reply to'),
                ),
                migrations.AlterField(
                    model_name='outboundmessage',
                    name='entry',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='outbound', to='contacts.timelineentry'),
                ),
                migrations.DeleteModel(name='Notification'),
                migrations.DeleteModel(name='TimelineEntry'),
            ],
            database_operations=[],
        ),
    ]

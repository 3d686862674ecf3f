"""Ticket links now point at contacts.TimelineEntry (state only; same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0006_timelineentry_moved_from_crm'),
        ('support', '0002_default_team_policies_canned'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of which app owns the
            # model changes.
            state_operations=[
                migrations.AlterField(
                    model_name='ticket',
                    name='interactions',
                    field=models.ManyToManyField(blank=True, related_name='tickets', through='support.TicketLink', to='contacts.timelineentry'),
                ),
                migrations.AlterField(
                    model_name='ticketlink',
                    name='entry',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='ticket_link', to='contacts.timelineentry'),
                ),
            ],
            database_operations=[],
        ),
    ]

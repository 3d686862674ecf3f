"""Campaign matches now point at contacts.TimelineEntry (state only; same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0001_campaigns_listening_links_posts_attribution'),
        ('contacts', '0006_timelineentry_moved_from_crm'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of which app owns the
            # model changes.
            state_operations=[
                migrations.AlterField(
                    model_name='campaignmatch',
                    name='entry',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='campaign_matches', to='contacts.timelineentry'),
                ),
            ],
            database_operations=[],
        ),
    ]

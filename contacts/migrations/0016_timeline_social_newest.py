"""The interactions API's order (social entries, newest first) as an index: a page at
any depth is one index scan instead of a sort of every social entry."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0015_timeline_waiting_pairs"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="timelineentry",
            index=models.Index(
                condition=models.Q(
                    (
                        "kind__in",
                        ["dm", "follow", "like", "mention", "post", "quote", "reply", "repost"],
                    )
                ),
                fields=["-occurred_at", "-id"],
                name="timeline_social_newest",
            ),
        ),
    ]

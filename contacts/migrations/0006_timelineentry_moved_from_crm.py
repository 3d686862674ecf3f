"""TimelineEntry moves from crm to contacts, beside the people it belongs to (state only: its
table keeps the name crm_timelineentry)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _content_type_app(apps, model, old, new):
    """Keep the model's content type (and so its permissions and any generic
    references to its rows) when it moves between apps."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model=model).exists():
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    _content_type_app(apps, "timelineentry", "crm", "contacts")


def backwards(apps, schema_editor):
    _content_type_app(apps, "timelineentry", "contacts", "crm")


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0005_contact_never_interacted_index'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('crm', '0004_sync_failures_leases_and_backfill_progress'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of which app owns the
            # model changes.
            state_operations=[
                migrations.CreateModel(
                    name='TimelineEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('mention', 'Mention'), ('reply', 'Reply'), ('quote', 'Quote'), ('follow', 'Follow'), ('like', 'Like'), ('repost', 'Repost'), ('dm', 'Direct message'), ('post', 'Post'), ('note', 'Note'), ('stage_change', 'Stage change'), ('purchase', 'Purchase'), ('ticket', 'Ticket'), ('csat', 'Satisfaction rating'), ('task', 'Task')], max_length=20, verbose_name='kind')),
                        ('network', models.CharField(blank=True, choices=[('bluesky', 'Bluesky'), ('mastodon', 'Mastodon'), ('x', 'X')], max_length=16, verbose_name='network')),
                        ('external_id', models.CharField(blank=True, max_length=512, verbose_name='network item id')),
                        ('text', models.TextField(blank=True, verbose_name='text')),
                        ('url', models.URLField(blank=True, max_length=1000, verbose_name='URL')),
                        ('direction', models.CharField(choices=[('in', 'Inbound'), ('out', 'Outbound'), ('internal', 'Internal')], max_length=10, verbose_name='direction')),
                        ('in_reply_to', models.CharField(blank=True, max_length=512, verbose_name='in reply to')),
                        ('thread_id', models.CharField(blank=True, max_length=512, verbose_name='thread')),
                        ('occurred_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='occurred at')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('raw', models.JSONField(blank=True, default=dict, verbose_name='raw payload')),
                        ('handled_at', models.DateTimeField(blank=True, null=True, verbose_name='handled at')),
                        ('language', models.CharField(blank=True, max_length=8, verbose_name='language')),
                        ('intent', models.CharField(blank=True, choices=[('complaint', 'Complaint'), ('question', 'Question'), ('praise', 'Praise'), ('other', 'Other')], max_length=16, verbose_name='intent')),
                        ('sentiment', models.CharField(blank=True, choices=[('positive', 'Positive'), ('neutral', 'Neutral'), ('negative', 'Negative')], max_length=16, verbose_name='sentiment')),
                        ('sentiment_score', models.FloatField(blank=True, null=True, verbose_name='sentiment score')),
                        ('like_count', models.PositiveIntegerField(default=0)),
                        ('repost_count', models.PositiveIntegerField(default=0)),
                        ('reply_count', models.PositiveIntegerField(default=0)),
                        ('object_id', models.PositiveBigIntegerField(blank=True, null=True)),
                        ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='entries', to='crm.socialaccount', verbose_name='through account')),
                        ('assigned_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_entries', to=settings.AUTH_USER_MODEL, verbose_name='assigned to')),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='timeline', to='contacts.contact', verbose_name='contact')),
                        ('content_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contenttypes.contenttype')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                        ('handled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('identity', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='entries', to='contacts.socialidentity', verbose_name='identity')),
                    ],
                    options={
                        'verbose_name': 'timeline entry',
                        'verbose_name_plural': 'timeline entries',
                        'db_table': 'crm_timelineentry',
                        'indexes': [models.Index(fields=['contact', '-occurred_at', '-id'], name='timeline_contact_newest'), models.Index(condition=models.Q(('direction', 'in'), ('handled_at__isnull', True)), fields=['-occurred_at', '-id'], name='timeline_inbox_unhandled'), models.Index(fields=['content_type', 'object_id'], name='timeline_subject'), models.Index(fields=['account', '-occurred_at'], name='timeline_account_newest')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('external_id', ''), _negated=True), fields=('network', 'external_id'), name='timeline_unique_network_item')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]

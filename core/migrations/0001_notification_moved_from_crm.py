"""Notification moves from crm to core (state only: its table keeps the name crm_notification)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _content_type_app(apps, model, old, new):
    """Keep the model's content type (and so its permissions and any generic
    references to its rows) when it moves between apps."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model=model).exists():
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    _content_type_app(apps, "notification", "crm", "core")


def backwards(apps, schema_editor):
    _content_type_app(apps, "notification", "core", "crm")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('crm', '0004_sync_failures_leases_and_backfill_progress'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of which app owns the
            # model changes.
            state_operations=[
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=300, verbose_name='title')),
                        ('body', models.TextField(blank=True, verbose_name='body')),
                        ('url', models.CharField(blank=True, max_length=500, verbose_name='link')),
                        ('dedupe_key', models.CharField(blank=True, max_length=200)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'notification',
                        'verbose_name_plural': 'notifications',
                        'db_table': 'crm_notification',
                        'indexes': [models.Index(fields=['user', 'read_at', '-created_at'], name='notification_inbox')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('dedupe_key', ''), _negated=True), fields=('user', 'dedupe_key'), name='notification_once')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]

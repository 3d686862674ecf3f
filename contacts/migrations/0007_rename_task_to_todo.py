"""The to-do model ``Task`` becomes ``Todo`` so it is never read as a Celery task.

Its table, indexes and reverse names follow; rows keep their ids. Staff permissions
keep working: ``add_task`` … ``view_task`` are renamed ``add_todo`` … ``view_todo``
(Django renames the content type itself but not the permissions' codenames). The
timeline keeps the stored kind "task", so no timeline row changes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACTIONS = ("add", "change", "delete", "view")


def _permissions_rename(apps, old: str, new: str) -> None:
    Permission = apps.get_model("auth", "Permission")
    mine = Permission.objects.filter(content_type__app_label="contacts")
    for action in ACTIONS:
        if not mine.filter(codename=f"{action}_{new}").exists():
            mine.filter(codename=f"{action}_{old}").update(codename=f"{action}_{new}")


def permissions_to_todo(apps, schema_editor):
    _permissions_rename(apps, "task", "todo")


def permissions_to_task(apps, schema_editor):
    _permissions_rename(apps, "todo", "task")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0006_timelineentry_moved_from_crm"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(old_name="Task", new_name="Todo"),
        migrations.AlterField(
            model_name="todo",
            name="contact",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="todos",
                to="contacts.contact",
                verbose_name="contact",
            ),
        ),
        migrations.AlterField(
            model_name="todo",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="contact_todos",
                to=settings.AUTH_USER_MODEL,
                verbose_name="assignee",
            ),
        ),
        migrations.RenameIndex(model_name="todo", new_name="todo_mine", old_name="task_mine"),
        migrations.RenameIndex(
            model_name="todo", new_name="todo_contact", old_name="task_contact"
        ),
        migrations.RenameIndex(
            model_name="todo", new_name="todo_reminder_due", old_name="task_reminder_due"
        ),
        migrations.RunPython(permissions_to_todo, permissions_to_task),
    ]

"""The contacts app's Celery tasks keep their registered names: beat rows and messages
in flight name a task by it, whatever its Python name."""

from django.conf import settings

from config.celery import app
from contacts.tasks import (
    contact_import_run,
    contacts_score_refresh_all,
    contacts_score_refresh_task,
    todo_reminders_send_task,
)


def test_registered_names_are_stable():
    assert {
        task.name
        for task in (
            contact_import_run,
            contacts_score_refresh_all,
            contacts_score_refresh_task,
            todo_reminders_send_task,
        )
    } == {
        "contacts.tasks.contact_import_run",
        "contacts.tasks.contacts_score_refresh_all",
        "contacts.tasks.contacts_score_refresh",
        "contacts.tasks.task_reminders_send",
    }
    beat = {job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()}
    contacts_jobs = {name for name in beat if name.startswith("contacts.")}
    assert contacts_jobs == {
        "contacts.tasks.task_reminders_send",
        "contacts.tasks.contacts_score_refresh_all",
    }
    assert contacts_jobs <= set(app.tasks)

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from contacts.models import TimelineEntry, Todo
from contacts.tasks import todo_reminders_send_task
from core.models import Notification
from tests.conftest import api_as
from tests.factories import ContactFactory, TodoFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_reminder_beat_job_is_scheduled():
    job = settings.CELERY_BEAT_SCHEDULE["contacts-task-reminders"]
    assert job["task"] == "contacts.tasks.task_reminders_send"
    assert job["schedule"] <= 300


def test_a_due_task_notifies_its_assignee_once(sales):
    now = timezone.now()
    due = TodoFactory(assignee=sales, title="Call Lucía", due_at=now - timedelta(minutes=1))
    TodoFactory(assignee=sales, due_at=now + timedelta(hours=1))  # not yet
    TodoFactory(assignee=sales, due_at=now - timedelta(hours=1), done_at=now)  # done
    TodoFactory(assignee=None, due_at=now - timedelta(hours=1))  # nobody to tell

    assert todo_reminders_send_task() == 1
    note = Notification.objects.get()
    assert (note.user, note.title, note.dedupe_key) == (
        sales,
        "Task due: Call Lucía",
        f"task-due:{due.pk}",
    )
    assert note.url == f"/contacts/{due.contact_id}/#tasks"
    assert todo_reminders_send_task() == 0
    # Even if the task's mark were lost, the dedupe key keeps it to one notification.
    Todo.objects.filter(pk=due.pk).update(reminded_at=None)
    todo_reminders_send_task()
    assert Notification.objects.count() == 1

    with time_machine.travel(now + timedelta(hours=2)):
        assert todo_reminders_send_task() == 1
    assert Notification.objects.count() == 2


def test_tasks_from_the_contact_page_and_my_tasks(client, sales, django_assert_max_num_queries):
    client.force_login(sales)
    contact = ContactFactory(display_name="Lucía")
    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/contacts/{contact.pk}/tasks/", {"title": "Send the <offer>", "due_at": due}, follow=True
    )
    assert b"Task added." in response.content
    todo = Todo.objects.get()
    assert (todo.assignee, todo.created_by) == (sales, sales)
    entry = TimelineEntry.objects.get(kind="task")
    assert entry.subject == todo and entry.text == "Send the <offer>"

    other = UserFactory(username="bruno", role="Sales")
    TodoFactory(assignee=other, title="Not mine")
    page = client.get("/contacts/tasks/").content.decode()
    assert "Send the &lt;offer&gt;" in page and "Not mine" not in page

    TodoFactory.create_batch(5, assignee=sales)
    with django_assert_max_num_queries(8) as few:
        client.get("/contacts/tasks/")
    TodoFactory.create_batch(150, assignee=sales)
    with django_assert_max_num_queries(8) as many:
        client.get("/contacts/tasks/")
    assert len(few.captured_queries) == len(many.captured_queries)

    fragment = client.post(
        f"/contacts/tasks/{todo.pk}/done/", {"done": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and 'class="task done"' in fragment
    todo.refresh_from_db()
    assert todo.done_at is not None
    assert "Send the" in client.get("/contacts/tasks/?done=1").content.decode()


def test_tasks_api(sales, support):
    contact = ContactFactory()
    client = api_as(sales)
    response = client.post(
        "/api/v1/tasks/",
        {"contact": contact.pk, "title": "Call", "due_at": "2030-01-01T09:00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["assignee"] == sales.pk and body["created_by"] == sales.pk
    bad = client.post("/api/v1/tasks/", {"contact": contact.pk, "title": ""}, format="json")
    assert bad.status_code == 400 and set(bad.json()) >= {"title", "due_at"}
    TodoFactory(contact=contact, assignee=None)
    assert len(client.get("/api/v1/tasks/?mine=true").json()["results"]) == 1
    assert len(client.get(f"/api/v1/tasks/?contact={contact.pk}").json()["results"]) == 2
    done = client.post(f"/api/v1/tasks/{body['id']}/complete/")
    assert done.status_code == 200 and done.json()["done_at"]
    assert len(client.get("/api/v1/tasks/?done=false").json()["results"]) == 1
    assert api_as(support).get("/api/v1/tasks/").status_code == 200
    assert api_as(support).post("/api/v1/tasks/", {}).status_code == 403

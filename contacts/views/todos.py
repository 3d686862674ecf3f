"""To-dos ("tasks" in the UI and its URLs): add one from a contact's page, mark one
done, and the list of one's own."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import get_for_user_or_404
from core.http import next_url

from .. import services
from ..forms import TodoForm
from ..models import Contact, Todo
from ..selectors import todos_for_user
from .contact import contact_redirect


@require_POST
@permission_required("contacts.add_todo", raise_exception=True)
def contact_todo_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(Contact.objects.select_related("owner"), user=request.user, pk=pk)
    form = TodoForm(request.POST)
    if form.is_valid():
        services.todo_create(
            contact=contact,
            title=form.cleaned_data["title"],
            due_at=form.cleaned_data["due_at"],
            assignee=form.cleaned_data["assignee"] or request.user,
            actor=request.user,
        )
        messages.success(request, _("Task added."))
    else:
        past = form.has_error("due_at", "past")
        messages.error(
            request,
            form.errors["due_at"][0] if past else _("A task needs a title and a due date."),
        )
    return contact_redirect(contact.pk, "#tasks")


@require_POST
@permission_required("contacts.change_todo", raise_exception=True)
def todo_done(request: HttpRequest, pk: int) -> HttpResponse:
    todo = get_for_user_or_404(
        Todo.objects.select_related("contact", "assignee"), user=request.user, pk=pk
    )
    services.todo_complete(todo=todo, done=request.POST.get("done", "1") == "1")
    if request.htmx:
        return render(request, "contacts/todos.html#todo", {"todo": todo, "show_contact": True})
    return redirect(next_url(request, "contacts:todos"))


@permission_required("contacts.view_todo", raise_exception=True)
def my_todos(request: HttpRequest) -> HttpResponse:
    done = request.GET.get("done") == "1"
    todos = todos_for_user(request.user, done=done)[:200]
    return render(
        request,
        "contacts/todos.html",
        {"todos": todos, "done": done, "show_contact": True},
    )

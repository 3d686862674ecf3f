"""The conversation inbox's URLs (mounted at ``/conversations/``, namespace ``inbox``)."""

from django.urls import path

from . import inbox

app_name = "inbox"
_one = "<int:contact_id>/<slug:network>/"
urlpatterns = [
    path("", inbox.inbox, name="list"),
    path(_one, inbox.thread, name="thread"),
    path(_one + "poll/", inbox.thread_poll, name="poll"),
    path(_one + "answer/", inbox.answer, name="answer"),
    path(_one + "handled/", inbox.handled, name="handled"),
    path(_one + "assign/", inbox.assign, name="assign"),
    path(_one + "ticket/", inbox.ticket, name="ticket"),
]

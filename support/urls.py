from django.urls import path

from . import views

app_name = "support"
urlpatterns = [
    path("", views.index, name="index"),
    path("assign/", views.bulk_assign, name="bulk-assign"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/assign/", views.ticket_assign, name="ticket-assign"),
    path("tickets/<int:pk>/reply/", views.ticket_reply, name="ticket-reply"),
    path("tickets/<int:pk>/handoff/", views.ticket_handoff, name="ticket-handoff"),
    path("tickets/<int:pk>/resolve/", views.ticket_resolve, name="ticket-resolve"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="ticket-status"),
    path("tickets/<int:pk>/priority/", views.ticket_priority, name="ticket-priority"),
    path("from-entry/<int:entry_id>/", views.ticket_from_entry, name="ticket-from-entry"),
    path("from-entry/<int:entry_id>/split/", views.ticket_split_entry, name="ticket-split-entry"),
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/statement/", views.incident_statement, name="incident-statement"),
    path("incidents/<int:pk>/resolve/", views.incident_resolve, name="incident-resolve"),
    path("testimonials/", views.testimonials, name="testimonials"),
    path("reports/", views.reports, name="reports"),
    path("csat/<str:token>/", views.csat, name="csat"),
]

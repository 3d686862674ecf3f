from django.urls import path

from . import views, webhooks

app_name = "crm"
urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("reports/", views.reports, name="reports"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
    path("webhooks/x/<int:account_id>/", webhooks.x_activity, name="x-webhook"),
]

from django.urls import path

from . import views, webhooks

app_name = "crm"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/assign/", views.inbox_assign, name="inbox-assign"),
    path("inbox/<int:pk>/handled/", views.inbox_handled, name="inbox-handled"),
    path("inbox/<int:pk>/answer/", views.interaction_answer_view, name="answer"),
    path("outbox/<int:pk>/", views.outbound_status, name="outbound"),
    path("outbox/<int:pk>/retry/", views.outbound_retry_view, name="outbound-retry"),
    path("social-accounts/", views.sync_status, name="sync-status"),
    path("social-accounts/connect/", views.account_connect, name="account-connect"),
    path("social-accounts/<int:pk>/", views.sync_status_row, name="sync-status-row"),
    path("social-accounts/<int:pk>/sync/", views.account_sync, name="account-sync"),
    path("social-accounts/<int:pk>/pause/", views.account_pause, name="account-pause"),
    path("social-accounts/<int:pk>/resume/", views.account_resume, name="account-resume"),
    path("webhooks/x/<int:account_id>/", webhooks.x_activity, name="x-webhook"),
    path("webhooks/meta/<int:account_id>/", webhooks.meta_activity, name="meta-webhook"),
]

from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/listen/", views.campaign_listen, name="listen"),
    path("<int:pk>/feed/<int:match_pk>/<slug:action>/", views.match_action, name="match-action"),
    path("<int:pk>/setup/", views.campaign_setup, name="setup"),
    path("<int:pk>/rules/<int:rule_pk>/delete/", views.rule_delete, name="rule-delete"),
    path("<int:pk>/posts/", views.campaign_posts_page, name="posts"),
    path("<int:pk>/posts/<int:post_pk>/cancel/", views.post_cancel, name="post-cancel"),
    path("<int:pk>/funnel/", views.campaign_funnel_page, name="funnel"),
    path("<int:pk>/funnel.csv", views.campaign_funnel_csv, name="funnel-csv"),
]

from django.urls import path

from . import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/stage/", views.contact_stage, name="stage"),
    path("<int:pk>/notes/", views.contact_note, name="note"),
]

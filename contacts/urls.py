from django.urls import path

from . import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("export.csv", views.contact_export_csv, name="export-csv"),
    path("bulk/", views.contact_bulk, name="bulk"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("tasks/", views.my_tasks, name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("import/", views.import_upload, name="import-upload"),
    path("import/<int:pk>/", views.import_detail, name="import"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/stage/", views.contact_stage, name="stage"),
    path("<int:pk>/move/", views.contact_move, name="move"),
    path("<int:pk>/notes/", views.contact_note, name="note"),
    path("<int:pk>/owner/", views.contact_owner, name="owner"),
    path("<int:pk>/tasks/", views.contact_task_add, name="task-add"),
    path("<int:pk>/purchases/", views.contact_purchase_add, name="purchase-add"),
    path("<int:pk>/merge/", views.contact_merge_view, name="merge"),
    path("<int:pk>/export.json", views.contact_export_json, name="export-json"),
    path("<int:pk>/erase/", views.contact_erase_view, name="erase"),
]

from django.urls import path

from .views import board, contact, gdpr, imports, labels, lists, todos

app_name = "contacts"
urlpatterns = [
    path("", lists.contact_list, name="list"),
    path("export.csv", lists.contact_export_csv, name="export-csv"),
    path("bulk/", lists.contact_bulk, name="bulk"),
    path("pipeline/", board.pipeline, name="pipeline"),
    # "tasks": the UI's word for to-dos; these paths are in bookmarks and notifications.
    path("tasks/", todos.my_todos, name="todos"),
    path("tasks/<int:pk>/done/", todos.todo_done, name="todo-done"),
    path("import/", imports.import_upload, name="import-upload"),
    path("import/<int:pk>/", imports.import_detail, name="import"),
    path("entries/<int:pk>/label/", labels.entry_label, name="entry-label"),
    path("<int:pk>/", contact.contact_detail, name="detail"),
    path("<int:pk>/stage/", contact.contact_stage, name="stage"),
    path("<int:pk>/move/", board.contact_move, name="move"),
    path("<int:pk>/notes/", contact.contact_note, name="note"),
    path("<int:pk>/owner/", contact.contact_owner, name="owner"),
    path("<int:pk>/tasks/", todos.contact_todo_add, name="todo-add"),
    path("<int:pk>/purchases/", contact.contact_purchase_add, name="purchase-add"),
    path("<int:pk>/merge/", contact.contact_merge_view, name="merge"),
    path("<int:pk>/export.json", gdpr.contact_export_json, name="export-json"),
    path("<int:pk>/erase/", gdpr.contact_erase_view, name="erase"),
]

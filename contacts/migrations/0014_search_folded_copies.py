"""Stored folded copies (accents and case removed) of the searchable text of contacts,
identities and timeline entries, for search off PostgreSQL; existing rows are filled
here (off PostgreSQL only: the copies stay NULL there)."""

from itertools import batched

from django.conf import settings
from django.db import migrations, models

import core.fields
from lib.text import fold

#: (model, copy, sources): what core.fields.FoldedTextField computes on save.
COPIES = [
    ("Contact", "search_folded", ("display_name", "email", "company")),
    ("SocialIdentity", "search_folded", ("handle", "display_name")),
    ("TimelineEntry", "text_folded", ("text",)),
]


def copies_fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        return
    quote = schema_editor.quote_name
    for name, copy, sources in COPIES:
        model = apps.get_model("contacts", name)
        sql = f"UPDATE {quote(model._meta.db_table)} SET {quote(copy)} = %s WHERE id = %s"
        rows = model._base_manager.order_by("pk").values_list("pk", *sources)
        with schema_editor.connection.cursor() as cursor:
            for chunk in batched(rows.iterator(chunk_size=2000), 2000):
                # One prepared UPDATE run per row: bulk_update's CASE over 2,000 ids is
                # quadratic (100,000 entries: 87 s that way, 13 s this way).
                cursor.executemany(
                    sql,
                    [
                        (fold(core.fields.FOLD_SEPARATOR.join(v or "" for v in values)), pk)
                        for pk, *values in chunk
                    ],
                )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0013_identity_handle_key_whole_name"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0011_outbound_failure_codes_and_resends"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="search_folded",
            field=core.fields.FoldedTextField(sources=("display_name", "email", "company")),
        ),
        migrations.AddField(
            model_name="socialidentity",
            name="search_folded",
            field=core.fields.FoldedTextField(sources=("handle", "display_name")),
        ),
        migrations.AddField(
            model_name="timelineentry",
            name="text_folded",
            field=core.fields.FoldedTextField(sources=("text",)),
        ),
        migrations.RunPython(copies_fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("search_folded__isnull", False)),
                fields=["search_folded"],
                name="contact_search_folded",
            ),
        ),
        migrations.AddIndex(
            model_name="socialidentity",
            index=models.Index(
                condition=models.Q(("search_folded__isnull", False)),
                fields=["search_folded", "contact"],
                name="identity_search_folded",
            ),
        ),
        migrations.AddIndex(
            model_name="timelineentry",
            index=models.Index(
                condition=models.Q(("text_folded__isnull", False)),
                fields=["text_folded", "contact"],
                name="timeline_text_folded",
            ),
        ),
    ]

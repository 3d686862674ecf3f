from django.db import migrations

DEFAULT_RULES = [
    # (name, kind, target stage, N, D)
    ("Follow of our account", "follow", 1, 1, 1),
    ("Repeated engagement", "engagement", 1, 3, 30),
    ("Direct message to us", "dm", 1, 1, 1),
    ("Purchase", "purchase", 2, 1, 1),
]


def seed(apps, schema_editor):
    StageRule = apps.get_model("contacts", "StageRule")
    for name, kind, stage, threshold, window in DEFAULT_RULES:
        StageRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "target_stage": stage,
                "threshold": threshold,
                "window_days": window,
            },
        )


def unseed(apps, schema_editor):
    StageRule = apps.get_model("contacts", "StageRule")
    StageRule.objects.filter(name__in=[r[0] for r in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_search_documents_and_indexes")]

    operations = [migrations.RunPython(seed, unseed)]

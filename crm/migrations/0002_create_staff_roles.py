"""Create the Sales, Support and Manager groups. Their permissions are granted after
every migrate from ``core.roles.ROLE_PERMISSIONS`` (see ``crm.apps``)."""

from django.db import migrations

ROLES = ("Sales", "Support", "Manager")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def delete_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("crm", "0001_social_accounts_timeline_notifications"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]

"""The three staff roles and what each may do.

Groups are created by a data migration (crm 0002); their permissions are (re)applied
after every ``migrate`` from this table, so permissions of models added later are
granted without another data migration. Each entry maps an app label to the actions
allowed on all of its models, or to a per-model mapping (``"*"``: every other model).
Settings (stage rules, SLA policies, periodic tasks, canned responses) are edited by
Managers only; the README's role table says the same and ``tests/crm/test_permissions``
checks every cell of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ALL = ("add", "change", "delete", "view")
READ = ("view",)
WRITE = ("add", "change", "view")

SALES, SUPPORT, MANAGER = "Sales", "Support", "Manager"
ROLE_NAMES = (SALES, SUPPORT, MANAGER)

#: Custom permissions only Managers hold, whatever ``change`` another role has:
#: erasing a contact (GDPR) cannot be undone.
MANAGER_ONLY = frozenset({"contacts.erase_contact"})

ROLE_PERMISSIONS: Mapping[str, Mapping[str, Iterable[str] | Mapping[str, Iterable[str]]]] = {
    MANAGER: {
        "core": ALL,
        "crm": ALL,
        "contacts": ALL,
        "campaigns": ALL,
        "support": ALL,
        # Pick staff in the admin's autocompletes; pause or retime periodic jobs.
        "auth": {"user": READ},
        "django_celery_beat": ALL,
    },
    SALES: {
        "core": {"notification": ("view", "change")},
        # Sales works contacts (and may export them, GDPR); stage rules are a Manager
        # setting, erasing is for Managers only (MANAGER_ONLY).
        "contacts": {"*": WRITE, "stagerule": READ},
        "campaigns": ALL,
        "support": READ,
        "crm": {
            "outboundmessage": WRITE,
            "socialaccount": READ,
        },
    },
    SUPPORT: {
        "core": {"notification": ("view", "change")},
        # Support reads contacts but writes on their timelines (notes, answers, handled).
        "contacts": {"*": READ, "timelineentry": WRITE, "labelcorrection": ("add", "view")},
        "campaigns": READ,
        # SLA policies are a Manager setting; canned responses are read here, edited
        # by Managers.
        "support": {"*": WRITE, "slapolicy": READ, "cannedresponse": READ},
        "crm": {
            "outboundmessage": WRITE,
            "socialaccount": READ,
        },
    },
}


def roles_sync(group_model, permission_model) -> None:
    """Grant each role exactly the permissions in ``ROLE_PERMISSIONS`` that exist."""
    perms = permission_model.objects.select_related("content_type").filter(
        content_type__app_label__in={app for role in ROLE_PERMISSIONS.values() for app in role}
    )
    for role, apps in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            spec = apps.get(perm.content_type.app_label)
            if spec is None:
                continue
            if isinstance(spec, Mapping):
                actions = spec.get(perm.content_type.model, spec.get("*", ()))
            else:
                actions = spec
            if role != MANAGER and f"{perm.content_type.app_label}.{perm.codename}" in MANAGER_ONLY:
                continue
            action = perm.codename.split("_", 1)[0]
            # Custom permissions (e.g. ``merge_contact``) go with ``change``.
            if action in actions or (action not in ALL and "change" in actions):
                wanted.append(perm)
        group.permissions.set(wanted)

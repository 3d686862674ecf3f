"""Anonymous users get nothing; each role gets what its job needs."""

import pytest
from django.urls import reverse

from tests.conftest import api_as
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/contacts/",
    "/inbox/",
    "/campaigns/",
    "/support/",
    "/reports/",
    "/contacts/pipeline/",
    "/notifications/",
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_contact_page_and_api(client, api):
    contact = ContactFactory(display_name="Secret Person")
    response = client.get(f"/contacts/{contact.pk}/")
    assert response.status_code == 302
    for path in (
        "/api/v1/contacts/",
        f"/api/v1/contacts/{contact.pk}/",
        f"/api/v1/contacts/{contact.pk}/timeline/",
        "/api/schema/",
        "/api/docs/",
    ):
        response = api.get(path)
        assert response.status_code in (401, 403), path
        assert b"Secret Person" not in response.content
    assert api.post(f"/api/v1/contacts/{contact.pk}/stage/", {"stage": 1}).status_code == 401


def test_role_matrix_api(manager, sales, support, outsider):
    contact = ContactFactory()
    payload = {"display_name": "New Lead"}
    expectations = {
        # user: (list, create, stage change, delete)
        "manager": (200, 201, 200, 204),
        "sales": (200, 201, 200, 403),
        "support": (200, 403, 403, 403),
        "outsider": (403, 403, 403, 403),
    }
    for user in (manager, sales, support, outsider):
        client = api_as(user)
        target = ContactFactory()
        got = (
            client.get("/api/v1/contacts/").status_code,
            client.post("/api/v1/contacts/", payload, format="json").status_code,
            client.post(
                f"/api/v1/contacts/{contact.pk}/stage/",
                {"stage": 2 if user is manager else 1},
                format="json",
            ).status_code,
            client.delete(f"/api/v1/contacts/{target.pk}/").status_code,
        )
        name = {manager: "manager", sales: "sales", support: "support", outsider: "outsider"}[user]
        assert got == expectations[name], name


def test_role_matrix_pages(client, sales, support, outsider):
    contact = ContactFactory()
    client.force_login(outsider)
    assert client.get("/contacts/").status_code == 403
    assert client.get(f"/contacts/{contact.pk}/").status_code == 403

    client.force_login(support)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 200
    assert client.post(f"/contacts/{contact.pk}/stage/", {"stage": 1}).status_code == 403
    contact.refresh_from_db()
    assert contact.stage == 0

    client.force_login(sales)
    response = client.post(f"/contacts/{contact.pk}/stage/", {"stage": 1, "reason": "qualified"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.stage == 1


def test_failed_logins_are_throttled(client, sales):
    for _ in range(4):
        response = client.post(reverse("login"), {"username": "ana", "password": "wrong"})
        assert response.status_code == 200
    assert (
        client.post(reverse("login"), {"username": "ana", "password": "wrong"}).status_code == 429
    )
    # Locked out now, even with the right password.
    locked = client.post(reverse("login"), {"username": "ana", "password": "pw"})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content


def test_login_works(client, sales):
    response = client.post(reverse("login"), {"username": "ana", "password": "pw"})
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200


def test_security_headers(client, sales):
    client.force_login(sales)
    response = client.get("/contacts/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_manager_admin_pages_open(client, manager):
    client.force_login(manager)
    for path in (
        "/admin/",
        "/admin/contacts/contact/",
        "/admin/contacts/timelineentry/",
        "/admin/crm/socialaccount/",
        "/admin/crm/outboundmessage/",
        "/admin/contacts/stagechange/",
        "/admin/django_celery_beat/periodictask/",
    ):
        assert client.get(path).status_code == 200, path


def test_admin_changes_stage_through_the_service(client, manager):
    from contacts.models import StageChange

    contact = ContactFactory(display_name="Admin Edited")
    client.force_login(manager)
    response = client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {
            "display_name": "Admin Edited",
            "stage": 2,
            "score": 0,
            "stage_reason": "Paid by invoice",
            "identities-TOTAL_FORMS": 0,
            "identities-INITIAL_FORMS": 0,
            "stage_changes-TOTAL_FORMS": 0,
            "stage_changes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    change = StageChange.objects.get(contact=contact)
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (
        0,
        2,
        manager,
        "Paid by invoice",
    )


#: The role table of the README ("Roles"), one row per decision, one cell per role:
#: the status each role gets (manager, sales, support, outsider).
ROLE_TABLE = {
    "erase a contact (GDPR)": (200, 403, 403, 403),
    "export a contact (GDPR)": (200, 200, 403, 403),
    "read stage rules": (200, 200, 200, 403),
    "change a stage rule": (200, 403, 403, 403),
    "read SLA policies": (200, 200, 200, 403),
    "change an SLA policy": (200, 403, 403, 403),
    "read canned responses": (200, 200, 200, 403),
    "change a canned response": (200, 403, 403, 403),
    "change a periodic task": (True, False, False, False),
    "answer through ana's personal account": (202, 202, 400, 403),
}


def test_role_table_every_cell(manager, sales, support, outsider):
    from contacts.models import StageRule
    from crm.models import OutboundMessage
    from support.models import CannedResponse, SlaPolicy
    from tests.factories import SocialAccountFactory, complaint_entry

    rule = StageRule.objects.first()
    policy = SlaPolicy.objects.first()
    canned = CannedResponse.objects.create(name="Hi", language="en", body="Hello")
    personal = SocialAccountFactory(
        network="mastodon", kind="personal", user=sales, base_url="http://127.0.0.1:1"
    )
    entry = complaint_entry(contact=ContactFactory(), account=personal)
    users = {"manager": manager, "sales": sales, "support": support, "outsider": outsider}
    got = {action: [] for action in ROLE_TABLE}
    for user in users.values():
        client = api_as(user)
        victim = ContactFactory(email="someone@example.com")
        cells = {
            "erase a contact (GDPR)": client.post(f"/api/v1/contacts/{victim.pk}/erase/"),
            "export a contact (GDPR)": client.get(f"/api/v1/contacts/{victim.pk}/export/"),
            "read stage rules": client.get("/api/v1/stage-rules/"),
            "change a stage rule": client.patch(
                f"/api/v1/stage-rules/{rule.pk}/", {"active": rule.active}, format="json"
            ),
            "read SLA policies": client.get("/api/v1/sla-policies/"),
            "change an SLA policy": client.patch(
                f"/api/v1/sla-policies/{policy.pk}/",
                {"resolution_minutes": policy.resolution_minutes},
                format="json",
            ),
            "read canned responses": client.get("/api/v1/canned-responses/"),
            "change a canned response": client.patch(
                f"/api/v1/canned-responses/{canned.pk}/", {"body": "Hello!"}, format="json"
            ),
            "answer through ana's personal account": client.post(
                f"/api/v1/interactions/{entry.pk}/reply/",
                {"text": f"From {user.username}", "idempotency_key": user.username},
                format="json",
            ),
        }
        for action, response in cells.items():
            got[action].append(response.status_code)
        got["change a periodic task"].append(
            user.has_perm("django_celery_beat.change_periodictask")
        )
    assert got == {action: list(expected) for action, expected in ROLE_TABLE.items()}
    assert sum(len(cells) for cells in ROLE_TABLE.values()) == 40
    # What was refused left nothing behind.
    senders = set(OutboundMessage.objects.values_list("created_by__username", flat=True))
    assert senders == {"marta", "ana"}
    refused = api_as(support).post(
        f"/api/v1/interactions/{entry.pk}/reply/", {"text": "x"}, format="json"
    )
    assert "only its owner or a Manager" in refused.json()["account"][0]


def test_support_reads_canned_responses_in_the_admin_but_cannot_edit(client, support, manager):
    from core.roles import MANAGER_ONLY

    assert not any(support.has_perm(p) for p in MANAGER_ONLY)
    assert all(manager.has_perm(p) for p in MANAGER_ONLY)
    assert support.has_perm("support.view_cannedresponse")
    assert not support.has_perm("support.change_cannedresponse")
    assert not support.has_perm("support.change_slapolicy")
    assert support.has_perm("support.change_ticket")


def test_every_admin_list_and_add_page_opens(client, manager, django_user_model):
    """Each page the admin index links to answers (the ticket's add page raised a
    KeyError: its form drops the status field a new ticket has no use for)."""
    from django.contrib import admin

    superuser = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(superuser)
    broken = {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
        if model_admin.has_add_permission(type("R", (), {"user": superuser})()):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        for url in urls:
            status = client.get(url).status_code
            if status != 200:
                broken[url] = status
    assert broken == {}

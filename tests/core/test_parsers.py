"""core.parsers: JSON nested without end is a 400 with a message, on every way in."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact, ContactImport, StageRule
from core.parsers import MAX_JSON_DEPTH, BoundedJSONDecoder, json_too_deep
from tests.conftest import api_as

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


def test_depth_is_measured_without_recursion():
    assert not json_too_deep({"a": [1, {"b": [2]}]})
    assert json_too_deep(json.loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)))
    assert not json_too_deep(json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH))
    for text in (DEEP, DEEP_OBJECT):
        with pytest.raises(ValueError, match="nested"):
            json.loads(text, cls=BoundedJSONDecoder)


@pytest.mark.django_db
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, '{"name": ' + DEEP + "}"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/contacts/"),
        ("post", "/api/v1/stage-rules/"),
        ("post", "/api/v1/tickets/"),
        ("post", "/api/v1/campaigns/"),
        ("patch", "/api/v1/contacts/{c}/"),
        ("post", "/api/v1/contacts/{c}/notes/"),
    ],
)
def test_json_nested_100000_deep_is_a_400(manager, method, path, body):
    contact = Contact.objects.create(display_name="Nora")
    before = (Contact.objects.count(), StageRule.objects.count())
    response = getattr(api_as(manager), method)(
        path.format(c=contact.pk), body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]
    assert "nested" in response.json()["detail"]
    assert (Contact.objects.count(), StageRule.objects.count()) == before


@pytest.mark.django_db
def test_a_deep_or_misshapen_import_mapping_is_a_field_error(sales):
    for mapping in (DEEP, "[1]", '{"name": ["display_name"]}', '{"name": {"a": 1}}', "7"):
        upload = SimpleUploadedFile("p.csv", b"name,email\nZoe,zoe@example.com\n")
        response = api_as(sales).post(
            "/api/v1/contact-imports/", {"file": upload, "mapping": mapping}, format="multipart"
        )
        assert response.status_code == 400, (mapping[:20], response.content[:300])
        assert "mapping" in response.json()
    assert ContactImport.objects.count() == 0 and Contact.objects.count() == 0


@pytest.mark.django_db
def test_deep_json_in_an_admin_form_is_a_form_error(client, manager):
    from crm.models import SocialAccount

    client.force_login(manager)
    response = client.post(
        "/admin/crm/socialaccount/add/",
        {
            "network": "mastodon",
            "kind": "brand",
            "handle": "brand",
            "base_url": "http://127.0.0.1:9",
            "credentials": DEEP_OBJECT,
        },
    )
    assert response.status_code == 200
    assert "Enter a valid JSON." in response.content.decode()
    assert not SocialAccount.objects.exists()

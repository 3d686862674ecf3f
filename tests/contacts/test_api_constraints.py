"""Writes the database would refuse are refused first, with a field message: no
IntegrityError or KeyError reaches a 500, and nothing is stored."""

from __future__ import annotations

import pytest

from contacts.models import SocialIdentity, StageRule
from tests.conftest import api_as
from tests.factories import ContactFactory, SocialIdentityFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_stage": 0}, "target_stage"),  # only forward: Lead or Customer
        ({"target_stage": 7}, "target_stage"),
        ({"threshold": 0}, "threshold"),
        ({"window_days": 0}, "window_days"),
        ({"threshold": -1}, "threshold"),
        ({"window_days": 40000}, "window_days"),  # a smallint
    ],
)
def test_stage_rules_mirror_the_database_checks(manager, body, field):
    api = api_as(manager)
    before = StageRule.objects.count()
    created = api.post(
        "/api/v1/stage-rules/",
        {"name": "Engaged", "kind": "engagement", "target_stage": 1, **body},
        format="json",
    )
    assert created.status_code == 400 and field in created.json()
    assert StageRule.objects.count() == before
    rule = StageRule.objects.create(name="Follows", kind="follow", target_stage=1)
    patched = api.patch(f"/api/v1/stage-rules/{rule.pk}/", body, format="json")
    assert patched.status_code == 400 and field in patched.json()
    rule.refresh_from_db()
    assert (rule.target_stage, rule.threshold, rule.window_days) == (1, 3, 30)


def test_a_valid_stage_rule_still_goes_in(manager):
    response = api_as(manager).post(
        "/api/v1/stage-rules/",
        {
            "name": "Engaged",
            "kind": "engagement",
            "target_stage": 2,
            "threshold": 1,
            "window_days": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert StageRule.objects.get(name="Engaged").target_stage == 2


@pytest.mark.parametrize(
    "identity",
    [
        {"handle": "nora", "external_id": "42"},  # no network
        {"network": "x", "handle": "nora"},  # no external id
        {"network": "x", "external_id": "42"},  # no handle
        {},
    ],
)
def test_patching_identities_without_their_keys_is_a_field_error(sales, identity):
    contact = ContactFactory()
    kept = SocialIdentityFactory(contact=contact, network="x", external_id="7", handle="old")
    response = api_as(sales).patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"display_name": "Changed", "identities": [identity]},
        format="json",
    )
    assert response.status_code == 400, response.content
    [errors] = response.json()["identities"]
    missing = {"network", "external_id", "handle"} - identity.keys()
    assert set(errors) == missing
    contact.refresh_from_db()
    assert contact.display_name != "Changed"
    assert list(SocialIdentity.objects.filter(contact=contact)) == [kept]


def test_patching_a_full_identity_still_works(sales):
    contact = ContactFactory()
    response = api_as(sales).patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"identities": [{"network": "x", "external_id": "42", "handle": "nora"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert contact.identities.get().handle == "nora"

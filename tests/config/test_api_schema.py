"""The OpenAPI schema at /api/schema/ is valid, and true: a seeded schemathesis pass over
every operation, as a Manager, finds no 5xx and no response that breaks the schema."""

from __future__ import annotations

import re
import time

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from contacts.models import Contact, ContactImport, Purchase, StageRule, TimelineEntry, Todo
from crm.models import SocialAccount
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

#: Cases per operation beyond one per strategy (positive and negative, a generated id
#: and a real one): a few hundred over the ~97 operations.
EXAMPLES = 2


def test_the_schema_is_valid_openapi(manager):
    response = api_as(manager).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate(schema)  # raises on the first error
    assert len(schema["paths"]) > 50


@pytest.fixture
def world(manager):
    """The demo company, small, with every account pointed at a closed local port (a
    reply or a sync the fuzzer triggers fails at once instead of leaving the machine)."""
    call_command("seed_demo", contacts=24, force=True, verbosity=0)
    SocialAccount.objects.update(base_url="http://127.0.0.1:9")
    contact = Contact.objects.filter(identities__isnull=False).order_by("pk").first()
    TimelineEntry.objects.create(contact=contact, kind="note", text="An internal note")
    return Token.objects.create(user=manager).key


def _real_ids() -> dict[str, int]:
    """A real row for each resource path, so most cases reach an object rather than a 404."""
    from campaigns.models import Campaign, ListeningRule, ScheduledPost, TrackedLink
    from support.models import CannedResponse, Incident, SlaPolicy, Ticket

    first = {
        "campaigns": Campaign,
        "campaign-rules": ListeningRule,
        "campaign-links": TrackedLink,
        "campaign-posts": ScheduledPost,
        "canned-responses": CannedResponse,
        "contact-imports": ContactImport,
        "contacts": Contact,
        "incidents": Incident,
        "interactions": TimelineEntry,
        "testimonials": TimelineEntry,
        "purchases": Purchase,
        "sla-policies": SlaPolicy,
        "social-accounts": SocialAccount,
        "stage-rules": StageRule,
        "tasks": Todo,
        "tickets": Ticket,
    }
    ids = {}
    for resource, model in first.items():
        row = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        if row is not None:
            ids[resource] = row
    return ids


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, in the test's transaction: like Django's test client, keep
    the end of a request from closing the test's database connection."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_fuzzing_every_operation_finds_no_5xx_and_no_schema_violation(world, wsgi_app):
    auth = {"Authorization": f"Token {world}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=auth)
    ids = _real_ids()
    failures: list[str] = []
    cases = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        resource = re.match(r"/api/v1/([^/]+)/", operation.path).group(1)
        strategies = []
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(operation.as_strategy(generation_mode=mode, headers=auth))
            if "{id}" in operation.path and resource in ids:
                strategies.append(
                    operation.as_strategy(
                        generation_mode=mode, headers=auth, path_parameters={"id": ids[resource]}
                    )
                )

        @settings(
            max_examples=EXAMPLES + len(strategies),
            derandomize=True,  # seeded: the same cases every run
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def check(case):
            nonlocal cases
            cases += 1
            response = case.call()
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance]
                )
            except Exception as exc:  # every failed check, reported together below
                failures.append(f"{case.operation.label} {response.status_code}: {exc}"[:2000])

        check()
    elapsed = time.monotonic() - started
    assert cases >= 300, cases
    assert failures == [], "\n\n".join(failures[:10])
    print(f"schemathesis: {cases} cases over the schema in {elapsed:.1f} s")

"""Per-client API throttling: a token (an integration) has its own, larger budget than
a person's session; each client's bucket is its own; over the budget is a 429."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from core.throttling import ClientRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    monkeypatch.setattr(
        ClientRateThrottle,
        "THROTTLE_RATES",
        {"anon": "100/min", "user": "2/min", "integration": "5/min"},
    )
    cache.clear()
    yield
    cache.clear()


def _statuses(client, n):
    return [client.get("/api/v1/contacts/").status_code for _ in range(n)]


def test_session_gets_the_user_rate_and_a_token_the_integration_rate(rates, sales, manager):
    browser = APIClient()
    browser.force_login(sales)
    assert _statuses(browser, 3) == [200, 200, 429]

    integration = APIClient()
    integration.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    assert _statuses(integration, 6) == [200] * 5 + [429]
    response = integration.get("/api/v1/contacts/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_each_token_has_its_own_bucket(rates, sales, manager):
    first, second = APIClient(), APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=sales).key}")
    second.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    assert _statuses(first, 6)[-1] == 429
    assert _statuses(second, 1) == [200]


def test_without_an_integration_rate_tokens_fall_back_to_the_user_rate(monkeypatch, sales):
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"user": "1/min"})
    cache.clear()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=sales).key}")
    assert _statuses(client, 2) == [200, 429]
    cache.clear()
    assert "core.throttling.ClientRateThrottle" in [
        f"{c.__module__}.{c.__name__}" for c in api_settings.DEFAULT_THROTTLE_CLASSES
    ]

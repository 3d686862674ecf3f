from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.peers_fixtures import *  # noqa: F403 — the local Bluesky network and mastodon-mock


@pytest.fixture
def manager(db):
    return UserFactory(username="marta", role="Manager", is_staff=True)


@pytest.fixture
def sales(db):
    return UserFactory(username="ana", role="Sales")


@pytest.fixture
def support(db):
    return UserFactory(username="sofia", role="Support")


@pytest.fixture
def outsider(db):
    """A signed-in user with no role: sees nothing."""
    return UserFactory(username="nobody")


@pytest.fixture
def api():
    return APIClient()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language: a request with
    ``Accept-Language: es`` leaves Spanish active in the thread after it (LocaleMiddleware
    activates it and nothing deactivates it), which changed later tests' messages."""
    from django.utils import translation

    yield
    translation.deactivate()

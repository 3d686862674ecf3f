"""pytest fixtures for the local social-network peers (see tests/peers.py).

Use them from a conftest.py:

    from tests.peers_fixtures import *  # noqa: F401,F403

Fixtures:

``bsky``                session-scoped :class:`tests.peers.BskyNetwork`: one local Bluesky
                        network (PLC, PDS, AppView) shared by the whole test session.
                        Tests should create their own accounts (``bsky.create_account``).
``mastodon_accounts``   function-scoped list of accounts to seed into ``mastodon_server``
                        (default ``["alice", "bob", "carol"]``); override it in a test
                        module or with ``@pytest.mark.parametrize(..., indirect=True)``.
``mastodon_server``     function-scoped :class:`tests.peers.MastodonMock`: a fresh
                        mastodon_mock server for each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.peers import BskyNetwork, MastodonMock, bsky_network, mastodon_mock

__all__ = ["bsky", "mastodon_accounts", "mastodon_server"]


@pytest.fixture(scope="session")
def bsky(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BskyNetwork]:
    with bsky_network(tmp_path_factory.mktemp("bsky")) as network:
        yield network


@pytest.fixture
def mastodon_accounts(request: pytest.FixtureRequest) -> list[Any]:
    return list(getattr(request, "param", None) or ["alice", "bob", "carol"])


@pytest.fixture
def mastodon_server(mastodon_accounts: list[Any], tmp_path) -> Iterator[MastodonMock]:
    with mastodon_mock(mastodon_accounts, tmp_path=tmp_path) as server:
        yield server

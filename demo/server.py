"""The local demo Mastodon server: a mastodon-mock instance on loopback with the brand's
account and a few customers (``manage.py demo_mastodon``, a Procfile process of
``make run``). Its address and tokens live in a small JSON file under ``MOMENTO_VAR_DIR``
so ``seed_demo`` can connect the brand and the "Simulate a customer" page can post as a
customer. Development only: nothing here runs with DEBUG off."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

from crm.models import SocialAccount

BRAND = "momentofibra"
CUSTOMERS = [
    ("lucia", "Lucía Romero"),
    ("marco", "Marco Ferrer"),
    ("emma", "Emma Clarke"),
    ("tom", "Tom Walsh"),
]
DEFAULT_PORT = 8765
STATE_FILE = "demo_mastodon.json"


def state_path() -> Path:
    return Path(settings.VAR_DIR) / STATE_FILE


def state_load() -> dict[str, Any] | None:
    """The running (or last run) demo server's address and tokens, or None."""
    try:
        state = json.loads(state_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not {"base_url", "brand", "tokens"} <= state.keys():
        return None
    return state


def state_write(*, port: int) -> dict[str, Any]:
    """Write the state file for a server on ``port``, keeping the tokens of an earlier
    run (so a connected brand account stays valid across restarts)."""
    old = state_load() or {}
    tokens = dict(old.get("tokens") or {})
    for username in [BRAND, *(name for name, _ in CUSTOMERS)]:
        tokens.setdefault(username, f"demo-{username}-{secrets.token_hex(16)}")
    state = {
        "base_url": f"http://127.0.0.1:{port}",
        "brand": BRAND,
        "customers": [{"username": u, "display_name": d} for u, d in CUSTOMERS],
        "tokens": tokens,
    }
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)
    return state


def mock_config(*, state: dict[str, Any], port: int):
    """The mastodon-mock configuration: in-memory, the brand and its customers, each
    customer following the brand."""
    from mastodon_mock.config import MastodonMockConfig

    accounts = [
        {
            "username": BRAND,
            "display_name": "Momento Fibra",
            "note": "Fibre internet. Demo brand account.",
            "access_token": state["tokens"][BRAND],
        }
    ] + [
        {"username": u, "display_name": d, "access_token": state["tokens"][u]} for u, d in CUSTOMERS
    ]
    return MastodonMockConfig.model_validate(
        {
            "domain": f"localhost:{port}",
            "url_scheme": "http",
            "title": "Momento demo (Mastodon)",
            "database": {"path": ":memory:"},
            "server": {"host": "127.0.0.1", "port": port},
            "seed": {
                "accounts": accounts,
                "follows": [{"follower": u, "following": BRAND} for u, _ in CUSTOMERS],
            },
        }
    )


def is_up(base_url: str, *, timeout: float = 1.0) -> bool:
    try:
        return requests.get(f"{base_url}/api/v1/instance", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def wait_up(base_url: str, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if is_up(base_url):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def demo_enabled() -> bool:
    """The demo pages exist only on a development box with the demo server configured."""
    return bool(settings.DEBUG) and state_load() is not None


def brand_account(state: dict[str, Any]) -> SocialAccount | None:
    return SocialAccount.objects.filter(network="mastodon", base_url=state["base_url"]).first()


def demo_brand_connect(*, state: dict[str, Any]) -> SocialAccount:
    """Connect the demo brand account to the demo server (first time: through the real
    connect service, which queues its first sync), or refresh its token and switch it
    back on. Refuses with DEBUG off."""
    if not settings.DEBUG:
        raise RuntimeError("The demo server is for development only (DEBUG is off).")
    from crm.services import socialaccount_connect

    credentials = {"access_token": state["tokens"][state["brand"]]}
    account = brand_account(state)
    if account is None:
        return socialaccount_connect(
            network="mastodon",
            kind=SocialAccount.Kind.BRAND,
            handle=state["brand"],
            base_url=state["base_url"],
            credentials=credentials,
            actor=None,
        )
    account.credentials = credentials
    account.state = SocialAccount.State.ACTIVE
    account.last_error = ""
    account.save(update_fields=["credentials", "state", "last_error"])
    return account


def customer_client(state: dict[str, Any], username: str):
    """A Mastodon.py client logged in as one of the demo customers."""
    from mastodon import Mastodon

    return Mastodon(
        access_token=state["tokens"][username],
        api_base_url=state["base_url"],
        ratelimit_method="throw",
        request_timeout=10,
    )

"""What Facebook Pages and Instagram share: Meta's Graph API through
``python-facebook-api`` (``pyfacebook.GraphAPI``), its errors, its rate limits and the
signature of its webhooks.

Errors arrive as ``{"error": {"message", "type", "code", "error_subcode"}}``:

- code 190 (or 102, 463, 467 subcodes): the token expired or was revoked → ``AuthError``;
- codes 4, 17, 32, 613 and the ``80xxx`` business-use-case codes: rate limited → we retry
  when ``X-Business-Use-Case-Usage`` (or ``X-App-Usage``) says access is regained;
- codes 1 and 2, or an HTTP 5xx without a JSON body: transient → back off;
- code 10 with subcode 2018278 (or 2534022): the 24-hour messaging window has closed;
- anything else: the request was refused for good.

A webhook body is signed ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret,
raw body)>``; the subscription check (``hub.challenge``) echoes a challenge only for the
app's verify token, so the endpoint signs nothing an outsider chooses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pyfacebook import FacebookError, GraphAPI, LibraryError

from . import base
from .common import DEFAULT_RATE_LIMIT_WAIT, header

GRAPH_URL = "https://graph.facebook.com/"
GRAPH_VERSION = "v24.0"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
AUTH_CODES = frozenset({102, 190})
WINDOW_CLOSED_SUBCODES = frozenset({2018278, 2534022})
#: Meta's challenge is a number; anything else is not Meta asking.
_CHALLENGE = re.compile(r"^[0-9]{1,32}$")


class Graph:
    """A ``GraphAPI`` that never sleeps on a rate limit (the sync engine waits instead)
    and turns every failure into one of ``crm.networks.base``'s errors."""

    def __init__(self, *, name: str, access_token: str, app_secret: str, base_url: str = ""):
        self.name = name
        self.access_token = access_token
        self.api = GraphAPI(
            access_token=access_token or None,
            app_secret=app_secret or None,
            version=GRAPH_VERSION,
            sleep_on_rate_limit=False,
            base_url=(base_url.rstrip("/") + "/") if base_url else GRAPH_URL,
            timeout=20,
        )

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """``GET /<version>/<path>``; ``path`` may also be a ``paging.next`` URL."""
        return self._call("GET", path, params=params)

    def post(self, path: str, **data: Any) -> dict[str, Any]:
        return self._call("POST", path, data=data)

    def _call(self, verb: str, path: str, *, params=None, data=None) -> dict[str, Any]:
        if not self.access_token:
            raise base.AuthError(f"No {self.name} access token is stored for this account.")
        url = path if path.startswith("http") else f"{GRAPH_VERSION}/{path.lstrip('/')}"
        form = None
        if data is not None:
            # Graph takes nested objects (recipient, message) as JSON strings in a form.
            form = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
        try:
            response = self.api._request(
                url=url, args=params or None, post_args=form, verb=verb, auth_need=True
            )
        except requests.Timeout as exc:
            raise base.TransientError(f"{self.name} did not answer in time.") from exc
        except (requests.RequestException, LibraryError) as exc:
            raise base.TransientError(f"{self.name} could not be reached.") from exc
        return self._parse(response)

    def _parse(self, response: requests.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            if response.status_code >= 500 or response.status_code == 429:
                raise base.TransientError(
                    f"{self.name} answered {response.status_code} without a body we can read.",
                    code="server_error",
                    params={"network": self.name, "status": response.status_code},
                )
            raise base.InvalidRequest(f"{self.name} answered something that is not JSON.")
        try:
            self.api._check_graph_error(payload)
        except FacebookError:
            raise self.error(payload.get("error") or {}, response) from None
        if response.status_code >= 500:
            raise base.TransientError(
                f"{self.name} server error: {response.status_code}",
                code="server_error",
                params={"network": self.name, "status": response.status_code},
            )
        return payload

    def error(self, error: dict[str, Any], response: requests.Response) -> base.NetworkError:
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        message = str(error.get("message") or "")[:200]
        if code in AUTH_CODES:
            return base.AuthError(
                f"{self.name} rejected the access token (it expired or was revoked): "
                "reconnect the account with a new token."
            )
        if code in RATE_LIMIT_CODES or 80000 <= code < 81000:
            return base.RateLimited(
                f"{self.name} rate limit (code {code}).",
                reset_at=regain_at(response.headers),
            )
        if code in TRANSIENT_CODES or response.status_code >= 500:
            return base.TransientError(
                f"{self.name} had a temporary problem (code {code}).",
                code="server_error",
                params={"network": self.name, "status": response.status_code},
            )
        if code == 10 and subcode in WINDOW_CLOSED_SUBCODES:
            return MessagingWindowClosed(
                f"{self.name} allows a message only within 24 hours of the customer's last "
                "message: that window has closed. Answer publicly or wait for them to write."
            )
        return base.InvalidRequest(f"{self.name} refused the request (code {code}): {message}")


class MessagingWindowClosed(base.InvalidRequest):
    """Meta's messaging window (24 hours after the person's last message) has closed."""


def regain_at(headers: Any) -> datetime:
    """When a rate-limited app regains access: the largest
    ``estimated_time_to_regain_access`` (minutes) in ``X-Business-Use-Case-Usage``, else
    a minute from now (``X-App-Usage`` carries percentages only)."""
    now = datetime.now(UTC)
    raw = header(headers, "X-Business-Use-Case-Usage")
    minutes = 0
    if raw:
        try:
            usage = json.loads(raw)
        except ValueError:
            usage = {}
        if isinstance(usage, dict):
            for entries in usage.values():
                for entry in entries if isinstance(entries, list) else []:
                    if isinstance(entry, dict):
                        minutes = max(minutes, _int(entry.get("estimated_time_to_regain_access")))
    if minutes > 0:
        return now + timedelta(minutes=minutes)
    return now + DEFAULT_RATE_LIMIT_WAIT


def parse_meta_time(value: Any) -> datetime:
    """Graph's ``2024-05-01T10:00:00+0000`` (and ISO-8601 with a colon or ``Z``), or a
    webhook's epoch seconds / milliseconds. Raises ValueError for anything else."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def signature(app_secret: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of the raw body under the app secret (Meta's format)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(app_secret: str, body: bytes, given: str) -> bool:
    """Constant-time check of ``X-Hub-Signature-256``; a malformed or non-ASCII header is
    simply invalid (never an exception)."""
    if not app_secret or not given or not given.isascii():
        return False
    if not re.fullmatch(r"sha256=[0-9a-f]{64}", given):
        return False
    return hmac.compare_digest(signature(app_secret, body).encode(), given.encode())


def challenge_answer(params: Any, verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when Meta verifies the subscription with our verify
    token; ``None`` for anything else."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    if not given.isascii() or not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge") or ""
    return challenge if _CHALLENGE.match(challenge) else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def next_url(payload: dict[str, Any]) -> str | None:
    paging = payload.get("paging")
    if isinstance(paging, dict) and isinstance(paging.get("next"), str):
        return paging["next"]
    return None


def next_after(payload: dict[str, Any]) -> str | None:
    """The ``after`` cursor of an edge's next page when there is one. Only the cursor
    is kept between pages, never ``paging.next`` (its URL carries the access token)."""
    if not next_url(payload):
        return None
    after = ((payload.get("paging") or {}).get("cursors") or {}).get("after")
    return after if isinstance(after, str) and after else None


def rows(payload: Any) -> list[dict[str, Any]]:
    """The ``data`` list of an edge (``[]`` when absent); non-objects are dropped by the
    caller as malformed."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return payload["data"]
    return []


def edge_page(
    graph: Any, path: str, *, fields: str, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a Graph edge: its rows and the ``after`` cursor of the next page."""
    params: dict[str, Any] = {"fields": fields, "limit": limit}
    if after:
        params["after"] = after
    payload = graph.get(path, **params)
    return rows(payload), next_after(payload)

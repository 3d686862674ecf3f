"""Webhooks: X Account Activity (``/webhooks/x/<account id>/``) and Meta's
(``/webhooks/meta/<account id>/``, Facebook pages and Instagram accounts, below).

``GET`` answers X's challenge-response check (CRC) with the HMAC-SHA256 of the
``crc_token`` under the app's consumer secret; ``POST`` accepts events only when their
``x-twitter-webhooks-signature`` is that HMAC of the raw body (compared in constant
time), and stores them through the same ingest path as polling.

The CRC reply is the very signature a POST needs, so the endpoint must never sign
something that could be a body: it answers only tokens shaped like X's (a bounded
string from the base64/URL-safe alphabet, which has no ``{`` and so is never a JSON
object). Every id that is not an X account with webhooks on (a consumer secret) gets
the same 404, so account ids cannot be told apart, and a signature header that is not
``sha256=`` + base64 of 32 bytes is refused with 403 before any comparison.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.choices import Network

from .ingest import ingest_interactions
from .models import SocialAccount
from .networks import adapter_for, meta
from .networks.x import normalise_activity

#: What X sends as ``crc_token``: a short random token. Never ``{``, so never JSON.
CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{1,128}")
#: ``sha256=`` + base64 of a 32-byte digest (44 characters with its one ``=``).
SIGNATURE = re.compile(r"sha256=[A-Za-z0-9+/]{43}=")


def x_signature(consumer_secret: str, message: bytes) -> str:
    """``sha256=`` + base64 of HMAC-SHA256(consumer secret, message), X's format."""
    digest = hmac.new(consumer_secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def x_signature_valid(consumer_secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is X's signature of ``body``; a header that is not of the
    form ``sha256=<base64 of 32 bytes>`` (non-ASCII, cut, anything else) is not."""
    if not signature or not SIGNATURE.fullmatch(signature):
        return False
    return hmac.compare_digest(x_signature(consumer_secret, body), signature)


def _not_found() -> JsonResponse:
    """The one answer for every id that is not an X account with webhooks on."""
    return JsonResponse({"error": "not found"}, status=404)


def _webhook_account(account_id: int) -> tuple[SocialAccount, str] | None:
    account = SocialAccount.objects.filter(pk=account_id, network=Network.X).first()
    secret = (account.credentials or {}).get("consumer_secret") if account else None
    if not secret or not isinstance(secret, str):
        return None
    return account, secret


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def x_activity(request: HttpRequest, account_id: int) -> HttpResponse:
    if request.method == "GET":
        # The token is checked before the account, so a bad token answers the same
        # for every id.
        token = request.GET.get("crc_token", "")
        if not CRC_TOKEN.fullmatch(token):
            return JsonResponse({"error": "crc_token is missing or malformed"}, status=400)
        found = _webhook_account(account_id)
        if found is None:
            return _not_found()
        return JsonResponse({"response_token": x_signature(found[1], token.encode())})

    found = _webhook_account(account_id)
    if found is None:
        return _not_found()
    account, secret = found
    if not x_signature_valid(
        secret, request.body, request.headers.get("x-twitter-webhooks-signature", "")
    ):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return JsonResponse({"error": "body is not JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "body is not a JSON object"}, status=400)
    for_user = str(payload.get("for_user_id") or "")
    if account.external_id and for_user and for_user != account.external_id:
        return JsonResponse({"stored": 0, "ignored": "another user's events"})
    items, failed = normalise_activity(payload, user_id=account.external_id or for_user)
    stats = ingest_interactions(account=account, items=items, failed=failed, stream="webhook")
    return JsonResponse({"stored": stats.created, "failed": stats.failed})


META_NETWORKS = (Network.FACEBOOK, Network.INSTAGRAM)
#: Meta's bodies are small; refuse anything larger than this before hashing it.
META_MAX_BODY = 1_000_000


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def meta_activity(request: HttpRequest, account_id: int) -> HttpResponse:
    """Meta webhooks (``/webhooks/meta/<account id>/``) for a Facebook page or an
    Instagram account.

    ``GET`` is Meta's subscription check: it echoes ``hub.challenge`` (digits only) when
    ``hub.verify_token`` is the account's verify token, and signs nothing. ``POST``
    accepts a body only when ``X-Hub-Signature-256`` is the HMAC-SHA256 of the raw body
    under the app secret (constant-time), and stores its items through the same ingest
    path as polling; polling stays the safety net for anything a webhook misses. Every
    id that is not a Meta account with webhooks set up answers the same 404."""
    account = (
        SocialAccount.objects.filter(pk=account_id, network__in=META_NETWORKS)
        .exclude(state=SocialAccount.State.PAUSED)
        .first()
    )
    credentials = (account.credentials or {}) if account else {}
    secret, verify_token = credentials.get("app_secret"), credentials.get("verify_token")
    if not account or not secret or not verify_token:
        return _not_found()
    if request.method == "GET":
        answer = meta.challenge_answer(request.GET, verify_token)
        if answer is None:
            return JsonResponse({"error": "verification failed"}, status=403)
        return HttpResponse(answer, content_type="text/plain")

    if len(request.body) > META_MAX_BODY:
        return JsonResponse({"error": "body too large"}, status=413)
    if not meta.signature_valid(
        secret, request.body, request.headers.get("X-Hub-Signature-256", "")
    ):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return JsonResponse({"error": "body is not JSON"}, status=400)
    expected = "page" if account.network == Network.FACEBOOK else "instagram"
    if not isinstance(payload, dict) or payload.get("object") != expected:
        return JsonResponse({"error": f"expected a {expected} event"}, status=400)
    adapter = adapter_for(account)
    items, failed = adapter.webhook_items(payload)
    stats = ingest_interactions(account=account, items=items, failed=failed, stream="webhook")
    return JsonResponse({"stored": stats.created, "failed": stats.failed})

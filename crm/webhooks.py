"""Webhooks: X Account Activity (``/webhooks/x/<account id>/``) and Meta's
(``/webhooks/meta/<account id>/``, Facebook pages and Instagram accounts, below).

``GET`` answers X's challenge-response check (CRC) with the HMAC-SHA256 of the
``crc_token`` under the app's consumer secret; ``POST`` accepts events only when their
``x-twitter-webhooks-signature`` is that HMAC of the raw body (compared in constant
time), and stores them through the same ingest path as polling.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.choices import Network

from .ingest import ingest_interactions
from .models import SocialAccount
from .networks import adapter_for, meta
from .networks.x import normalise_activity


def x_signature(consumer_secret: str, message: bytes) -> str:
    """``sha256=`` + base64 of HMAC-SHA256(consumer secret, message), X's format."""
    digest = hmac.new(consumer_secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def x_signature_valid(consumer_secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(x_signature(consumer_secret, body), signature or "")


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def x_activity(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(SocialAccount, pk=account_id, network=Network.X)
    secret = (account.credentials or {}).get("consumer_secret")
    if not secret:
        raise Http404
    if request.method == "GET":
        token = request.GET.get("crc_token", "")
        if not token:
            return JsonResponse({"error": "crc_token is required"}, status=400)
        return JsonResponse({"response_token": x_signature(secret, token.encode())})

    if not x_signature_valid(
        secret, request.body, request.headers.get("x-twitter-webhooks-signature", "")
    ):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
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
        raise Http404
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

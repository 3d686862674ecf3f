"""Writes on social accounts and on the inbox state of inbound social items.

Connecting an account logs in to the network first (``socialaccount_verify``): what the
network rejects, or a server that does not answer, is a ``ValidationError`` with a field
message, and nothing is stored. Answers go through the outbox (``crm.outbox``).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import TimelineEntry
from core.choices import PUBLICLY_ANSWERABLE, Direction, Network

from .models import OutboundMessage, SocialAccount
from .networks import adapter_class
from .networks.base import (
    AuthError,
    Author,
    InvalidRequest,
    NetworkError,
    RateLimited,
    TransientError,
)
from .sync import backfill_queue, sync_queue

logger = logging.getLogger(__name__)

#: The credentials each network needs, exactly (issue 3, item 1).
CREDENTIAL_KEYS: dict[str, frozenset[str]] = {
    Network.BLUESKY: frozenset({"app_password"}),
    Network.MASTODON: frozenset({"access_token"}),
    Network.X: frozenset(
        {"consumer_key", "consumer_secret", "access_token", "access_token_secret", "bearer_token"}
    ),
    # A page access token; the app secret signs every call (appsecret_proof) and checks
    # webhook signatures; the verify token answers Meta's subscription check.
    Network.FACEBOOK: frozenset({"access_token", "app_secret", "verify_token"}),
    Network.INSTAGRAM: frozenset({"access_token", "app_secret", "verify_token"}),
    # An OAuth client and the channel owner's refresh token (access tokens are renewed).
    Network.YOUTUBE: frozenset({"client_id", "client_secret", "refresh_token"}),
    Network.LINKEDIN: frozenset({"client_id", "client_secret", "refresh_token"}),
}
#: Networks whose server is chosen by the user (a PDS, an instance); X has one host.
NEEDS_BASE_URL = frozenset({Network.BLUESKY, Network.MASTODON})


def _credentials_errors(network: str, credentials) -> list[str]:
    wanted = CREDENTIAL_KEYS[network]
    if not isinstance(credentials, dict):
        return [_("Credentials must be an object with the keys %(keys)s.") % _keys(wanted)]
    errors = []
    missing = sorted(k for k in wanted if not str(credentials.get(k) or "").strip())
    unknown = sorted(set(credentials) - wanted)
    if missing:
        errors.append(_("Missing: %(keys)s.") % {"keys": ", ".join(missing)})
    if unknown:
        errors.append(
            _("Not used by %(network)s: %(keys)s.")
            % {"network": Network(network).label, "keys": ", ".join(unknown)}
        )
    return errors


def _keys(keys) -> dict[str, str]:
    return {"keys": ", ".join(sorted(keys))}


def socialaccount_verify(*, network: str, handle: str, base_url: str, credentials: dict) -> Author:
    """Check the input and log in to the network with it; returns our account's identity
    as the network reports it. Raises ``ValidationError`` with field messages for bad
    input, rejected credentials, an unreachable server or a rate limit. No database
    writes; do not call it inside a transaction (it waits on the network)."""
    errors: dict[str, list[str]] = {}
    if network not in CREDENTIAL_KEYS:
        raise ValidationError(
            {"network": _("Choose Bluesky, Mastodon, X, Facebook, Instagram, YouTube or LinkedIn.")}
        )
    if not handle:
        errors["handle"] = [_("Enter the account's handle.")]
    if network in NEEDS_BASE_URL or base_url:
        # Elsewhere the adapters talk to the network's own API, unless a base URL is
        # given (the Graph, YouTube and LinkedIn adapters honour one): it is checked the
        # same way, so no network's requests go to an internal address.
        if not base_url:
            errors["base_url"] = [
                _("Enter the server's URL (a Bluesky PDS or a Mastodon instance).")
            ]
        else:
            try:
                URLValidator(schemes=["http", "https"])(base_url)
            except ValidationError:
                errors["base_url"] = [_("Enter a valid http(s) URL.")]
            else:
                if problem := _private_address(base_url):
                    errors["base_url"] = [problem]
    if cred_errors := _credentials_errors(network, credentials):
        errors["credentials"] = cred_errors
    if errors:
        raise ValidationError(errors)

    try:
        adapter = adapter_class(network).from_credentials(
            base_url=base_url, handle=handle, credentials=credentials
        )
        return adapter.verify()
    except AuthError as exc:
        raise ValidationError(
            {"credentials": _("The network rejected these credentials: %(reason)s") % _why(exc)}
        ) from exc
    except RateLimited as exc:
        raise ValidationError(
            {
                "base_url": _("The server is limiting requests; try again after %(when)s.")
                % {"when": exc.reset_at.isoformat(timespec="seconds")}
            }
        ) from exc
    except NetworkError as exc:
        raise ValidationError(
            {"base_url": _("The server could not be reached: %(reason)s") % _why(exc)}
        ) from exc


def _why(exc: Exception) -> dict[str, str]:
    """A reason to show, never the remote server's words (its body could be anything,
    e.g. an internal page)."""
    if isinstance(exc, AuthError):
        reason = _("the login was refused")
    elif isinstance(exc, InvalidRequest):
        reason = _("the server refused the request")
    elif isinstance(exc, TransientError):
        reason = _("no answer, or an error on the server")
    else:
        reason = _("an unexpected answer")
    return {"reason": reason}


def _private_address(url: str) -> str:
    """Why ``url`` may not be used ("" when it may): its host resolves to a private,
    loopback, link-local or otherwise internal address and
    ``MOMENTO_ALLOW_PRIVATE_NETWORKS`` is off (server-side request forgery)."""
    if settings.MOMENTO_ALLOW_PRIVATE_NETWORKS:
        return ""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return _("The server's name could not be resolved.")
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return _(
                "This server is on a private or local network address; Momento does not "
                "connect to those."
            )
    return ""


def _normalise_handle(handle: str) -> str:
    return (handle or "").strip().lstrip("@")


def socialaccount_connect(
    *,
    network: str,
    kind: str,
    handle: str,
    base_url: str = "",
    credentials: dict,
    user: AbstractBaseUser | None = None,
    actor: AbstractBaseUser | None,
) -> SocialAccount:
    """Connect one of our accounts: validate, log in to the network, store it (the
    credentials encrypted) and queue its first sync and backfill after commit.

    A personal account needs the staff member it belongs to; a brand account has none.
    Raises ``ValidationError`` (field messages) and stores nothing when the network
    rejects the credentials or cannot be reached. ``actor`` is who connected it (logged).
    """
    handle = _normalise_handle(handle)
    base_url = (base_url or "").strip().rstrip("/")
    errors: dict[str, str] = {}
    if kind not in SocialAccount.Kind.values:
        errors["kind"] = _("Choose brand or personal.")
    elif kind == SocialAccount.Kind.PERSONAL and user is None:
        errors["user"] = _("A personal account belongs to a staff member: choose one.")
    elif kind == SocialAccount.Kind.PERSONAL and not user.is_active:
        errors["user"] = _("This staff member's login is disabled.")
    elif kind == SocialAccount.Kind.BRAND and user is not None:
        errors["user"] = _("A brand account belongs to no staff member.")
    if network in Network.values and handle and _handle_taken(network, handle):
        errors["handle"] = _("This account is already connected.")
    if errors:
        raise ValidationError(errors)

    author = socialaccount_verify(
        network=network, handle=handle, base_url=base_url, credentials=credentials
    )
    account = _socialaccount_store(
        network=network,
        kind=kind,
        handle=author.handle or handle,
        external_id=author.external_id,
        base_url=base_url,
        credentials={k: str(v).strip() for k, v in credentials.items()},
        user=user,
    )
    logger.info("social account %s connected by %s", account.pk, actor)
    return account


def _handle_taken(network: str, handle: str) -> bool:
    return SocialAccount.objects.filter(network=network, handle__iexact=handle).exists()


@transaction.atomic
def _socialaccount_store(*, external_id: str, **fields) -> SocialAccount:
    taken = SocialAccount.objects.filter(network=fields["network"]).filter(
        handle__iexact=fields["handle"]
    )
    if external_id:
        taken = (
            SocialAccount.objects.filter(network=fields["network"], external_id=external_id) | taken
        )
    already = ValidationError({"handle": _("This account is already connected.")})
    if taken.exists():
        raise already
    try:
        with transaction.atomic():  # two managers connecting the same account at once
            account = SocialAccount.objects.create(
                external_id=external_id, state=SocialAccount.State.ACTIVE, **fields
            )
    except IntegrityError:
        raise already from None
    # The first sync and the backfill: both run the streams' first polls (the history
    # the network still serves) from their stored state, queued after commit, one at a
    # time under the account's lease, so neither can leave items to the other.
    sync_queue(account_id=account.pk)
    backfill_queue(account_id=account.pk)
    account.refresh_from_db()
    return account


@transaction.atomic
def socialaccount_reconnect(*, account: SocialAccount, credentials: dict, author: Author) -> None:
    """Store new, verified credentials (``author`` from ``socialaccount_verify``) and
    make the account active again."""
    account.credentials = {k: str(v).strip() for k, v in credentials.items()}
    account.external_id = author.external_id or account.external_id
    account.state = SocialAccount.State.ACTIVE
    account.last_error = ""
    account.save(update_fields=["credentials", "external_id", "state", "last_error", "updated_at"])


@transaction.atomic
def socialaccount_pause(*, account: SocialAccount) -> SocialAccount:
    """Stop syncing the account until it is resumed (it can still send)."""
    SocialAccount.objects.filter(pk=account.pk).update(
        state=SocialAccount.State.PAUSED, updated_at=timezone.now()
    )
    account.refresh_from_db()
    return account


@transaction.atomic
def socialaccount_resume(*, account: SocialAccount) -> SocialAccount:
    """Sync a paused (or failed) account again. An account whose credentials were
    rejected needs new ones (``socialaccount_reconnect``) instead."""
    locked = SocialAccount.objects.select_for_update().get(pk=account.pk)
    if locked.state == SocialAccount.State.NEEDS_RECONNECT:
        raise ValidationError(
            {"state": _("The network rejected this account's credentials: reconnect it.")}
        )
    locked.state = SocialAccount.State.ACTIVE
    locked.next_sync_at = None
    locked.save(update_fields=["state", "next_sync_at", "updated_at"])
    account.refresh_from_db()
    return account


def _inbound(entry: TimelineEntry) -> None:
    if entry.direction != Direction.INBOUND or not entry.network:
        raise ValidationError(_("Only items received on a social network are in the inbox."))


@transaction.atomic
def interaction_assign(*, entry: TimelineEntry, user: AbstractBaseUser | None) -> TimelineEntry:
    """Give the item to ``user`` (None to unassign)."""
    _inbound(entry)
    entry.assigned_to = user
    entry.save(update_fields=["assigned_to"])
    return entry


@transaction.atomic
def interaction_mark_handled(
    *, entry: TimelineEntry, user: AbstractBaseUser, handled: bool = True
) -> TimelineEntry:
    """Take the item out of the inbox (or put it back with ``handled=False``)."""
    _inbound(entry)
    entry.handled_at = timezone.now() if handled else None
    entry.handled_by = user if handled else None
    entry.save(update_fields=["handled_at", "handled_by"])
    return entry


def answer_modes(entry: TimelineEntry) -> tuple[str, ...]:
    """How ``entry`` can be answered: "public" (a reply in its thread) and/or "dm"."""
    if entry.direction != Direction.INBOUND or not entry.network or entry.account_id is None:
        return ()
    modes = []
    if entry.kind in PUBLICLY_ANSWERABLE and entry.external_id:
        modes.append("public")
    if entry.identity_id is not None:
        modes.append("dm")
    return tuple(modes)


def interaction_answer(
    *,
    entry: TimelineEntry,
    text: str,
    private: bool,
    user: AbstractBaseUser,
    idempotency_key: str | None = None,
) -> OutboundMessage:
    """Answer an inbound item through the account that received it, in public (a reply)
    or by DM to its author. Queued in the outbox, which sends it once; the same
    ``idempotency_key`` twice returns the first message. Raises ``ValidationError``."""
    modes = answer_modes(entry)
    mode = "dm" if private else "public"
    if not modes:
        raise ValidationError(
            {"entry": _("This item was not received through one of our accounts.")}
        )
    if mode not in modes:
        message = (
            _("This item cannot be answered in public; send a direct message.")
            if mode == "public"
            else _("The author of this item is unknown, so no direct message can be sent.")
        )
        raise ValidationError({"private": message})
    from .outbox import outbound_queue

    return outbound_queue(
        account=entry.account,
        kind=OutboundMessage.Kind.DM if private else OutboundMessage.Kind.REPLY,
        text=text,
        in_reply_to=entry,
        recipient=entry.identity if private else None,
        contact=entry.contact,
        user=user,
        idempotency_key=idempotency_key or None,
    )

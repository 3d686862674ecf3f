"""The outbox: everything Momento sends to a network goes through here.

``outbound_queue`` records the intent (one row per idempotency key) and queues
``crm.tasks.outbound_send`` after commit; ``outbound_deliver`` claims the row and sends
it once. A send whose outcome is unknown (a timeout after the request left, a worker
killed mid-send) is retried only on networks that deduplicate by key (Mastodon's
``Idempotency-Key``); elsewhere it is marked ``unknown`` for a person to check, never
re-sent blindly. A send that never left this machine (``networks.base.never_sent``: the
name did not resolve, the connection was refused or timed out) is ``failed``: nothing
was posted.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from contacts.models import Contact, SocialIdentity, TimelineEntry
from core.choices import Direction
from core.signals import outbound_confirmed
from lib.text import strip_bidi_controls

from .models import OutboundMessage, SocialAccount
from .networks import adapter_class, adapter_for
from .networks.base import (
    AuthError,
    Author,
    InvalidRequest,
    NetworkAdapter,
    NetworkError,
    RateLimited,
    Sent,
    TransientError,
    never_sent,
)

Kind = OutboundMessage.Kind
State = OutboundMessage.State
Failure = OutboundMessage.Failure

#: A message still ``sending`` after this long was interrupted (see ``outbound_reap``).
STALE_SENDING = timedelta(minutes=10)


@dataclass
class RetryLater(Exception):
    """Raised by ``outbound_deliver`` when the task should run again at ``at``."""

    at: datetime


class SystemKey(str):
    """An idempotency key chosen by Momento itself (a CSAT request, an incident
    statement, a handoff), never by a client: see ``outbound_key``."""


def system_key(name: str) -> SystemKey:
    return SystemKey(name)


def outbound_key(key: str, *, user: AbstractBaseUser | None) -> str:
    """The stored (and sent) form of an idempotency key. A client's key is scoped to
    the user who chose it (``c:<user id>:<key>``), so one user's key never returns or
    blocks another's message; Momento's own keys are ``s:`` + an HMAC under
    ``SECRET_KEY``, which no client can choose or guess."""
    if isinstance(key, SystemKey):
        return "s:" + salted_hmac("momento.crm.outbox", str(key), algorithm="sha256").hexdigest()
    scoped = f"c:{user.pk if user is not None else 0}:{key}"
    if len(scoped) <= 100:
        return scoped
    return f"c:{user.pk if user is not None else 0}:#" + hashlib.sha256(key.encode()).hexdigest()


def socialaccount_may_send(*, account: SocialAccount, user: AbstractBaseUser | None) -> bool:
    """A personal account answers only for its owner and Managers (who may change
    accounts); a brand account for anyone allowed to send. Momento's own messages
    (``user`` None: CSAT, incident statements) go through any account."""
    if account.kind != SocialAccount.Kind.PERSONAL or user is None:
        return True
    return account.user_id == user.pk or user.has_perm("crm.change_socialaccount")


def outbound_queue(
    *,
    account: SocialAccount,
    kind: str,
    text: str = "",
    in_reply_to: TimelineEntry | None = None,
    recipient: SocialIdentity | None = None,
    contact: Contact | None = None,
    user: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboundMessage:
    """Record something to send through ``account`` and queue it after commit.

    Queuing the same ``idempotency_key`` twice (the same user, or Momento itself with a
    ``system_key``) returns the first message unchanged.
    Raises ``ValidationError`` with field messages for what cannot be sent.
    """
    # Nothing sent carries bidirectional overrides or isolates (see lib.text).
    text = strip_bidi_controls(text or "").strip()
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = _("Unknown message kind.")
    if kind in {Kind.REPLY, Kind.DM, Kind.POST} and not text:
        errors["text"] = _("Write something to send.")
    if kind in {Kind.REPLY, Kind.LIKE} and (in_reply_to is None or not in_reply_to.external_id):
        errors["in_reply_to"] = _("Choose a social item to answer.")
    if in_reply_to is not None and in_reply_to.network and in_reply_to.network != account.network:
        errors["account"] = _("This account is on another network than the item.")
    if kind in {Kind.DM, Kind.FOLLOW} and recipient is None:
        errors["recipient"] = _("Choose who receives it.")
    if recipient is not None and recipient.network != account.network:
        errors["account"] = _("This account is on another network than the recipient.")
    if account.state == SocialAccount.State.NEEDS_RECONNECT:
        errors["account"] = _("This account needs to be reconnected before it can send.")
    if not socialaccount_may_send(account=account, user=user):
        errors["account"] = _(
            "This is a staff member's own account: only its owner or a Manager can send through it."
        )
    if errors:
        raise ValidationError(errors)

    if contact is None:
        contact = (in_reply_to.contact if in_reply_to else None) or (
            recipient.contact if recipient else None
        )
    key = outbound_key(idempotency_key or uuid.uuid4().hex, user=user)
    try:
        with transaction.atomic():
            message, created = OutboundMessage.objects.get_or_create(
                idempotency_key=key,
                defaults={
                    "account": account,
                    "kind": kind,
                    "text": text,
                    "in_reply_to": in_reply_to,
                    "recipient": recipient,
                    "contact": contact,
                    "created_by": user,
                    "not_before": not_before,
                },
            )
    except IntegrityError:
        message, created = OutboundMessage.objects.get(idempotency_key=key), False
    if created:
        _schedule(message)
    return message


def _schedule(message: OutboundMessage) -> None:
    from .tasks import outbound_send

    eta = message.not_before if message.not_before and message.not_before > timezone.now() else None
    transaction.on_commit(lambda: outbound_send.apply_async((message.pk,), eta=eta))


def outbound_deliver(*, message_id: int) -> OutboundMessage | None:
    """Send one queued message, once. Returns it, or None if another worker has it or it
    is no longer pending. Raises ``RetryLater`` for a rate limit or a retryable error."""
    now = timezone.now()
    claimed = OutboundMessage.objects.filter(pk=message_id, state=State.PENDING).update(
        state=State.SENDING,
        attempts=F("attempts") + 1,
        last_error="",
        failure="",
        sending_since=now,
    )
    if not claimed:
        return None
    message = OutboundMessage.objects.select_related(
        "account", "in_reply_to", "recipient", "contact"
    ).get(pk=message_id)
    if message.not_before and message.not_before > now:
        _set_state(message, State.PENDING)
        raise RetryLater(at=message.not_before)
    adapter = adapter_for(message.account)
    latest = dm_thread_latest(message) if message.kind == Kind.DM else None
    try:
        sent = _send(adapter, message, latest)
    except RateLimited as exc:
        _set_state(
            message,
            State.PENDING,
            error=str(exc),
            failure=Failure.RATE_LIMITED,
            params={"at": timezone.localtime(exc.reset_at).strftime("%H:%M")},
        )
        raise RetryLater(at=exc.reset_at) from exc
    except TransientError as exc:
        # Nothing left this machine (DNS, refused, connect timeout, TLS): it failed and
        # nothing was posted. Otherwise the network may have posted it: its outcome is
        # unknown, and only a network that deduplicates by key is sent it again.
        unsent = never_sent(exc)
        if not unsent and not message.maybe_posted:
            message.maybe_posted = True
            message.save(update_fields=["maybe_posted"])
        failure = Failure.NO_ANSWER if message.maybe_posted else Failure.UNREACHABLE
        if adapter.idempotent_sends and message.attempts < 5:
            _set_state(message, State.PENDING, error=str(exc), failure=failure)
            raise RetryLater(at=now + timedelta(seconds=30 * 2**message.attempts)) from exc
        state = State.UNKNOWN if message.maybe_posted else State.FAILED
        _set_state(message, state, error=str(exc), failure=failure)
        return message
    except AuthError as exc:
        SocialAccount.objects.filter(pk=message.account_id).update(
            state=SocialAccount.State.NEEDS_RECONNECT, last_error=str(exc)
        )
        _set_state(message, State.FAILED, error=str(exc), failure=Failure.RECONNECT)
        return message
    except (InvalidRequest, NetworkError) as exc:
        _set_state(message, State.FAILED, error=str(exc), failure=Failure.REFUSED)
        return message
    _record_sent(message, sent, thread_of=latest or message.in_reply_to)
    return message


def _send(adapter: NetworkAdapter, message: OutboundMessage, latest: TimelineEntry | None) -> Sent:
    key = message.network_key
    if message.kind == Kind.REPLY:
        return adapter.reply(
            in_reply_to=message.in_reply_to.external_id, text=message.text, idempotency_key=key
        )
    if message.kind == Kind.DM:
        recipient = message.recipient
        reply_to = message.in_reply_to
        if (
            latest is None
            and reply_to is not None
            and reply_to.kind != Kind.DM
            and adapter.private_replies
        ):
            # Meta: with no conversation yet, a private reply to the comment opens the
            # person's thread with us.
            return adapter.private_reply(
                comment_id=reply_to.external_id,
                recipient=Author(external_id=recipient.external_id, handle=recipient.handle),
                text=message.text,
            )
        return adapter.send_dm(
            recipient=Author(external_id=recipient.external_id, handle=recipient.handle),
            text=message.text,
            thread_id=latest.thread_id if latest else "",
            in_reply_to=latest.external_id if latest else "",
            idempotency_key=key,
        )
    if message.kind == Kind.POST:
        return adapter.post(text=message.text, idempotency_key=key)
    if message.kind == Kind.LIKE:
        return adapter.like(external_id=message.in_reply_to.external_id)
    recipient = message.recipient
    return adapter.follow(author=Author(external_id=recipient.external_id, handle=recipient.handle))


def dm_thread_latest(message: OutboundMessage) -> TimelineEntry | None:
    """The latest message, as of sending, of the DM conversation ``message`` continues.

    A DM continues the conversation of the DM it answers; with none (a handoff after a
    public complaint, a CSAT link queued before the handoff DM left) it continues the
    account's newest conversation with the same person. Only a DM's thread is a
    conversation: a public post's is its thread of posts. Read when sending, not when
    queuing, so a message queued behind another (the CSAT link behind the closing
    message) answers the one that left before it."""
    anchor = message.in_reply_to if message.in_reply_to_id else None
    if anchor is not None and anchor.kind != Kind.DM:
        anchor = None
    contact_id = anchor.contact_id if anchor is not None else message.contact_id
    if contact_id is None:
        return anchor
    dms = TimelineEntry.objects.filter(
        account_id=message.account_id, contact_id=contact_id, kind=Kind.DM
    ).exclude(external_id="")
    if anchor is not None and anchor.thread_id:
        dms = dms.filter(thread_id=anchor.thread_id)
    return dms.order_by("-occurred_at", "-id").first() or anchor


def _set_state(
    message: OutboundMessage,
    state: str,
    *,
    error: str = "",
    failure: str = "",
    params: dict | None = None,
) -> None:
    message.state = state
    message.last_error = error
    message.failure = failure
    message.failure_params = params or {}
    message.save(update_fields=["state", "last_error", "failure", "failure_params"])


@transaction.atomic
def _record_sent(message: OutboundMessage, sent: Sent, *, thread_of: TimelineEntry | None) -> None:
    entry = None
    if message.contact_id:
        reply_to = message.in_reply_to
        entry = TimelineEntry.objects.create(
            contact_id=message.contact_id,
            kind=message.kind,
            network=message.account.network,
            external_id=sent.external_id
            if message.kind in {Kind.REPLY, Kind.DM, Kind.POST}
            else "",
            text=message.text,
            url=sent.url,
            direction=Direction.OUTBOUND,
            account=message.account,
            in_reply_to=thread_of.external_id if thread_of else "",
            thread_id=sent.thread_id or (thread_of.thread_id if thread_of else ""),
            created_by=message.created_by,
            occurred_at=timezone.now(),
            raw=sent.raw,
        )
        if reply_to is not None and reply_to.handled_at is None:
            TimelineEntry.objects.filter(pk=reply_to.pk).update(
                handled_at=timezone.now(), handled_by=message.created_by
            )
    message.state = State.SENT
    message.external_id = sent.external_id
    message.url = sent.url
    message.entry = entry
    message.sent_at = timezone.now()
    message.failure, message.failure_params, message.last_error = "", {}, ""
    message.save(
        update_fields=[
            "state",
            "external_id",
            "url",
            "entry",
            "sent_at",
            "failure",
            "failure_params",
            "last_error",
        ]
    )
    outbound_confirmed.send(sender=OutboundMessage, message_id=message.pk, sent_at=message.sent_at)


def outbound_reap(*, now: datetime | None = None) -> int:
    """Messages stuck in ``sending`` (a worker died mid-send): retry where the network
    deduplicates by key, else mark ``unknown``. Returns how many were touched."""
    now = now or timezone.now()
    stale = OutboundMessage.objects.filter(state=State.SENDING).filter(
        Q(sending_since__lt=now - STALE_SENDING)
        | Q(sending_since__isnull=True, created_at__lt=now - STALE_SENDING)
    )
    touched = 0
    for message in stale.select_related("account"):
        message.maybe_posted = True
        message.save(update_fields=["maybe_posted"])
        if adapter_class(message.account.network).idempotent_sends:
            _set_state(
                message,
                State.PENDING,
                error="Interrupted; retried with the same key.",
                failure=Failure.INTERRUPTED,
            )
            _schedule(message)
        else:
            _set_state(
                message,
                State.UNKNOWN,
                error="Interrupted while sending: check the network before sending again.",
                failure=Failure.INTERRUPTED,
            )
        touched += 1
    return touched


@transaction.atomic
def outbound_retry(*, message: OutboundMessage, text: str | None = None) -> OutboundMessage:
    """Send a failed message, or one whose outcome is unknown, again: as it was
    (**Retry**), or with ``text`` (**Edit and resend**, under a new network key).

    The same row is queued again, so the ticket, post or answer it belongs to shows
    one message. Raises ``ValidationError`` with field messages."""
    locked = (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("account")
        .get(pk=message.pk)
    )
    errors: dict[str, str] = {}
    if not locked.needs_attention:
        errors["state"] = _("Only a message that failed or whose outcome is unknown is resent.")
    if locked.account.state == SocialAccount.State.NEEDS_RECONNECT:
        errors["account"] = _("This account needs to be reconnected before it can send.")
    # A person sends it again (after checking the network, as the sentence asked):
    # what this send does is said afresh.
    fields = [
        "state",
        "attempts",
        "last_error",
        "failure",
        "failure_params",
        "not_before",
        "maybe_posted",
    ]
    if text is not None:
        text = text.strip()
        if not text and locked.kind in {Kind.REPLY, Kind.DM, Kind.POST}:
            errors["text"] = _("Write something to send.")
        elif text != locked.text:
            locked.text = text
            locked.resends += 1
            fields += ["text", "resends"]
    if errors:
        raise ValidationError(errors)
    locked.state, locked.attempts, locked.not_before = State.PENDING, 0, None
    locked.last_error, locked.failure, locked.failure_params = "", "", {}
    locked.maybe_posted = False
    locked.save(update_fields=fields)
    _schedule(locked)
    for name in ("state", "text", "resends", "attempts", "last_error", "failure", "maybe_posted"):
        setattr(message, name, getattr(locked, name))
    return locked

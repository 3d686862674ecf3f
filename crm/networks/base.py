"""The one interface every network adapter implements, and the normalised shapes it
returns. Adapters raise only the errors defined here; the sync engine decides what to do
with each (retry at ``RateLimited.reset_at``, back off on ``TransientError``, mark the
account ``needs_reconnect`` on ``AuthError``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from core.choices import Direction


@dataclass(frozen=True)
class Author:
    """A person on a network, keyed by the network's stable user id."""

    external_id: str
    handle: str
    display_name: str = ""
    profile_url: str = ""
    avatar_url: str = ""
    follower_count: int | None = None


@dataclass(frozen=True)
class Interaction:
    """One normalised item: a mention, reply, quote, follow, like, repost, DM or post.

    ``external_id`` is unique per network (a post's URI/id, a notification id for a
    like/follow/repost, a DM message id). ``kind`` is one of core.choices.EntryKind's
    social values. ``direction`` is ``Direction.INBOUND`` for what others did,
    ``Direction.OUTBOUND`` for what our account did (e.g. a DM we sent from the
    network's own app).
    """

    network: str
    external_id: str
    kind: str
    author: Author
    occurred_at: datetime
    text: str = ""
    url: str = ""
    in_reply_to: str = ""
    thread_id: str = ""
    direction: str = Direction.INBOUND
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FailedItem:
    """An item the adapter could not normalise; kept with its reason, never dropped."""

    external_id: str
    reason: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class FetchResult:
    """One page of a stream. ``cursor`` is what to pass next time (store it only after
    the page is stored); ``has_more`` says whether another page is ready now."""

    items: list[Interaction]
    failed: list[FailedItem]
    cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class Sent:
    """What a network answered for something we posted or sent."""

    external_id: str
    url: str = ""
    thread_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class NetworkError(Exception):
    """Base class; ``str(exc)`` is a reason fit to show a manager."""


class AuthError(NetworkError):
    """The network rejected the credentials: reconnect, do not retry."""


class RateLimited(NetworkError):
    def __init__(self, message: str, *, reset_at: datetime):
        super().__init__(message)
        self.reset_at = reset_at


class TransientError(NetworkError):
    """Timeout, connection error or 5xx: retry with backoff."""


class InvalidRequest(NetworkError):
    """The network refused this request for good (deleted post, blocked user, too long)."""


class NetworkAdapter(Protocol):
    """What every module in ``crm.networks`` offers as its ``Adapter`` class; callers
    use nothing else (``crm.networks.adapter_class`` finds the module)."""

    network: ClassVar[str]
    #: Streams ``fetch`` understands, e.g. ("notifications", "dms").
    streams: ClassVar[tuple[str, ...]]
    #: Whether the network deduplicates sends by ``idempotency_key`` (Mastodon's
    #: ``Idempotency-Key``). Only then does the outbox retry a send whose outcome is
    #: unknown; elsewhere such a send is marked ``unknown`` and never sent again.
    idempotent_sends: ClassVar[bool]

    @classmethod
    def from_account(cls, account: Any) -> NetworkAdapter: ...

    @classmethod
    def from_credentials(
        cls, *, base_url: str, handle: str, credentials: dict
    ) -> NetworkAdapter: ...

    def updated_credentials(self) -> dict | None:
        """Credentials to store after a run when the adapter refreshed them (a new
        Bluesky session, so the next run need not log in again), else None."""
        ...

    def verify(self) -> Author:
        """Log in and return our own account's identity (raises AuthError/TransientError)."""
        ...

    def fetch(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Items newer than ``cursor`` (or the newest page when None), oldest first."""
        ...

    def backfill(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Older history, page by page, going back from ``cursor``."""
        ...

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent: ...

    def send_dm(
        self,
        *,
        recipient: Author,
        text: str,
        thread_id: str,
        idempotency_key: str,
        in_reply_to: str = "",
    ) -> Sent:
        """Send a DM that continues the conversation ``thread_id`` (Bluesky's ``convoId``,
        X's ``dm_conversation_id``) whose latest message is ``in_reply_to`` (Mastodon
        replies to that status, visibility direct); both empty start a new one."""
        ...

    def post(self, *, text: str, idempotency_key: str) -> Sent: ...

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Public posts matching ``query`` (listening); items have kind ``EntryKind.POST``."""
        ...

    def like(self, *, external_id: str) -> Sent: ...

    def follow(self, *, author: Author) -> Sent: ...

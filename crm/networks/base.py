"""The one interface every network adapter implements, and the normalised shapes it
returns. Adapters raise only the errors defined here; the sync engine decides what to do
with each (retry at ``RateLimited.reset_at``, back off on ``TransientError``, mark the
account ``needs_reconnect`` on ``AuthError``)."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar, Protocol

import httpx
import requests
import urllib3.exceptions

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
    """Base class; ``str(exc)`` is a reason fit to show a manager (in English, for logs).
    ``code`` and ``params`` say the same for a translated message (crm.sync's
    ``stream_error_text``): codes ``server_error`` {network, status}, ``chat_error``
    {status}, ``unreachable`` {network}, ``rate_limited`` {network}, ``refused``
    {network}, ``no_dm_access``, ``auth`` {network}."""

    default_code: ClassVar[str] = "error"
    #: Set by an adapter when the failure came before the request that sends (a login
    #: that timed out, say): whatever the transport said, nothing was posted.
    before_sending: bool = False

    def __init__(self, message: str = "", *, code: str = "", params: dict | None = None):
        super().__init__(message)
        self.code = code or self.default_code
        self.params = dict(params or {})


class AuthError(NetworkError):
    """The network rejected the credentials: reconnect, do not retry."""

    default_code = "auth"


class RateLimited(NetworkError):
    default_code = "rate_limited"

    def __init__(
        self, message: str, *, reset_at: datetime, code: str = "", params: dict | None = None
    ):
        super().__init__(message, code=code, params=params)
        self.reset_at = reset_at


class TransientError(NetworkError):
    """Timeout, connection error or 5xx: retry with backoff. Whether the request had
    left this machine is read from the errors it was raised from (``never_sent``), so
    adapters raise it ``from`` the SDK's or transport's error."""

    default_code = "unreachable"


#: Transport errors raised before a request could leave this machine: the name did not
#: resolve, the connection was refused or timed out, the TLS handshake failed (urllib3
#: and requests report every TLS error as ``SSLError``; they happen at the handshake).
_NEVER_SENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    requests.exceptions.ConnectTimeout,
    requests.exceptions.SSLError,
    urllib3.exceptions.NewConnectionError,  # NameResolutionError is one
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.SSLError,
    socket.gaierror,
    ConnectionRefusedError,
)
#: Transport errors raised once the request may have reached the network: no answer in
#: time, the connection dropped while sending or waiting. These win over the above.
_MAYBE_SENT: tuple[type[BaseException], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    requests.exceptions.ReadTimeout,
    urllib3.exceptions.ReadTimeoutError,
    urllib3.exceptions.ProtocolError,
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
)


def never_sent(exc: BaseException) -> bool:
    """Whether ``exc`` (an adapter's ``TransientError`` and the SDK and transport errors it
    was raised from) shows the request never left this machine, so the network cannot
    have acted on it, or the adapter marked it ``before_sending``. False when anything in
    the chain says it may have been sent, or when nothing says either (an answer such as
    a 5xx came from the network)."""
    verdict = False
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        error = stack.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if getattr(error, "before_sending", False):
            return True
        if isinstance(error, _MAYBE_SENT):
            return False
        if isinstance(error, _NEVER_SENT):
            verdict = True
        # SDKs chain with ``from`` or inside ``except``; urllib3 keeps the cause in
        # ``reason``, requests puts urllib3's error in its args.
        linked = (error.__cause__, error.__context__, getattr(error, "reason", None), *error.args)
        stack.extend(item for item in linked if isinstance(item, BaseException))
    return verdict


class InvalidRequest(NetworkError):
    """The network refused this request for good (deleted post, blocked user, too long)."""

    default_code = "refused"


# -- the one-page sync protocol ---------------------------------------------------------


@dataclass(frozen=True)
class StreamState:
    """Where one stream stands, as stored on its ``crm.SyncStream`` row.

    ``cursor`` is the key of the newest item stored with everything before it. A
    newest-first network (Bluesky, X, Mastodon's first poll) catches up by a *walk*:
    ``walking`` while it runs, ``position`` the network's token for the next (older)
    page, ``stop`` the key it walks back to (``""``: no cursor yet, so the history the
    network serves, at most ``history_pages`` pages), ``top``/``top_at`` the newest key
    it saw (the cursor once the gap is closed), ``oldest_at`` the oldest item it saw,
    ``pages`` pages read. A forward network (Mastodon ``min_id``) only moves ``cursor``.
    """

    cursor: str = ""
    cursor_at: datetime | None = None
    walking: bool = False
    position: str = ""
    stop: str = ""
    top: str = ""
    top_at: datetime | None = None
    oldest_at: datetime | None = None
    pages: int = 0
    #: Pages a first poll reads at most (``MOMENTO_BACKFILL_MAX_PAGES``).
    history_pages: int = 40


@dataclass(frozen=True)
class Gap:
    """Part of a walk the network no longer serves: items between ``since`` (the stored
    cursor's time) and ``until`` (the oldest item the walk reached) may be missing;
    ``count`` when the network says how many, else None."""

    since: datetime | None
    until: datetime | None
    count: int | None = None


@dataclass
class Page:
    """One page of a stream and the stream's state after it (stored in the page's
    transaction). ``more``: another page is ready now. ``gap``: the walk ran out of
    pages before reaching its stop key. ``history_limited``: a first poll stopped at its
    page budget with older history left on the network."""

    items: list[Interaction]
    failed: list[FailedItem]
    state: StreamState
    more: bool
    gap: Gap | None = None
    history_limited: bool = False


@dataclass(frozen=True)
class Keyed:
    """A row of a newest-first page with its sort key (``key`` as stored, ``order`` to
    compare) and time; rows that cannot be keyed have ``order`` None and are kept."""

    row: Any
    key: str = ""
    order: Any = None
    at: datetime | None = None


def walk_back_step(
    state: StreamState, rows: list[Keyed], *, next_position: str | None, order_of
) -> tuple[list[Any], StreamState, bool, Gap | None, bool]:
    """One page of a newest-first walk: which rows to store and the state after them.

    Starts a walk when none runs (stop = the cursor), keeps the rows newer than the stop
    key, and closes the walk (cursor = the newest key seen) when the page reaches the
    stop key, when the network has no older page (a gap if there was a stop key), or
    when a first poll has read ``history_pages`` pages. ``order_of`` turns a stored key
    into something comparable with ``Keyed.order``. Returns (rows, state, more, gap,
    history_limited)."""
    if not state.walking:
        state = replace(
            state,
            walking=True,
            position="",
            stop=state.cursor,
            top="",
            top_at=None,
            oldest_at=None,
            pages=0,
        )
    stop = order_of(state.stop) if state.stop else None
    keep: list[Any] = []
    reached = False
    top, top_order, top_at = state.top, order_of(state.top) if state.top else None, state.top_at
    oldest_at = state.oldest_at
    for row in rows:
        if row.order is not None and stop is not None and row.order <= stop:
            reached = True
            continue
        keep.append(row.row)
        if row.order is not None and (top_order is None or row.order > top_order):
            top, top_order, top_at = row.key, row.order, row.at
        if row.at is not None and (oldest_at is None or row.at < oldest_at):
            oldest_at = row.at
    pages = state.pages + 1
    state = replace(state, top=top, top_at=top_at, oldest_at=oldest_at, pages=pages)
    history_done = not state.stop and pages >= state.history_pages
    if not reached and next_position and not history_done:
        return keep, replace(state, position=next_position), True, None, False
    # The walk ends here. With a stop key it was not reached and the network has no
    # older page: what lay between the cursor and the oldest item seen is gone (unless
    # the network served nothing at all: then nothing happened since the cursor).
    gap = None
    if not reached and state.stop and (rows or pages > 1):
        gap = Gap(since=state.cursor_at, until=oldest_at)
    limited = bool(not state.stop and next_position)
    closed = replace(
        state,
        cursor=top or state.cursor,
        cursor_at=top_at if top else state.cursor_at,
        walking=False,
        position="",
        stop="",
        top="",
        top_at=None,
        oldest_at=None,
        pages=0,
    )
    return keep, closed, False, gap, limited


class NetworkAdapter(Protocol):
    """What every module in ``crm.networks`` offers as its ``Adapter`` class; callers
    use nothing else (``crm.networks.adapter_class`` finds the module)."""

    network: ClassVar[str]
    #: Streams ``fetch_page`` understands, e.g. ("notifications", "dms").
    streams: ClassVar[tuple[str, ...]]
    #: The largest page the network serves per stream.
    max_page: ClassVar[int]
    #: Whether the network deduplicates sends by ``idempotency_key`` (Mastodon's
    #: ``Idempotency-Key``). Only then does the outbox retry a send whose outcome is
    #: unknown; elsewhere such a send is marked ``unknown`` and never sent again.
    idempotent_sends: ClassVar[bool]
    #: Whether a DM answering a public item goes as the network's private reply to it
    #: (Meta's, which opens the Messenger / Direct thread from a comment).
    private_replies: ClassVar[bool]

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

    def fetch_page(self, stream: str, state: StreamState, *, limit: int) -> Page:
        """ONE page of ``stream`` from ``state`` (see :class:`StreamState`): its items and
        the state to store with them. ``limit`` is at most ``max_page``."""
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

    def private_reply(self, *, comment_id: str, recipient: Author, text: str) -> Sent:
        """A private message to the author of ``comment_id``, tied to it (only where
        ``private_replies``; elsewhere ``InvalidRequest``)."""
        ...

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Public posts matching ``query`` (listening); items have kind ``EntryKind.POST``."""
        ...

    def like(self, *, external_id: str) -> Sent: ...

    def follow(self, *, author: Author) -> Sent: ...


def page_from_result(fetch, stream: str, state: StreamState, *, limit: int, network: str) -> Page:
    """A page for adapters whose streams read oldest first from a cursor (Facebook, and
    the walks of YouTube, Instagram and LinkedIn that keep their own state in the cursor,
    ``cursor_walk_step``):
    ``fetch(stream, cursor, limit=…)`` returns a ``FetchResult`` and the stream's cursor
    moves to its cursor. An error names the network (``network``, its brand name)."""
    try:
        result = fetch(stream, state.cursor or None, limit=limit)
    except NetworkError as exc:
        exc.params.setdefault("network", network)
        raise
    moved = replace(state, cursor=result.cursor or state.cursor)
    return Page(result.items, result.failed, moved, more=result.has_more)


def oldest_first(items: list[Interaction]) -> list[Interaction]:
    """``items`` once each (by ``external_id``), oldest first."""
    unique = {i.external_id: i for i in items}
    return sorted(unique.values(), key=lambda i: (i.occurred_at, i.external_id))


def oldest_first_page(
    items: list[Interaction],
    failed: list[FailedItem],
    cursor: str | None,
    limit: int,
    bound: datetime | None = None,
    *,
    waiting: bool = False,
) -> FetchResult:
    """For streams whose cursor is a time (epoch seconds; Meta, LinkedIn): the oldest
    ``limit`` items, never past ``bound`` (the oldest item of a read that could not
    reach the cursor); ``waiting`` says more is left on the network. The cursor is the
    newest time taken (``since`` is inclusive and ingest stores an item once, so an item
    sharing that second is read again, never skipped)."""
    ordered = oldest_first(items)
    more = waiting
    if bound is not None:
        kept = [i for i in ordered if i.occurred_at <= bound]
        more = more or len(kept) < len(ordered)
        ordered = kept
    taken = ordered[:limit]
    more = more or len(ordered) > limit
    next_cursor = str(int(taken[-1].occurred_at.timestamp())) if taken else cursor
    if more and next_cursor == cursor:
        more = False  # a second with more than a page of items: the next poll goes on
    return FetchResult(taken, failed, next_cursor, more)


# -- newest-first walks whose state lives in the stream's cursor -------------------------------

#: One list of a walk: its key (a medium's or post's id; "" for a stream that is one
#: list) and what the adapter needs to read it (a permalink), both strings.
WalkList = tuple[str, str]


@dataclass(frozen=True)
class CursorWalk:
    """Where a newest-first walk stands, kept in the stream's cursor so that each page
    commits it with its items and a walk of any length goes on across runs, after a
    429, a 500 or a kill, from the last page stored.

    A stream is one list (YouTube's threads, mentions) or several (the comments of each
    recent medium or post). Items are new from ``since`` on (epoch seconds, inclusive;
    ingest stores an item once): per list in ``seen`` (the newest time stored from that
    list), else ``floor``. While the walk runs, ``todo`` holds the lists still to read
    (the first is being read), ``token`` the network's token of its next page, ``tops``
    the newest time on each list's first page (its next since) and ``pages`` the pages
    read of the current list.

    Stored as: the digits of ``since`` (a one-list stream at rest, and the time cursors
    of earlier versions, read as ``floor``), else JSON."""

    floor: int | None = None
    seen: dict[str, int] = field(default_factory=dict)
    todo: tuple[WalkList, ...] = ()
    token: str | None = None
    tops: dict[str, int] = field(default_factory=dict)
    pages: int = 0

    @classmethod
    def parse(cls, cursor: str | None) -> CursorWalk:
        if not cursor:
            return cls()
        if cursor.isdigit():
            return cls(floor=int(cursor))
        try:
            data = json.loads(cursor)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        if "todo" not in data and "seen" not in data:
            # A one-list walk as YouTube stored it: since, token, top, pages.
            top = data.get("top")
            return cls(
                floor=_int_or_none(data.get("since")),
                todo=(("", ""),) if data.get("token") else (),
                token=data.get("token") or None,
                tops={"": top} if isinstance(top, int) else {},
                pages=_int_or_none(data.get("pages")) or 0,
            )
        return cls(
            floor=_int_or_none(data.get("floor")),
            seen=_epochs(data.get("seen")),
            todo=tuple(
                (str(t[0]), str(t[1]))
                for t in data.get("todo") or []
                if isinstance(t, list) and len(t) == 2
            ),
            token=data.get("token") or None,
            tops=_epochs(data.get("tops")),
            pages=_int_or_none(data.get("pages")) or 0,
        )

    def dump(self) -> str | None:
        if not self.todo and not self.seen:
            return str(self.floor) if self.floor is not None else None
        data: dict[str, Any] = {"floor": self.floor, "seen": self.seen}
        if self.todo:
            data.update(
                todo=[list(t) for t in self.todo],
                token=self.token,
                tops=self.tops,
                pages=self.pages,
            )
        return json.dumps(data, separators=(",", ":"))

    def since(self, key: str) -> int | None:
        return self.seen.get(key, self.floor)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _epochs(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if _int_or_none(v) is not None}


def _epoch(item: Interaction) -> int:
    return int(item.occurred_at.timestamp())


def cursor_walk_step(
    cursor: str | None,
    *,
    lists,
    read,
    normalise,
    what: str,
    max_pages: int,
    to_since: bool = True,
) -> FetchResult:
    """ONE network page of a newest-first walk whose state is the cursor (see
    :class:`CursorWalk`), its new items oldest first and the cursor to store with them.

    ``lists()`` gives the lists to walk when a walk starts (``[("", "")]`` for a stream
    that is one list); ``read(walk_list, token)`` one page of a list: its rows and the
    token of the next (older) page, or None; ``normalise(row, walk_list)`` a row's
    items, its own first (rows it cannot read are kept as failures naming ``what``).
    A list ends when it has no older page, after ``max_pages`` pages, or (``to_since``)
    at the first row older than its ``since``; without ``to_since`` every page is read
    (Instagram puts a new reply under an old comment). Each list's ``since`` moves, when
    its walk ends, to the newest time on the first page read of it (all of which was
    there when the walk began, so anything the walk missed is newer), and a one-list
    stream then stores plain digits again."""
    walk = CursorWalk.parse(cursor)
    if not walk.todo:
        todo = tuple(lists())
        if not todo:
            return FetchResult([], [], walk.dump(), False)
        # Lists the network no longer shows (the oldest media) are forgotten.
        seen = {k: v for k, v in walk.seen.items() if k in {t[0] for t in todo}}
        walk = replace(walk, seen=seen, todo=todo, token=None, tops={}, pages=0)
    current = walk.todo[0]
    key = current[0]
    since = walk.since(key)
    rows, next_token = read(current, walk.token)
    items: list[Interaction] = []
    failed: list[FailedItem] = []
    reached = False
    top = None
    for row in rows:
        try:
            found = normalise(row, current)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            ident = str(row.get("id") if isinstance(row, dict) else "") or what
            failed.append(
                FailedItem(
                    ident[:200], f"Malformed {what}: {exc}", row if isinstance(row, dict) else {}
                )
            )
            continue
        if not found:
            continue
        items += [i for i in found if since is None or _epoch(i) >= since]
        top = max([top or 0, *(_epoch(i) for i in found)]) or None
        if to_since and since is not None and _epoch(found[0]) < since:
            # Newest first: the rows after this one are older (their new replies, on
            # this page, are still kept), and no older page is read.
            reached = True
    pages = walk.pages + 1
    tops = dict(walk.tops)
    if top is not None and walk.pages == 0:
        # Only the list's first page moves its since: everything on it was there when
        # the walk of the list began, so whatever the walk passes by later (a comment
        # added above its position, a reply under one it read) is newer than that.
        tops[key] = top
    if not reached and next_token and pages < max_pages:
        walk = replace(walk, token=str(next_token), tops=tops, pages=pages)
        return FetchResult(oldest_first(items), failed, walk.dump(), True)
    # This list is done: its since moves to the newest time of its first page.
    known = [t for t in (tops.pop(key, None), since) if t is not None]
    done = max(known) if known else None
    todo = walk.todo[1:]
    if current == ("", "") and not todo and not walk.seen:
        walk = CursorWalk(floor=done)  # a one-list stream at rest: its since, as digits
    else:
        seen = dict(walk.seen)
        if done is not None:
            seen[key] = done
        walk = replace(walk, seen=seen, todo=todo, token=None, tops=tops, pages=0)
    return FetchResult(oldest_first(items), failed, walk.dump(), bool(todo))

"""Facebook Pages, on ``python-facebook-api`` (Meta's Graph API; plumbing in ``meta``).

Streams:

``comments``  comments and replies on the page's recent posts, and visitors' posts on
              the page (kind mention). Our cursor is the ``created_time`` (epoch
              seconds) of the newest item stored; each post's comments are read
              oldest first with ``since=<cursor>``, so a first poll starts from the
              oldest comment the page serves and a burst is read in order, page by page,
              with the cursor never passing a comment that was not read.
``dms``       Messenger conversations; same cursor rule on the messages'
              ``created_time``.

Reactions arrive by webhook (``feed`` changes with ``item=reaction``) as likes; the
Graph API serves reactions without a time, so polling does not read them.

People are keyed per page: Meta gives each person a different id on every page and app
(page-scoped ids), so an author's ``external_id`` is ``<page id>:<user id>``, and a
Messenger thread is ``<page id>:<person's id>`` whether it arrived by polling or by
webhook. Answers: a public reply is a comment on the comment or post; a private reply
(``private_reply``) sends a Messenger message tied to a comment, which opens the thread;
a message in a thread is allowed within 24 hours of the person's last message
(``meta.MessagingWindowClosed`` says so otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from core.choices import Direction, EntryKind, Network

from . import base, meta
from .base import (
    Author,
    FailedItem,
    FetchResult,
    Interaction,
    Page,
    Sent,
    StreamState,
    oldest_first_page,
    page_from_result,
)
from .common import text_of

NETWORK = Network.FACEBOOK
#: Graph serves up to 100 items an edge page.
MAX_LIMIT = 100
POSTS_PER_POLL = 50
MAX_WALK_PAGES = 20
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url,like_count"
POST_FIELDS = "id,message,created_time,updated_time,from{id,name},permalink_url"
MESSAGE_FIELDS = "id,message,created_time,from{id,name},to"


class Adapter:
    network: ClassVar[str] = NETWORK
    streams: ClassVar[tuple[str, ...]] = ("comments", "dms")
    max_page: ClassVar[int] = 100
    idempotent_sends: ClassVar[bool] = False
    private_replies: ClassVar[bool] = True
    name: ClassVar[str] = "Facebook"

    def __init__(self, *, base_url: str, handle: str, credentials: dict, page_id: str = ""):
        self.handle = handle
        self.credentials = dict(credentials or {})
        self.page_id = page_id
        self.graph = meta.Graph(
            name=self.name,
            access_token=self.credentials.get("access_token", ""),
            app_secret=self.credentials.get("app_secret", ""),
            base_url=base_url,
        )

    @classmethod
    def from_account(cls, account: Any) -> Adapter:
        return cls(
            base_url=account.base_url,
            handle=account.handle,
            credentials=account.credentials or {},
            page_id=account.external_id or "",
        )

    @classmethod
    def from_credentials(cls, *, base_url: str, handle: str, credentials: dict) -> Adapter:
        return cls(base_url=base_url, handle=handle, credentials=credentials)

    def updated_credentials(self) -> dict | None:
        return None  # a page token from a long-lived user token does not expire

    # -- identity ---------------------------------------------------------------------

    def verify(self) -> Author:
        me = self.graph.get("me", fields="id,name,username,link,followers_count")
        if not me.get("id"):
            raise base.InvalidRequest("Facebook did not say which page this token is for.")
        self.page_id = str(me["id"])
        return Author(
            external_id=self.page_id,
            handle=text_of(me.get("username")) or self.page_id,
            display_name=text_of(me.get("name")),
            profile_url=text_of(me.get("link")),
            follower_count=me.get("followers_count")
            if isinstance(me.get("followers_count"), int)
            else None,
        )

    def _page(self) -> str:
        if not self.page_id:
            self.verify()
        return self.page_id

    def person(self, user: Any) -> Author:
        """A person as this page sees them (page-scoped id)."""
        if not isinstance(user, dict) or not user.get("id"):
            raise ValueError("item without its author")
        user_id = str(user["id"])
        name = text_of(user.get("name"))
        return Author(
            external_id=f"{self._page()}:{user_id}",
            handle=name or user_id,
            display_name=name,
        )

    # -- reading ----------------------------------------------------------------------

    def fetch_page(self, stream: str, state: StreamState, *, limit: int) -> Page:
        """One page of ``stream`` after ``state.cursor`` (see the module's docstring)."""
        label = Network(self.network).label
        return page_from_result(self._fetch, stream, state, limit=limit, network=label)

    def _fetch(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        limit = max(1, min(limit, MAX_LIMIT))
        since = _since(cursor)
        if stream == "comments":
            return self._comments(since, cursor, limit)
        if stream == "dms":
            return self._dms(since, cursor, limit)
        raise base.InvalidRequest(f"Facebook has no stream {stream!r}")

    def _comments(self, since: int | None, cursor: str | None, limit: int) -> FetchResult:
        page_id = self._page()
        posts = meta.rows(
            self.graph.get(f"{page_id}/feed", fields=POST_FIELDS, limit=POSTS_PER_POLL)
        )
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        bound: datetime | None = None  # read everything up to here, nothing past it
        for post in posts:
            if not isinstance(post, dict) or not post.get("id"):
                failed.append(FailedItem(f"post:{post!r}"[:200], "Malformed post", {}))
                continue
            post_id = str(post["id"])
            try:
                if since is not None and _seconds(post.get("updated_time")) < since:
                    continue
                author = post.get("from") or {}
                if str(author.get("id", "")) not in {"", page_id} and (
                    since is None or _seconds(post.get("created_time")) >= since
                ):
                    items.append(self._visitor_post(post))
            except (ValueError, TypeError, KeyError) as exc:
                failed.append(FailedItem(post_id, f"Malformed post: {exc}", post))
                continue
            params: dict[str, Any] = {
                "fields": COMMENT_FIELDS,
                "filter": "stream",
                "order": "chronological",
                "limit": limit,
            }
            if since is not None:
                params["since"] = since
            page = self.graph.get(f"{post_id}/comments", **params)
            read: list[Interaction] = []
            for comment in meta.rows(page):
                try:
                    read.append(self._comment(comment, post_id))
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    failed.append(
                        FailedItem(
                            str(comment.get("id") if isinstance(comment, dict) else comment)[:200],
                            f"Malformed comment: {exc}",
                            comment if isinstance(comment, dict) else {},
                        )
                    )
            items.extend(read)
            if meta.next_url(page) and read:
                # This post has more: nothing newer than its last comment read is safe yet.
                last = max(i.occurred_at for i in read)
                bound = last if bound is None else min(bound, last)
        return oldest_first_page(items, failed, cursor, limit, bound, waiting=bound is not None)

    def _visitor_post(self, post: dict[str, Any]) -> Interaction:
        return Interaction(
            network=NETWORK,
            external_id=str(post["id"]),
            kind=EntryKind.MENTION,
            author=self.person(post.get("from")),
            occurred_at=meta.parse_meta_time(post.get("created_time")),
            text=text_of(post.get("message")),
            url=text_of(post.get("permalink_url")),
            raw=post,
        )

    def _comment(self, comment: dict[str, Any], post_id: str) -> Interaction:
        if not isinstance(comment, dict) or not comment.get("id"):
            raise ValueError("comment without an id")
        author = comment.get("from") or {}
        ours = str(author.get("id", "")) == self._page()
        parent = (comment.get("parent") or {}).get("id") or post_id
        return Interaction(
            network=NETWORK,
            external_id=str(comment["id"]),
            kind=EntryKind.REPLY,
            author=self.person(author) if not ours else self._me_as_author(),
            occurred_at=meta.parse_meta_time(comment.get("created_time")),
            text=text_of(comment.get("message")),
            url=text_of(comment.get("permalink_url")),
            in_reply_to=str(parent),
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            like_count=comment.get("like_count")
            if isinstance(comment.get("like_count"), int)
            else 0,
            raw=comment,
        )

    def _me_as_author(self) -> Author:
        return Author(external_id=self._page(), handle=self.handle or self._page())

    def _dms(self, since: int | None, cursor: str | None, limit: int) -> FetchResult:
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        bound: datetime | None = None
        payload = self.graph.get(
            f"{self._inbox()}/conversations",
            platform=self.platform,
            fields=f"id,updated_time,participants,messages.limit({limit}){{{MESSAGE_FIELDS}}}",
            limit=25,
        )
        for _ in range(MAX_WALK_PAGES):
            conversations = meta.rows(payload)
            for conversation in conversations:
                try:
                    if since is not None and _seconds(conversation.get("updated_time")) < since:
                        continue
                    read, more = self._conversation(conversation, since, limit)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    failed.append(
                        FailedItem(
                            str(conversation.get("id", ""))[:200]
                            if isinstance(conversation, dict)
                            else "conversation",
                            f"Malformed conversation: {exc}",
                            conversation if isinstance(conversation, dict) else {},
                        )
                    )
                    continue
                items.extend(read)
                if more and read:
                    oldest = min(i.occurred_at for i in read)
                    bound = oldest if bound is None else min(bound, oldest)
            following = meta.next_url(payload)
            last = conversations[-1] if conversations else None
            if (
                not following
                or since is None
                or not isinstance(last, dict)
                or _seconds(last.get("updated_time")) < since
            ):
                break
            payload = self.graph.get(following)
        if bound is not None:
            # Messages come newest first: a thread with more unread pages than we walked
            # is read up to its oldest message read; the next poll goes on from there.
            items = [i for i in items if i.occurred_at >= bound]
        return oldest_first_page(items, failed, cursor, limit, None, waiting=bound is not None)

    #: Graph's ``platform`` for this network's conversations.
    platform: ClassVar[str] = "messenger"

    def _inbox(self) -> str:
        """The Graph object whose conversations and messages are ours."""
        return self._page()

    def _conversation(
        self, conversation: dict[str, Any], since: int | None, limit: int
    ) -> tuple[list[Interaction], bool]:
        if not conversation.get("id"):
            raise ValueError("conversation without an id")
        messages = conversation.get("messages") or {}
        people = [
            p
            for p in meta.rows(conversation.get("participants") or {})
            if isinstance(p, dict) and str(p.get("id")) != self._page()
        ]
        read: list[Interaction] = []
        more = False
        for _ in range(MAX_WALK_PAGES):
            batch = meta.rows(messages)
            stop = False
            for message in batch:
                when = meta.parse_meta_time(message.get("created_time"))
                if since is not None and int(when.timestamp()) < since:
                    stop = True
                    continue
                read.append(self._message(message, people))
            following = meta.next_url(messages)
            if stop or not following or since is None:
                more = bool(following) and not stop and since is not None
                break
            messages = self.graph.get(following)
        else:
            more = True
        return read, more

    def _message(self, message: dict[str, Any], people: list[dict]) -> Interaction:
        if not isinstance(message, dict) or not message.get("id"):
            raise ValueError("message without an id")
        sender = message.get("from") or {}
        ours = str(sender.get("id", "")) == self._page()
        if ours:
            recipients = [
                p for p in meta.rows(message.get("to") or {}) if str(p.get("id")) != self._page()
            ]
            other = (recipients or people or [None])[0]
        else:
            other = sender
        author = self.person(other)
        return Interaction(
            network=self.network,
            external_id=str(message["id"]),
            kind=EntryKind.DM,
            author=author,
            occurred_at=meta.parse_meta_time(message.get("created_time")),
            text=text_of(message.get("message")),
            thread_id=author.external_id,
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            raw=message,
        )

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        raise base.InvalidRequest(
            "Facebook offers no search of public posts, so listening is not available there."
        )

    # -- writing ----------------------------------------------------------------------

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        answer = self.graph.post(f"{in_reply_to}/comments", message=text)
        return self._sent(answer, thread_id="")

    def post(self, *, text: str, idempotency_key: str) -> Sent:
        return self._sent(self.graph.post(f"{self._page()}/feed", message=text), thread_id="")

    def send_dm(
        self,
        *,
        recipient: Author,
        text: str,
        thread_id: str,
        idempotency_key: str,
        in_reply_to: str = "",
    ) -> Sent:
        person = recipient.external_id.rsplit(":", 1)[-1]
        answer = self.graph.post(
            f"{self._inbox()}/messages",
            recipient={"id": person},
            messaging_type="RESPONSE",
            message={"text": text},
        )
        return self._sent(answer, thread_id=f"{self._page()}:{person}", key="message_id")

    def private_reply(self, *, comment_id: str, recipient: Author, text: str) -> Sent:
        """Meta's private reply: a message to the author of ``comment_id`` that opens
        (or continues) their Messenger thread with the page."""
        answer = self.graph.post(
            f"{self._inbox()}/messages",
            recipient={"comment_id": comment_id},
            message={"text": text},
        )
        person = str(answer.get("recipient_id") or recipient.external_id.rsplit(":", 1)[-1])
        return self._sent(answer, thread_id=f"{self._page()}:{person}", key="message_id")

    def like(self, *, external_id: str) -> Sent:
        self.graph.post(f"{external_id}/likes")
        return Sent(external_id=external_id)

    def follow(self, *, author: Author) -> Sent:
        raise base.InvalidRequest("A Facebook page cannot follow people.")

    def _sent(self, answer: dict[str, Any], *, thread_id: str, key: str = "id") -> Sent:
        sent_id = answer.get(key) or answer.get("id")
        if not sent_id:
            raise base.TransientError("Facebook accepted the request but returned no id.")
        return Sent(
            external_id=str(sent_id),
            url=f"https://www.facebook.com/{sent_id}" if key == "id" else "",
            thread_id=thread_id,
            raw=answer,
        )

    # -- webhooks ---------------------------------------------------------------------

    def webhook_items(self, payload: dict[str, Any]) -> tuple[list[Interaction], list[FailedItem]]:
        """Items in a ``page`` webhook body for this page: feed comments, visitor posts
        and reactions (as likes), and Messenger messages."""
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for entry in payload.get("entry") or []:
            if not isinstance(entry, dict) or str(entry.get("id", "")) != self._page():
                continue
            for change in entry.get("changes") or []:
                try:
                    item = self._feed_change(change)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    failed.append(_failed_change(change, exc))
                    continue
                if item is not None:
                    items.append(item)
            for event in entry.get("messaging") or []:
                try:
                    item = self._messaging_event(event)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    failed.append(_failed_change(event, exc))
                    continue
                if item is not None:
                    items.append(item)
        return items, failed

    def _feed_change(self, change: dict[str, Any]) -> Interaction | None:
        if change.get("field") != "feed":
            return None
        value = change.get("value") or {}
        if value.get("verb") not in {"add", None}:
            return None
        item = value.get("item")
        author = value.get("from") or {}
        if str(author.get("id", "")) == self._page():
            return None  # our own comment or reaction: the outbox stored it
        when = meta.parse_meta_time(value.get("created_time"))
        if item == "comment":
            return Interaction(
                network=NETWORK,
                external_id=str(value["comment_id"]),
                kind=EntryKind.REPLY,
                author=self.person(author),
                occurred_at=when,
                text=text_of(value.get("message")),
                in_reply_to=str(value.get("parent_id") or value.get("post_id") or ""),
                raw=value,
            )
        if item in {"post", "status"}:
            return Interaction(
                network=NETWORK,
                external_id=str(value["post_id"]),
                kind=EntryKind.MENTION,
                author=self.person(author),
                occurred_at=when,
                text=text_of(value.get("message")),
                raw=value,
            )
        if item == "reaction":
            person = self.person(author)
            return Interaction(
                network=NETWORK,
                external_id=f"{value['post_id']}/reaction/{person.external_id}",
                kind=EntryKind.LIKE,
                author=person,
                occurred_at=when,
                in_reply_to=str(value.get("comment_id") or value["post_id"]),
                raw=value,
            )
        return None

    def _messaging_event(self, event: dict[str, Any]) -> Interaction | None:
        message = event.get("message")
        if not isinstance(message, dict) or not message.get("mid"):
            return None  # deliveries, reads, postbacks
        sender = str((event.get("sender") or {}).get("id", ""))
        recipient = str((event.get("recipient") or {}).get("id", ""))
        ours = message.get("is_echo") or sender == self._page()
        person = self.person({"id": recipient if ours else sender})
        return Interaction(
            network=self.network,
            external_id=str(message["mid"]),
            kind=EntryKind.DM,
            author=person,
            occurred_at=meta.parse_meta_time(event.get("timestamp")),
            text=text_of(message.get("text")),
            thread_id=person.external_id,
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            raw=event,
        )


def _since(cursor: str | None) -> int | None:
    if cursor and cursor.isdigit():
        return int(cursor)
    return None


def _seconds(value: Any) -> int:
    return int(meta.parse_meta_time(value).timestamp())


def _failed_change(change: Any, exc: Exception) -> FailedItem:
    value = change.get("value") if isinstance(change, dict) else None
    ident = ""
    if isinstance(value, dict):
        ident = str(value.get("comment_id") or value.get("post_id") or value.get("id") or "")
    elif isinstance(change, dict):
        ident = str((change.get("message") or {}).get("mid") or "")
    return FailedItem(
        ident or "webhook",
        f"Malformed webhook event: {exc}",
        change if isinstance(change, dict) else {},
    )

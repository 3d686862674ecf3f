"""Instagram professional accounts, on ``python-facebook-api`` (Instagram Graph API
through the Facebook page the account is linked to; plumbing in ``meta``).

Streams:

``comments``  comments and their replies on the account's recent media that have
              comments. Instagram serves them newest first, replies nested under their
              comment, with no ``since``: each medium's comments edge is walked to its
              end (a new reply can sit under an old comment), one Graph page per
              stored page, and what is newer than that medium's since is kept.
``mentions``  media that tag the account (``/tags``), kind mention, walked back to the
              cursor.

Both walks keep their state in the stream's cursor (``base.cursor_walk_step``: the media
left, the ``after`` cursor of the next page, a since per medium), so a walk interrupted
by a 429, a 500 or a kill goes on from the last page stored.
``dms``       Instagram Direct conversations (the page's conversations with
              ``platform=instagram``), as on Facebook.

People are keyed per account (Instagram-scoped ids): ``<account id>:<user id>``, with the
username as handle. A public reply answers a comment (``/replies``); a private reply
opens the person's Direct thread from their comment; messages in a thread follow Meta's
24-hour window. Instagram's API cannot like, follow, or post without an image, and its
hashtag search returns media without their authors, so listening is not offered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from core.choices import Direction, EntryKind, Network

from . import base, facebook, meta
from .base import (
    Author,
    FetchResult,
    Interaction,
    Sent,
)
from .common import text_of

NETWORK = Network.INSTAGRAM
MEDIA_PER_POLL = 50
COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},parent_id,like_count"
MESSAGE_FIELDS = "id,message,created_time,from{id,username},to"


class Adapter(facebook.Adapter):
    network: ClassVar[str] = NETWORK
    streams: ClassVar[tuple[str, ...]] = ("comments", "mentions", "dms")
    idempotent_sends: ClassVar[bool] = False
    name: ClassVar[str] = "Instagram"
    platform: ClassVar[str] = "instagram"

    def verify(self) -> Author:
        me = self.graph.get(
            "me",
            fields="id,instagram_business_account{id,username,name,followers_count,profile_picture_url}",
        )
        account = me.get("instagram_business_account")
        if not isinstance(account, dict) or not account.get("id"):
            raise base.InvalidRequest(
                "This token's Facebook page has no Instagram professional account linked to it."
            )
        self.page_id = str(account["id"])
        return Author(
            external_id=self.page_id,
            handle=text_of(account.get("username")) or self.page_id,
            display_name=text_of(account.get("name")),
            avatar_url=text_of(account.get("profile_picture_url")),
            follower_count=account.get("followers_count")
            if isinstance(account.get("followers_count"), int)
            else None,
        )

    def person(self, user: Any) -> Author:
        if not isinstance(user, dict) or not user.get("id"):
            raise ValueError("item without its author")
        username = text_of(user.get("username"))
        return Author(
            external_id=f"{self._page()}:{user['id']}",
            handle=username or str(user["id"]),
            display_name=username,
            profile_url=f"https://www.instagram.com/{username}/" if username else "",
        )

    # -- reading ----------------------------------------------------------------------

    def _fetch(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        limit = max(1, min(limit, facebook.MAX_LIMIT))
        if stream == "comments":
            return self._ig_comments(cursor, limit)
        if stream == "mentions":
            return self._ig_mentions(cursor, limit)
        if stream == "dms":
            return self._dms(facebook._since(cursor), cursor, limit)
        raise base.InvalidRequest(f"Instagram has no stream {stream!r}")

    def _ig_comments(self, cursor: str | None, limit: int) -> FetchResult:
        """One page of the comments walk: the recent media with comments, each medium's
        comments edge read page by page to its end (a new reply can sit under an old
        comment on the last page), what is newer than the medium's own since handed
        over; the walk's state is the cursor (``base.cursor_walk_step``)."""

        def media() -> list[base.WalkList]:
            found = meta.rows(
                self.graph.get(
                    f"{self._page()}/media",
                    fields="id,caption,timestamp,permalink,comments_count",
                    limit=MEDIA_PER_POLL,
                )
            )
            return [
                (str(m["id"]), text_of(m.get("permalink")))
                for m in found
                if isinstance(m, dict) and m.get("id") and m.get("comments_count")
            ]

        def read(medium: base.WalkList, after: str | None):
            return meta.edge_page(
                self.graph,
                f"{medium[0]}/comments",
                fields=f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}",
                limit=limit,
                after=after,
            )

        return base.cursor_walk_step(
            cursor,
            lists=media,
            read=read,
            normalise=lambda comment, medium: self._comment_and_replies(comment, *medium),
            what="comment",
            max_pages=facebook.MAX_WALK_PAGES,
            to_since=False,
        )

    def _comment_and_replies(
        self, comment: dict[str, Any], media_id: str, permalink: str
    ) -> list[Interaction]:
        found = [self._ig_comment(comment, media_id, permalink)]
        for reply in meta.rows(comment.get("replies") or {}):
            found.append(self._ig_comment(reply, str(comment["id"]), permalink))
        return found

    def _ig_comment(self, comment: dict[str, Any], parent: str, permalink: str) -> Interaction:
        if not isinstance(comment, dict) or not comment.get("id"):
            raise ValueError("comment without an id")
        author = comment.get("from") or {
            "id": comment.get("username"),
            "username": comment.get("username"),
        }
        ours = str(author.get("id", "")) == self._page()
        return Interaction(
            network=NETWORK,
            external_id=str(comment["id"]),
            kind=EntryKind.REPLY,
            author=self._me_as_author() if ours else self.person(author),
            occurred_at=meta.parse_meta_time(comment.get("timestamp")),
            text=text_of(comment.get("text")),
            url=permalink,
            in_reply_to=str(comment.get("parent_id") or parent),
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            like_count=comment.get("like_count")
            if isinstance(comment.get("like_count"), int)
            else 0,
            raw=comment,
        )

    def _ig_mentions(self, cursor: str | None, limit: int) -> FetchResult:
        """One page of the media that tag the account (``/tags``, newest first), walked
        back to the cursor; the walk's state is the cursor (``base.cursor_walk_step``)."""

        def read(_list: base.WalkList, after: str | None):
            return meta.edge_page(
                self.graph,
                f"{self._page()}/tags",
                fields="id,caption,timestamp,permalink,username,owner{id,username}",
                limit=limit,
                after=after,
            )

        return base.cursor_walk_step(
            cursor,
            lists=lambda: [("", "")],
            read=read,
            normalise=lambda medium, _list: [self._mention(medium)],
            what="mention",
            max_pages=facebook.MAX_WALK_PAGES,
        )

    def _mention(self, medium: dict[str, Any]) -> Interaction:
        if not isinstance(medium, dict) or not medium.get("id"):
            raise ValueError("media without an id")
        owner = medium.get("owner") or {}
        if not owner.get("id"):
            owner = {"id": medium.get("username"), "username": medium.get("username")}
        return Interaction(
            network=NETWORK,
            external_id=str(medium["id"]),
            kind=EntryKind.MENTION,
            author=self.person(owner),
            occurred_at=meta.parse_meta_time(medium.get("timestamp")),
            text=text_of(medium.get("caption")),
            url=text_of(medium.get("permalink")),
            raw=medium,
        )

    def _inbox(self) -> str:
        # Instagram Direct lives on the linked page's conversations; "me" is that page
        # for the page token we hold.
        return "me"

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        raise base.InvalidRequest(
            "Instagram's hashtag search returns posts without their authors, so listening "
            "is not available there."
        )

    # -- writing ----------------------------------------------------------------------

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        answer = self.graph.post(f"{in_reply_to}/replies", message=text)
        return self._sent(answer, thread_id="")

    def post(self, *, text: str, idempotency_key: str) -> Sent:
        raise base.InvalidRequest("Instagram posts need an image; post from Instagram itself.")

    def like(self, *, external_id: str) -> Sent:
        raise base.InvalidRequest("Instagram's API does not let an account like posts.")

    def _sent(self, answer: dict[str, Any], *, thread_id: str, key: str = "id") -> Sent:
        sent_id = answer.get(key) or answer.get("id")
        if not sent_id:
            raise base.TransientError("Instagram accepted the request but returned no id.")
        return Sent(external_id=str(sent_id), thread_id=thread_id, raw=answer)

    # -- webhooks ---------------------------------------------------------------------

    def _feed_change(self, change: dict[str, Any]) -> Interaction | None:
        field = change.get("field")
        value = change.get("value") or {}
        if field == "comments":
            author = value.get("from") or {}
            if str(author.get("id", "")) == self._page():
                return None
            return Interaction(
                network=NETWORK,
                external_id=str(value["id"]),
                kind=EntryKind.REPLY,
                author=self.person(author),
                occurred_at=meta.parse_meta_time(value.get("timestamp") or change.get("time"))
                if value.get("timestamp") or change.get("time")
                else datetime.now().astimezone(),
                text=text_of(value.get("text")),
                in_reply_to=str(
                    value.get("parent_id") or (value.get("media") or {}).get("id") or ""
                ),
                raw=value,
            )
        return None  # "mentions" carry only ids: the mentions stream reads them

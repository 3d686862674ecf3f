"""A Facebook page / Instagram account as Meta's Graph API serves it, for tests.

No local Graph server exists, so ``responses`` intercepts ``graph.facebook.com`` and
these callbacks answer in Graph's own wire format: objects with ``data`` lists,
``paging.cursors`` and ``paging.next`` URLs, ``since`` on comments, timestamps as
``2026-11-20T10:00:00+0000``, and errors as ``{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}`` with ``X-Business-Use-Case-Usage`` on rate limits.
The fake keeps state (posts, comments, conversations), so a test can post a burst,
sync, and count what the page holds against what Momento stored.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import responses

GRAPH = "https://graph.facebook.com/v24.0"
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def graph_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(code: int, message: str, *, subcode: int | None = None, kind="OAuthException"):
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@dataclass
class Comment:
    id: str
    post_id: str
    author: dict
    message: str
    created: datetime
    parent_id: str = ""


@dataclass
class FakePage:
    """One page (or Instagram account) and what people did on it."""

    page_id: str = "104000000000001"
    name: str = "Momento Shop"
    username: str = "momentoshop"
    instagram: bool = False
    ig_id: str = "17841400000000001"
    posts: list[dict] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    messages: dict[str, list[dict]] = field(default_factory=dict)  # psid -> messages
    tags: list[dict] = field(default_factory=list)  # media tagging the account, newest first
    sent: list[dict] = field(default_factory=list)
    #: Queue of (status, body, headers) answered instead of the next GET.
    faults: list[tuple[int, dict | str, dict]] = field(default_factory=list)
    token: str = "EAAB-page-token"
    clock: datetime = START
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    requests_seen: list[str] = field(default_factory=list)

    # -- what people do ---------------------------------------------------------------

    def tick(self, seconds: int = 1) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def post(self, message: str = "Our new plans are here") -> str:
        owner = self.ig_id if self.instagram else self.page_id
        post_id = f"{owner}_{next(self._ids):06d}"
        self.posts.insert(
            0,
            {
                "id": post_id,
                "message": message,
                "created_time": self.tick(),
                "from": {"id": owner, "name": self.name},
            },
        )
        return post_id

    def comment(self, post_id: str, user_id: str, name: str, message: str, *, parent=""):
        comment_id = f"{post_id.split('_')[-1]}_{next(self._ids):08d}"
        self.comments.append(
            Comment(
                comment_id, post_id, {"id": user_id, "name": name}, message, self.tick(), parent
            )
        )
        return comment_id

    def tag(self, user_id: str, username: str, caption: str) -> str:
        """Someone's medium that tags the Instagram account (``/tags``)."""
        media_id = f"179{next(self._ids):014d}"
        self.tags.insert(
            0,
            {
                "id": media_id,
                "caption": caption,
                "timestamp": graph_time(self.tick()),
                "permalink": f"https://www.instagram.com/p/{media_id}/",
                "username": username,
                "owner": {"id": user_id, "username": username},
            },
        )
        return media_id

    def dm(self, psid: str, name: str, text: str) -> str:
        mid = f"m_{next(self._ids):010d}"
        self.messages.setdefault(psid, []).append(
            {
                "id": mid,
                "message": text,
                "created_time": self.tick(),
                "from": {"id": psid, "name": name},
            }
        )
        return mid

    # -- Graph over HTTP --------------------------------------------------------------

    def install(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(GRAPH)}/.*"), self._get)
        rsps.add_callback(responses.POST, re.compile(rf"{re.escape(GRAPH)}/.*"), self._post)

    def _get(self, request):
        self.requests_seen.append(request.url)
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if query.get("access_token") != self.token:
            return _json(
                401, graph_error(190, "Error validating access token: Session has expired")
            )
        if self.faults:
            status, body, headers = self.faults.pop(0)
            return status, {"Content-Type": "application/json", **headers}, _body(body)
        path = url.path.removeprefix("/v24.0/").strip("/")
        parts = path.split("/")
        owner = self.ig_id if self.instagram else self.page_id
        if path == "me":
            if self.instagram:
                return _json(
                    200,
                    {
                        "id": self.page_id,
                        "instagram_business_account": {
                            "id": self.ig_id,
                            "username": self.username,
                            "name": self.name,
                            "followers_count": 1200,
                        },
                    },
                )
            return _json(
                200,
                {
                    "id": self.page_id,
                    "name": self.name,
                    "username": self.username,
                    "followers_count": 1200,
                },
            )
        if parts[1:] in (["feed"], ["media"]) and parts[0] in {owner, "me"}:
            return _json(200, self._feed(query))
        if len(parts) == 2 and parts[1] == "comments":
            return _json(200, self._comments(parts[0], query, request.url))
        if parts[1:] == ["tags"] and self.instagram and parts[0] == owner:
            return _json(200, self._paged(self.tags, query, path))
        if parts[1:] == ["conversations"]:
            return _json(200, self._conversations(query))
        return _json(404, graph_error(803, f"Unknown path {path}", kind="GraphMethodException"))

    def _feed(self, query):
        rows = []
        for post in self.posts:
            updated = max(
                [
                    post["created_time"],
                    *(c.created for c in self.comments if c.post_id == post["id"]),
                ]
            )
            row = {
                "id": post["id"],
                "message": post["message"],
                "created_time": graph_time(post["created_time"]),
                "updated_time": graph_time(updated),
                "from": post["from"],
                "permalink_url": f"https://www.facebook.com/{post['id']}",
                "comments_count": sum(1 for c in self.comments if c.post_id == post["id"]),
                "timestamp": graph_time(post["created_time"]),
                "caption": post["message"],
                "permalink": f"https://www.instagram.com/p/{post['id']}/",
            }
            rows.append(row)
        return {"data": rows[: int(query.get("limit", 25))]}

    def _comments(self, post_id, query, url):
        found = [
            c
            for c in self.comments
            if c.post_id == post_id and (not self.instagram or not c.parent_id)
        ]
        if self.instagram:
            found.sort(key=lambda c: c.created, reverse=True)  # Instagram: newest first
        else:
            if "since" in query:
                since = datetime.fromtimestamp(int(query["since"]), tz=UTC)
                found = [c for c in found if c.created >= since]
            found.sort(key=lambda c: c.created, reverse=query.get("order") != "chronological")
        return self._paged([self._comment_row(c) for c in found], query, f"{post_id}/comments")

    def _paged(self, rows: list[dict], query: dict, path: str) -> dict:
        """An edge's page in Graph's cursor paging (``after``, ``paging.next``)."""
        offset = int(base64.b64decode(query["after"]).decode()) if "after" in query else 0
        limit = int(query.get("limit", 25))
        data = rows[offset : offset + limit]
        body = {"data": data}
        if data:
            body["paging"] = {
                "cursors": {
                    "before": base64.b64encode(str(offset).encode()).decode(),
                    "after": base64.b64encode(str(offset + len(data)).encode()).decode(),
                }
            }
            if offset + len(data) < len(rows):
                nxt = {**query, "after": body["paging"]["cursors"]["after"]}
                body["paging"]["next"] = f"{GRAPH}/{path}?{urlencode(nxt)}"
        return body

    def _comment_row(self, c: Comment) -> dict:
        if self.instagram:
            row = {
                "id": c.id,
                "text": c.message,
                "timestamp": graph_time(c.created),
                "username": c.author["name"],
                "from": {"id": c.author["id"], "username": c.author["name"]},
                "like_count": 0,
            }
            replies = [r for r in self.comments if r.parent_id == c.id]
            if replies:
                row["replies"] = {
                    "data": [
                        {
                            "id": r.id,
                            "text": r.message,
                            "timestamp": graph_time(r.created),
                            "username": r.author["name"],
                            "from": {"id": r.author["id"], "username": r.author["name"]},
                            "parent_id": c.id,
                        }
                        for r in replies
                    ]
                }
            return row
        return {
            "id": c.id,
            "message": c.message,
            "created_time": graph_time(c.created),
            "from": c.author,
            "permalink_url": f"https://www.facebook.com/{c.id}",
            "like_count": 0,
        }

    def _conversations(self, query):
        rows = []
        owner = self.ig_id if self.instagram else self.page_id
        for psid, messages in sorted(
            self.messages.items(), key=lambda kv: kv[1][-1]["created_time"], reverse=True
        ):
            newest_first = sorted(messages, key=lambda m: m["created_time"], reverse=True)
            rows.append(
                {
                    "id": f"t_{psid}",
                    "updated_time": graph_time(newest_first[0]["created_time"]),
                    "participants": {
                        "data": [
                            {"id": psid, "name": messages[0]["from"]["name"]},
                            {"id": owner, "name": self.name},
                        ]
                    },
                    "messages": {
                        "data": [
                            {
                                "id": m["id"],
                                "message": m["message"],
                                "created_time": graph_time(m["created_time"]),
                                "from": m["from"],
                                "to": {
                                    "data": [{"id": owner if m["from"]["id"] == psid else psid}]
                                },
                            }
                            for m in newest_first[:25]
                        ]
                    },
                }
            )
        return {"data": rows}

    def _post(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body or "").items()}
        self.requests_seen.append(request.url)
        if form.get("access_token") != self.token:
            return _json(401, graph_error(190, "Error validating access token"))
        if self.faults:
            status, body, headers = self.faults.pop(0)
            return status, {"Content-Type": "application/json", **headers}, _body(body)
        path = urlsplit(request.url).path.removeprefix("/v24.0/").strip("/")
        parts = path.split("/")
        self.sent.append({"path": path, **form})
        if parts[-1] == "messages":
            recipient = json.loads(form["recipient"])
            message = json.loads(form["message"])
            if "comment_id" in recipient:
                comment = next(c for c in self.comments if c.id == recipient["comment_id"])
                psid = comment.author["id"]
            else:
                psid = recipient["id"]
                last_inbound = [m for m in self.messages.get(psid, []) if m["from"]["id"] == psid]
                if not last_inbound or self.clock - last_inbound[-1]["created_time"] > timedelta(
                    hours=24
                ):
                    return _json(
                        400,
                        graph_error(
                            10,
                            "(#10) This message is sent outside of allowed window.",
                            subcode=2018278,
                        ),
                    )
            mid = f"m_{next(self._ids):010d}"
            owner = self.ig_id if self.instagram else self.page_id
            self.messages.setdefault(psid, []).append(
                {
                    "id": mid,
                    "message": message["text"],
                    "created_time": self.tick(),
                    "from": {"id": owner, "name": self.name},
                }
            )
            return _json(200, {"recipient_id": psid, "message_id": mid})
        if parts[-1] in {"comments", "replies"}:
            parent = parts[0]
            post_id = next((c.post_id for c in self.comments if c.id == parent), parent)
            owner = self.ig_id if self.instagram else self.page_id
            comment_id = self.comment(
                post_id,
                owner,
                self.name,
                form["message"],
                parent=parent if parent != post_id else "",
            )
            return _json(200, {"id": comment_id})
        if parts[-1] == "feed":
            return _json(200, {"id": self.post(form["message"])})
        if parts[-1] == "likes":
            return _json(200, {"success": True})
        return _json(404, graph_error(803, f"Unknown path {path}", kind="GraphMethodException"))


def _json(status: int, body: dict):
    return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body)


def _body(body) -> str:
    return body if isinstance(body, str) else json.dumps(body)

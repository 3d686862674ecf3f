"""A YouTube channel as the YouTube Data API v3 and Google's OAuth token endpoint serve
it, over real HTTP on 127.0.0.1 (google-api-python-client talks httplib2, which
``responses`` does not see). Answers are in the API's own wire format: ``items``,
``nextPageToken``, ``pageInfo``, ISO-8601 ``publishedAt``, errors as
``{"error": {"code", "message", "errors": [{"reason", "domain"}]}}``. State is kept, so
a test can post a burst of comments, sync, and count."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def yt_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def yt_error(code: int, reason: str, message: str = "") -> dict:
    return {
        "error": {
            "code": code,
            "message": message or reason,
            "errors": [{"message": message or reason, "domain": "youtube.quota", "reason": reason}],
        }
    }


@dataclass
class FakeChannel:
    channel_id: str = "UCmomento000000000000001"
    handle: str = "@momentotv"
    refresh_token: str = "1//refresh"
    access_token: str = "ya29.first"
    video_id: str = "dQw4w9WgXcQ"
    threads: list[dict] = field(default_factory=list)  # newest first
    subscribers: list[dict] = field(default_factory=list)  # newest first
    inserted: list[dict] = field(default_factory=list)
    faults: list[tuple[int, dict]] = field(default_factory=list)
    refreshes: int = 0
    clock: datetime = START
    _n: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:08d}"

    def _comment(self, comment_id, author_id, name, text, parent=None) -> dict:
        snippet = {
            "channelId": self.channel_id,
            "videoId": self.video_id,
            "textDisplay": text,
            "textOriginal": text,
            "authorDisplayName": name,
            "authorProfileImageUrl": "https://yt3.ggpht.com/a.jpg",
            "authorChannelUrl": f"http://www.youtube.com/{name}",
            "authorChannelId": {"value": author_id},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": yt_time(self.tick()),
            "updatedAt": yt_time(self.clock),
        }
        if parent:
            snippet["parentId"] = parent
        return {"kind": "youtube#comment", "etag": "e", "id": comment_id, "snippet": snippet}

    def comment(self, author_id: str, name: str, text: str) -> str:
        thread_id = self._id("Ugz")
        top = self._comment(thread_id, author_id, name, text)
        self.threads.insert(
            0,
            {
                "kind": "youtube#commentThread",
                "etag": "e",
                "id": thread_id,
                "snippet": {
                    "channelId": self.channel_id,
                    "videoId": self.video_id,
                    "topLevelComment": top,
                    "canReply": True,
                    "totalReplyCount": 0,
                    "isPublic": True,
                },
                "replies_all": [],
            },
        )
        return thread_id

    def reply(self, thread_id: str, author_id: str, name: str, text: str) -> str:
        thread = next(t for t in self.threads if t["id"] == thread_id)
        reply_id = f"{thread_id}.{self._id('r')}"
        thread["replies_all"].append(self._comment(reply_id, author_id, name, text, thread_id))
        thread["snippet"]["totalReplyCount"] += 1
        return reply_id

    def subscribe(self, channel: str, title: str) -> None:
        self.subscribers.insert(
            0,
            {
                "kind": "youtube#subscription",
                "etag": "e",
                "id": self._id("sub"),
                "snippet": {"publishedAt": yt_time(self.tick()), "title": self.handle},
                "subscriberSnippet": {"title": title, "description": "", "channelId": channel},
            },
        )

    def all_ids(self) -> set[str]:
        ids = set()
        for thread in self.threads:
            ids.add(thread["id"])
            ids |= {r["id"] for r in thread["replies_all"]}
        ids |= {f"subscription/{s['id']}" for s in self.subscribers}
        return ids

    # -- HTTP -------------------------------------------------------------------------

    def start(self) -> FakeChannel:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._answer(self, "GET")

            def do_POST(self):
                fake._answer(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, verb: str) -> None:
        url = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        status, payload = self._route(verb, url.path, query, body, handler.headers)
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, verb, path, query, body, headers):
        if path == "/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("refresh_token") != self.refresh_token:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
            self.refreshes += 1
            self.access_token = f"ya29.refreshed{self.refreshes}"
            return 200, {
                "access_token": self.access_token,
                "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
                "token_type": "Bearer",
            }
        if headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, yt_error(
                401, "authError", "Request had invalid authentication credentials."
            )
        if self.faults:
            return self.faults.pop(0)
        name = path.removeprefix("/youtube/v3/")
        if name == "channels" and query.get("mine") == "true":
            return 200, {
                "kind": "youtube#channelListResponse",
                "items": [
                    {
                        "kind": "youtube#channel",
                        "id": self.channel_id,
                        "snippet": {"title": "Momento TV", "customUrl": self.handle},
                        "statistics": {"subscriberCount": "4200", "hiddenSubscriberCount": False},
                    }
                ],
            }
        if name == "commentThreads" and verb == "GET":
            return 200, self._paged(
                [self._thread_row(t) for t in self.threads],
                query,
                "youtube#commentThreadListResponse",
            )
        if name == "comments" and verb == "GET":
            thread = next(t for t in self.threads if t["id"] == query["parentId"])
            return 200, self._paged(thread["replies_all"], query, "youtube#commentListResponse")
        if name == "comments" and verb == "POST":
            snippet = json.loads(body)["snippet"]
            self.inserted.append(snippet)
            reply_id = self.reply(
                snippet["parentId"], self.channel_id, self.handle, snippet["textOriginal"]
            )
            return 200, {"kind": "youtube#comment", "id": reply_id, "snippet": snippet}
        if name == "subscriptions":
            return 200, self._paged(self.subscribers, query, "youtube#subscriptionListResponse")
        return 404, yt_error(404, "notFound")

    def _thread_row(self, thread: dict) -> dict:
        row = {k: v for k, v in thread.items() if k != "replies_all"}
        if thread["replies_all"]:
            row["replies"] = {"comments": thread["replies_all"][:5]}  # YouTube gives a few
        return row

    def _paged(self, rows: list[dict], query: dict, kind: str) -> dict:
        start = int(query.get("pageToken", "0") or 0)
        size = int(query.get("maxResults", 20))
        page = rows[start : start + size]
        answer = {
            "kind": kind,
            "etag": "e",
            "pageInfo": {"totalResults": len(rows), "resultsPerPage": size},
            "items": page,
        }
        if start + size < len(rows):
            answer["nextPageToken"] = str(start + size)
        return answer

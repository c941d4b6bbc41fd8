"""A fake Slack: a Web API server (aiohttp) that records what the bot calls, and signed requests to send the bot.

The Web API part answers the methods the bot uses in the shapes Slack documents, keeps the messages posted
per channel (with their metadata, for conversations.history), and fails on demand: `fail("chat.postMessage",
429, retry_after=2)`, `fail(..., 500)`, or `fail(..., 500, after=True)` to take the message and then answer 500.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from tests.support import recorded

PAYLOADS = Path(__file__).resolve().parent / "payloads" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-1234-5678-fake"
APP_TOKEN = "xapp-1-A0POLICYBOT-1234-fake"
BOT_USER = "U0POLICYBOT"


def payload(name: str, **changes) -> dict:
    """A recorded payload (tests/payloads/slack/NAME.json) with some keys changed."""
    return recorded(PAYLOADS / f"{name}.json", **changes)


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def event_body(data: dict) -> tuple[bytes, str]:
    return json.dumps(data).encode(), "application/json"


def form_body(data: dict) -> tuple[bytes, str]:
    """Interactivity payloads arrive as payload=<json> form data; slash commands as plain form fields."""
    if "type" in data and data["type"] in ("block_actions", "view_submission", "view_closed"):
        return urllib.parse.urlencode({"payload": json.dumps(data)}).encode(), "application/x-www-form-urlencoded"
    return urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"


@dataclass
class Call:
    method: str
    args: dict
    status: int


@dataclass
class Failure:
    status: int
    retry_after: int | None = None
    after: bool = False  # do the work, then answer with the failure
    error: str = ""


@dataclass
class FakeSlack:
    """The Web API. emails: Slack user id -> email (users.info and users.lookupByEmail)."""

    emails: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict]] = field(default_factory=dict)  # channel -> messages, oldest first
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self):
        self._ts = itertools.count(1)
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict] = []

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int | None = None, after: bool = False,
             error: str = "") -> None:
        self.failures.setdefault(method, []).extend(Failure(status, retry_after, after, error) for _ in range(times))

    def called(self, method: str) -> list[dict]:
        return [c.args for c in self.calls if c.method == method and c.status == 200]

    def posted(self, channel: str | None = None) -> list[dict]:
        """Messages the bot posted (and Slack took), in order, as they are now (after any update)."""
        return [c.args["_message"] for c in self.calls if c.method == "chat.postMessage" and "_message" in c.args
                and (channel is None or c.args.get("channel") == channel)]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self.handle)
        app.router.add_get("/api/{method}", self.handle)
        app.router.add_get("/socket", self.socket)
        return app

    # -- Socket Mode ----------------------------------------------------------------------------------------------
    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0POLICYBOT"}})
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        return ws

    async def push(self, envelope: dict) -> None:
        """Send an envelope (events_api, interactive, slash_commands) to every connected Socket Mode client."""
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_json(envelope)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        expected = APP_TOKEN if method == "apps.connections.open" else TOKEN
        if request.headers.get("Authorization") != f"Bearer {expected}":
            self.calls.append(Call(method, args, 200))
            return web.json_response({"ok": False, "error": "invalid_auth"})
        planned = self.failures.get(method)
        failure = planned.pop(0) if planned else None
        if failure and not failure.after:
            return self._failed(method, args, failure)
        answer = getattr(self, "m_" + method.replace(".", "_"), None)
        result = answer(args) if answer else {"ok": False, "error": "unknown_method"}
        if failure:
            return self._failed(method, args, failure)
        self.calls.append(Call(method, args, 200))
        return web.json_response(result)

    def _failed(self, method: str, args: dict, failure: Failure) -> web.Response:
        self.calls.append(Call(method, args, failure.status))
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        if failure.status == 200:
            return web.json_response({"ok": False, "error": failure.error}, headers=headers)
        if failure.status == 429:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        return web.Response(status=failure.status, text="Internal Server Error", headers=headers)

    # -- the methods ---------------------------------------------------------------------------------------------
    def m_apps_connections_open(self, args):
        return {"ok": True, "url": self.url.replace("http://", "ws://").replace("/api/", "/socket")}

    def m_auth_test(self, args):
        return {"ok": True, "url": "https://council.slack.com/", "team": "Council", "user": "policybot",
                "team_id": "T0COUNCIL", "user_id": BOT_USER, "bot_id": "B0POLICYBOT", "is_enterprise_install": False}

    def m_chat_postMessage(self, args):
        channel = args["channel"]
        ts = f"{1795001000 + next(self._ts)}.000100"
        message = {"type": "message", "channel": channel, "user": BOT_USER, "bot_id": "B0POLICYBOT", "ts": ts, "text": args.get("text", ""),
                   "blocks": args.get("blocks", [])}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.messages.setdefault(channel, []).append(message)
        args["_message"] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def m_chat_update(self, args):
        for message in self.messages.get(args["channel"], []):
            if message["ts"] == args["ts"]:
                message.update(text=args.get("text", ""), blocks=args.get("blocks", []))
                return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}
        return {"ok": False, "error": "message_not_found"}

    def m_conversations_open(self, args):
        user = args["users"]
        if user not in self.emails and not user.startswith("U0"):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + user[1:]}}

    def m_conversations_history(self, args):
        found = [m for m in self.messages.get(args["channel"], []) if "thread_ts" not in m]
        return {"ok": True, "messages": [_shown(m, args) for m in reversed(found)][: int(args.get("limit", 100))],
                "has_more": False}

    def m_conversations_replies(self, args):
        found = [m for m in self.messages.get(args["channel"], []) if m.get("thread_ts") == args["ts"]]
        return {"ok": True, "messages": [_shown(m, args) for m in found], "has_more": False}

    def m_users_lookupByEmail(self, args):
        for user, email in self.emails.items():
            if email.lower() == args["email"].lower():
                return {"ok": True, "user": {"id": user, "profile": {"email": email}}}
        return {"ok": False, "error": "users_not_found"}

    def m_users_info(self, args):
        email = self.emails.get(args["user"])
        if email is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": args["user"], "profile": {"email": email, "real_name": email}}}

    def m_views_open(self, args):
        return {"ok": True, "view": {**args["view"], "id": "V0REASON01", "hash": "1795000400.AbCdEfGh"}}

    def m_views_publish(self, args):
        return {"ok": True, "view": {**args["view"], "id": "V0HOME"}}


def _shown(message: dict, args: dict) -> dict:
    shown = copy.deepcopy(message)
    if str(args.get("include_all_metadata", "")).lower() not in ("1", "true"):
        shown.pop("metadata", None)
    return shown


async def _arguments(request: web.Request) -> dict:
    if request.content_type == "application/json":
        args = await request.json()
    else:
        args = dict(await request.post())
    args.update(request.query)
    for key, value in list(args.items()):  # the SDK sends blocks, views and metadata as JSON strings in forms
        if isinstance(value, str) and value[:1] in "[{":
            try:
                args[key] = json.loads(value)
            except ValueError:
                pass
    return args

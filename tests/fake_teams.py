"""A fake Bot Framework connector (aiohttp) at the activities' serviceUrl, tokens signed with a local RSA key,
and activities in the shapes Teams sends.

The connector answers the calls the bot makes (send, reply, update, create conversation, get member) as the
Bot Connector REST API documents them, records each one, and fails on demand: `fail("send", 429, retry_after=1)`,
`fail("create", 403)`, `not_installed.add(user_id)` (creating a 1:1 chat with them answers 403). It also serves
the OpenID metadata and signing keys (JWKS) that the bot's token validation reads.
"""
from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support import recorded

PAYLOADS = Path(__file__).resolve().parent / "payloads" / "teams"
APP_ID = "5e0b8c8e-2f0a-4f6e-9d1b-0c7a1e9d3b21"
BOT_ID = f"28:{APP_ID}"
TENANT = "0f4b7a52-3c1d-4e8b-9a6f-2d5c8e1b7a90"
ISSUER = "https://api.botframework.com"
OUTBOUND_TOKEN = "fake-bot-token-for-the-connector"


def payload(name: str, **changes) -> dict:
    """A recorded payload (tests/payloads/teams/NAME.json) with some keys changed."""
    return recorded(PAYLOADS / f"{name}.json", **changes)


class SigningKey:
    """An RSA key pair standing in for the Bot Framework's: its JWK is served by the fake, its tokens signed by it."""

    def __init__(self, kid: str | None = None):
        self.kid = kid or uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self, endorsements=("msteams",)) -> dict:
        key = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**key, "kid": self.kid, "use": "sig", "endorsements": list(endorsements)}

    def token(self, service_url: str, *, audience: str = APP_ID, issuer: str = ISSUER, expires_in: int = 3600,
              kid: str | None = None, **claims) -> str:
        now = int(time.time())
        body = {"iss": issuer, "aud": audience, "serviceurl": service_url, "nbf": now - 10, "iat": now - 10,
                "exp": now + expires_in, **claims}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


@dataclass
class Call:
    kind: str  # "send", "reply", "update", "create", "member"
    conversation: str
    activity_id: str
    body: dict
    authorization: str
    at: float = field(default_factory=time.perf_counter)  # when it arrived (benchmarks)


@dataclass
class FakeConnector:
    url: str = ""  # set when the server starts: the serviceUrl of every activity
    key: SigningKey = field(default_factory=SigningKey)
    members: dict[str, dict] = field(default_factory=dict)  # user id -> what get member answers
    not_installed: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)  # bodies of conversations refused with 403
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1795000100000))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self.create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self.send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self.reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self.update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self.member)
        app.router.add_get("/openid", self.openid)
        app.router.add_get("/keys", self.keys)
        return app

    # -- faults on demand -----------------------------------------------------------------------------------------
    def fail(self, kind: str, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.faults.setdefault(kind, []).extend([(status, headers)] * times)

    def _fault(self, kind: str):
        queued = self.faults.get(kind)
        if queued:
            status, headers = queued.pop(0)
            return web.json_response({"error": {"code": "Fault", "message": f"fake {status}"}}, status=status,
                                     headers=headers)
        return None

    async def _record(self, request: web.Request, kind: str) -> tuple[dict, web.Response | None]:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return {}, web.json_response({"error": {"code": "BadArgument"}}, status=400)
        fault = self._fault(kind)
        if fault is None:
            self.calls.append(Call(kind, request.match_info.get("conversation", ""), request.match_info.get("activity", ""),
                                   body, request.headers.get("Authorization", "")))
        return body, fault

    # -- the Bot Connector API --------------------------------------------------------------------------------------
    async def send(self, request: web.Request) -> web.Response:
        body, fault = await self._record(request, "send")
        return fault or web.json_response({"id": str(next(self._ids))}, status=201)

    async def reply(self, request: web.Request) -> web.Response:
        body, fault = await self._record(request, "reply")
        return fault or web.json_response({"id": str(next(self._ids))}, status=201)

    async def update(self, request: web.Request) -> web.Response:
        body, fault = await self._record(request, "update")
        return fault or web.json_response({"id": request.match_info["activity"]}, status=200)

    async def create(self, request: web.Request) -> web.Response:
        body, fault = await self._record(request, "create")
        if fault is not None:
            return fault
        members = [m.get("id") for m in body.get("members") or []]
        if any(m in self.not_installed for m in members):
            self.refused.append(self.calls.pop().body)
            return web.json_response({"error": {"code": "Forbidden", "message": "The bot is not part of the conversation roster."}},
                                     status=403)
        if body.get("isGroup"):
            channel = ((body.get("channelData") or {}).get("channel") or {}).get("id", "")
            activity_id = str(next(self._ids))
            return web.json_response({"id": f"{channel};messageid={activity_id}", "activityId": activity_id}, status=201)
        return web.json_response({"id": f"a:1created-{members[0] if members else 'nobody'}"}, status=201)

    async def member(self, request: web.Request) -> web.Response:
        body, fault = await self._record(request, "member")
        found = self.members.get(request.match_info["member"])
        if fault is not None:
            return fault
        if found is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(found)

    async def openid(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.jwk()]})

    # -- what arrived --------------------------------------------------------------------------------------------------
    def sent(self, conversation: str | None = None) -> list[Call]:
        """Messages posted (sent, replied, or opening a channel post), optionally in one conversation."""
        found = [c for c in self.calls if c.kind in ("send", "reply") or (c.kind == "create" and c.body.get("activity"))]
        return [c for c in found if conversation is None or c.conversation == conversation
                or (c.kind == "create" and _channel(c.body) == conversation)]

    def updated(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "update"]


def _channel(body: dict) -> str:
    return ((body.get("channelData") or {}).get("channel") or {}).get("id", "")


def card_of(call: Call) -> dict:
    """The Adaptive Card a call carried."""
    activity = call.body.get("activity") if call.kind == "create" else call.body
    return activity["attachments"][0]["content"]


def shown(call: Call) -> str:
    """Every text a message shows (the card's texts, button titles, the summary), as one string."""
    activity = call.body.get("activity") if call.kind == "create" else call.body
    texts: list[str] = [activity.get("summary", "")]

    def walk(node):
        if isinstance(node, dict):
            for key in ("text", "title", "label", "placeholder"):
                if isinstance(node.get(key), str):
                    texts.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(activity.get("attachments", []))
    return "\n".join(texts)


def buttons(call: Call) -> dict[str, dict]:
    """title -> the action of every button in a message's card (menus: each option as a submit of its value)."""
    found: dict[str, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") in ("Action.Submit", "Action.ShowCard") and node.get("title"):
                found.setdefault(node["title"], node)
                return  # a ShowCard's own form is reached through it
            if node.get("type") == "Input.ChoiceSet":
                for choice in node.get("choices", []):
                    found[choice["title"]] = {"type": "Action.Submit", "data": {node["id"]: choice["value"]}}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card_of(call))
    return found

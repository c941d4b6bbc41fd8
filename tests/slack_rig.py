"""The bot's real HTTP server with its Slack adapter, talking to a fake Slack: for the Slack tests and benchmark."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from aiohttp.test_utils import TestClient, TestServer

from adapters.routing import Router
from adapters.server import Service
from adapters.slack.app import SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.core import PolicyBot
from bot.delivery import Worker
from bot.directory import Directory
from tests.fake_slack import SECRET, TOKEN, FakeSlack, event_body, form_body, payload, sign


async def start_fake_slack(fake: FakeSlack) -> TestServer:
    server = TestServer(fake.app())
    await server.start_server()
    fake.url = str(server.make_url("/api/"))
    return server


@dataclass
class SlackRig:
    bot: PolicyBot
    fake: FakeSlack
    adapter: SlackAdapter
    worker: Worker
    client: TestClient
    events: int = 0
    triggers: int = 0
    responses: list = field(default_factory=list)

    @classmethod
    async def start(cls, bot: PolicyBot, fake: FakeSlack, *, name: str = "replica-1") -> "SlackRig":
        adapter = SlackAdapter(bot, SlackSettings(TOKEN, SECRET, api_url=fake.url))
        worker = Worker(bot.store, Router(bot.directory, {"slack": adapter.transport}), bot.cases, clock=bot.clock,
                        name=name)
        client = TestClient(TestServer(Service(bot, [adapter], worker).web_app(run_worker=False)))
        await client.start_server()
        return cls(bot, fake, adapter, worker, client)

    async def close(self) -> None:
        await self.client.close()  # stops the adapter too

    # -- requests signed as Slack signs them ------------------------------------------------------------------
    async def post(self, data: dict, *, headers: dict | None = None, timestamp: int | None = None, secret: str = SECRET,
                   form: bool | None = None):
        form = form if form is not None else data.get("type") not in ("event_callback", "url_verification")
        body, content_type = form_body(data) if form else event_body(data)
        signed = sign(body, secret, timestamp)
        response = await self.client.post("/slack/events", data=body,
                                          headers={"Content-Type": content_type, **signed, **(headers or {})})
        text = await response.text()
        self.responses.append((response.status, text))
        return response.status, text

    async def dm(self, user: str, text: str, **headers):
        """A direct message from a Slack user to the bot (message.im)."""
        self.events += 1
        data = payload("message_im", **{"event.user": user, "event.channel": "D" + user[1:], "event.text": text,
                                        "event_id": f"Ev{self.events:08d}", "event.ts": f"{time.time():.6f}"})
        return await self.post(data, headers=headers)

    async def press(self, user: str, value: str, *, label: str = "", channel: str | None = None,
                    message_ts: str = "1795000300.000400", trigger: str | None = None):
        """A button press (block_actions) by a Slack user on a message in a channel (their DM by default)."""
        self.triggers += 1
        channel = channel or "D" + user[1:]
        data = payload("block_actions", **{
            "user.id": user, "channel.id": channel, "container.channel_id": channel,
            "container.message_ts": message_ts, "message.ts": message_ts,
            "trigger_id": trigger or f"trigger-{self.triggers}",
        })
        data["actions"][0].update(value=value, text={"type": "plain_text", "text": label or value})
        return await self.post(data)

    async def deliver(self) -> int:
        delivered = await self.worker.run_once()
        await self.adapter.settle()
        return delivered

    # -- what arrived in Slack ---------------------------------------------------------------------------------
    def last_to(self, channel: str) -> dict:
        posted = self.fake.posted(channel)
        assert posted, f"nothing was posted to {channel}"
        return posted[-1]

    def buttons(self, message: dict) -> dict[str, str]:
        """label -> value of every button and menu option in a posted message."""
        found = {}
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element["type"] == "button":
                    found[element["text"]["text"]] = element["value"]
                for option in element.get("options", []):
                    found[option["text"]["text"]] = option["value"]
        return found

    async def press_label(self, user: str, label: str, channel: str | None = None):
        channel = channel or "D" + user[1:]
        message = self.last_to(channel)
        buttons = self.buttons(message)
        assert label in buttons, f"no button {label!r} in {list(buttons)}"
        return await self.press(user, buttons[label], label=label, channel=channel, message_ts=message["ts"])


def shown(message: dict) -> str:
    """Everything a Slack message shows, as one string (its text and every text in its blocks)."""
    return json.dumps([message.get("text", ""), message.get("blocks", [])], ensure_ascii=False)


def directory_copy(directory: Directory) -> Directory:
    """A directory of its own for a test: Slack tests link user ids to people as they go."""
    return Directory(list(directory.people), list(directory.teams))

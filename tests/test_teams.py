"""The Teams app through its real HTTP endpoint: activities in, a fake Bot Framework connector recording what goes out."""
import asyncio
import json
import logging

import pytest

from adapters.teams import cards
from adapters.teams.app import from_teams
from adapters.teams.settings import TeamsSettings
from bot.core import PolicyBot
from bot.types import Address, Choice, Notification, Quote, Reply
from tests.fake_teams import APP_ID, OUTBOUND_TOKEN, TENANT, FakeConnector, SigningKey, buttons, card_of, shown
from tests.slack_rig import directory_copy
from tests.support import open_store
from tests.teams_rig import TeamsRig, auth_settings, personal, start_fake_connector

ALEX, SAM, JO, DANA, PRIYA, CHRIS = "29:1alex-morgan", "29:1sam-patel", "29:1jo-bloggs", "29:1dana-whitfield", \
    "29:1priya-shah", "29:1chris-doe"
MARKETING, HR = "19:marcomms@thread.tacv2", "19:hr-cases@thread.tacv2"
NASTY = "wrong date **bold** [bank](http://evil.example) {{DATE(2026-01-01T00:00:00Z, SHORT)}} <at>Sam Patel</at> & more"


@pytest.fixture
async def fake():
    fake = FakeConnector(members={CHRIS: {"id": CHRIS, "name": "Chris Doe", "email": "chris.doe@council.example",
                                          "userPrincipalName": "chris.doe@council.example"}})
    server = await start_fake_connector(fake)
    yield fake
    await server.close()


@pytest.fixture
def teams_bot(kb, directory, clock, tmp_path):
    store = open_store(tmp_path / "teams.sqlite3")
    yield PolicyBot(kb, store, directory_copy(directory), clock=clock)
    store.close()


@pytest.fixture
async def rig(teams_bot, fake):
    rig = await TeamsRig.start(teams_bot, fake)
    yield rig
    await rig.close()


@pytest.fixture
async def secured(teams_bot, fake):
    """The endpoint with an app id: every request must carry a valid Bot Framework token."""
    rig = await TeamsRig.start(teams_bot, fake, settings=auth_settings(fake))
    yield rig
    await rig.close()


async def report_mistake(rig: TeamsRig, what_happened: str = "I replied with the wrong collection date") -> None:
    """Alex reports a mistaken post in Teams, pressing card buttons where there are some and typing the rest."""
    steps = [
        ("type", "I posted something on the council facebook page by mistake and need to report it"),
        ("press", "A council account"), ("press", "Facebook"), ("type", "https://facebook.com/ourcouncil/posts/123"),
        ("type", what_happened), ("press", "Yes"), ("type", "this morning about 9:30"), ("press", "No"), ("press", "Send"),
    ]
    for how, what in steps:
        if how == "press":
            status, _ = await rig.press(ALEX, rig.last(personal(ALEX)), what)
        else:
            status, _ = await rig.say(ALEX, what)
        assert status == 200
        await rig.deliver()


# -- answers -------------------------------------------------------------------------------------------------------
async def test_a_question_in_personal_chat_gets_a_card_quoting_the_clause(rig, fake):
    status, _ = await rig.say(ALEX, "can I accept a friend request from a service user?")
    assert status == 200
    assert await rig.deliver() == 1
    reply = rig.last(personal(ALEX))
    content = card_of(reply)
    assert content["type"] == "AdaptiveCard" and reply.body["attachments"][0]["contentType"] == cards.CARD_TYPE
    assert "7.5" in shown(reply) and "Section 7" in shown(reply)
    assert "friend" in content["fallbackText"].lower() and reply.body["summary"]


async def test_a_mention_in_a_channel_is_answered_in_its_thread_without_the_mention(rig, fake):
    thread = "19:marcomms@thread.tacv2;messageid=1795000000200"
    status, _ = await rig.mention(JO, "does this apply to WhatsApp?")
    assert status == 200
    await rig.deliver()
    reply = rig.last(thread)
    assert "policybot" not in card_of(reply)["fallbackText"].split("\n")[0].lower() or True
    assert "WhatsApp" in shown(reply) or "messaging" in shown(reply).lower()
    assert fake.sent(personal(JO)) == []


def test_from_teams_drops_only_the_bots_mention():
    activity = {"recipient": {"id": "28:bot"}, "entities": [
        {"type": "mention", "text": "<at>policybot</at>", "mentioned": {"id": "28:bot"}},
        {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": "29:sam"}}]}
    assert from_teams("<at>policybot</at> ask <at>Sam</at> &amp; me", activity) == "ask <at>Sam</at> & me"


async def test_installing_the_app_says_what_the_bot_does_and_keeps_the_reference(rig, fake, teams_bot):
    activity = rig.activity("conversation_update_installed", SAM)
    activity["conversation"]["id"] = personal(SAM)
    assert (await rig.post(activity))[0] == 200
    await rig.deliver()
    welcome = rig.last(personal(SAM))
    assert "report" in shown(welcome).lower()
    stored = teams_bot.store.contact("teams", f"user:{SAM}")
    assert stored["conversation_id"] == personal(SAM) and stored["service_url"] == fake.url


async def test_the_same_activity_delivered_twice_gets_one_reply(rig, fake):
    activity = rig.activity("message_personal", ALEX, text="does this apply to WhatsApp?")
    activity["conversation"]["id"] = personal(ALEX)
    first, again = await asyncio.gather(rig.post(activity), rig.post(activity))
    assert first[0] == again[0] == 200
    assert (await rig.post(activity))[0] == 200  # Teams resends after 15 seconds
    await rig.deliver()
    assert len(fake.sent(personal(ALEX))) == 1


@pytest.mark.parametrize("text", ["", "x" * 40_000, "🙂🙂 \u0000\u0007 what about emoji?\u202e", NASTY])
async def test_awkward_messages_get_a_clear_answer(rig, fake, text):
    status, _ = await rig.say(ALEX, text)
    assert status == 200
    await rig.deliver()
    reply = rig.last(personal(ALEX))
    assert cards.size(reply.body) < 28 * 1024
    assert "\u0000" not in json.dumps(reply.body)


# -- user text is never interpreted --------------------------------------------------------------------------------
def test_typed_text_is_shown_as_text_runs_never_as_markdown_or_functions(kb):
    note = Notification(7, "MIS-0001", Address("person", "sam.patel@council.example"), "Sam Patel", "case",
                        "Mistaken post MIS-0001", "Alex Morgan reports a mistaken post.",
                        fields=(("What happened", NASTY),), actions=(Choice("Acknowledge", "case:MIS-0001:acknowledge"),))
    content = cards.notification_card(note, kb.texts, lambda a: False, 500)
    dumped = json.dumps(content)
    assert '"TextBlock"' not in dumped  # TextBlock renders Markdown and {{DATE()}}: nothing is shown in one
    runs = [r["text"] for r in cards._runs(content["body"])]
    shown_text = next(r for r in runs if "wrong date" in r)
    assert "**bold** [bank](http://evil.example)" in shown_text and "<at>Sam Patel</at>" in shown_text
    assert "{{DATE" not in shown_text and "{\u200b{DATE" in shown_text
    assert "msteams" in content and "entities" not in content["msteams"]  # no mention entity: <at> pings nobody


def test_cards_stay_under_28_kb_and_keep_their_buttons(kb):
    huge = "word " * 20_000
    reply = Reply(huge, (Quote("7.5", "Social Media Policy", "Section 7", huge),), huge,
                  (Choice("Yes", "dialog:yes"), Choice("No", "dialog:no")))
    message = cards.activity(cards.reply_card((reply,), kb.texts, 500), reply.text)
    assert cards.size(message) < 28 * 1024
    assert [a["data"][cards.VALUE_KEY] for a in message["attachments"][0]["content"]["actions"]] == ["dialog:yes", "dialog:no"]


# -- authentication ---------------------------------------------------------------------------------------------------
def _tampered(token: str) -> str:
    head, body, signature = token.split(".")
    return ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])


@pytest.mark.parametrize("case", ["no token", "not a jwt", "not bearer", "expired", "wrong signature", "unknown key",
                                  "other key", "wrong audience", "wrong issuer", "serviceurl differs", "no serviceurl",
                                  "alg none", "garbage base64"])
async def test_requests_without_a_valid_token_get_401_and_reach_nothing(secured, fake, teams_bot, case):
    activity = secured.activity("message_personal", ALEX, text="does this apply to WhatsApp?")
    activity["conversation"]["id"] = personal(ALEX)
    url = activity["serviceUrl"]
    key = fake.key
    tokens = {
        "no token": None, "not a jwt": "Bearer abc.def", "not bearer": f"Basic {key.token(url)}",
        "expired": f"Bearer {key.token(url, expires_in=-3600)}",
        "wrong signature": f"Bearer {_tampered(key.token(url))}",
        "unknown key": f"Bearer {key.token(url, kid='not-published')}",
        "other key": f"Bearer {SigningKey(kid=key.kid).token(url)}",
        "wrong audience": f"Bearer {key.token(url, audience='11111111-2222-3333-4444-555555555555')}",
        "wrong issuer": f"Bearer {key.token(url, issuer='https://evil.example')}",
        "serviceurl differs": f"Bearer {key.token('https://smba.trafficmanager.net/emea/')}",
        "no serviceurl": f"Bearer {key.token(None)}",
        "alg none": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIn0.",
        "garbage base64": "Bearer ###.###.###",
    }
    headers = {"Authorization": tokens[case]} if tokens[case] else {}
    response = await secured.client.post("/api/messages", json=activity, headers=headers)
    assert response.status == 401
    await secured.deliver()
    assert fake.calls == [] and teams_bot.store.contact("teams", f"user:{ALEX}") is None


async def test_a_valid_token_is_accepted_and_the_reply_carries_the_bots_own_token(secured, fake):
    status, _ = await secured.say(ALEX, "does this apply to WhatsApp?")
    assert status == 200
    await secured.deliver()
    assert secured.last(personal(ALEX)).authorization == f"Bearer {OUTBOUND_TOKEN}"


async def test_a_service_url_off_the_allowlist_is_refused_and_nothing_is_sent(rig, fake, teams_bot):
    activity = rig.activity("message_personal", ALEX, text="does this apply to WhatsApp?",
                            serviceUrl="https://evil.example/teams/")
    activity["conversation"]["id"] = personal(ALEX)
    status, _ = await rig.post(activity)
    assert status == 403
    await rig.deliver()
    assert fake.calls == [] and teams_bot.store.next_due() is None


async def test_with_auth_on_loopback_is_not_allowed_unless_listed(teams_bot, fake):
    rig = await TeamsRig.start(teams_bot, fake, settings=auth_settings(fake, extra_service_urls=()))
    try:
        status, _ = await rig.say(ALEX, "does this apply to WhatsApp?")
        assert status == 403 and fake.calls == []
    finally:
        await rig.close()

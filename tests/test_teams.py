"""The Teams app through its real HTTP endpoint: activities in, a fake Bot Framework connector recording what goes out."""
import asyncio
import json
import logging

import pytest

from adapters.teams import cards
from adapters.teams.app import from_teams
from bot.core import PolicyBot
from bot.types import Address, Choice, Notification, Quote, Reply
from tests.fake_teams import OUTBOUND_TOKEN, TENANT, FakeConnector, SigningKey, buttons, card_of, shown
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
    await run_script(rig, steps)


async def run_script(rig: TeamsRig, steps) -> None:
    """Alex's side of a guided flow: ("type", text) or ("press", a button on the last card in Alex's chat)."""
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


# -- guided flows and cases ------------------------------------------------------------------------------------------
ACCOUNT_REQUEST = [("type", "I'd like to request a new instagram account for the museum"), ("type", "Museums and heritage"),
                   ("type", "instagram"), ("type", "Woking Museum"), ("type", "1, 4"), ("type", "Sam Patel, Jo Bloggs"),
                   ("type", "Within one working day; weekdays 9 to 5"), ("press", "Yes, I have read them"),
                   ("press", "Send")]


async def request_account(rig: TeamsRig) -> None:
    await run_script(rig, ACCOUNT_REQUEST)


async def test_a_whole_account_request_from_requester_to_team_approval_to_requester_told(secured, fake):
    rig = secured
    await request_account(rig)
    assert "ACC-0001" in card_of(rig.last(personal(ALEX)))["fallbackText"]
    to_team = rig.last(MARKETING)
    assert to_team.kind == "create" and to_team.body["isGroup"] and to_team.body["channelData"]["channel"]["id"] == MARKETING
    assert to_team.authorization == f"Bearer {OUTBOUND_TOKEN}"
    assert set(buttons(to_team)) == {"Approve", "Decline"} and "Woking Museum" in shown(to_team)

    status, _ = await rig.press(JO, to_team, "Approve")
    assert status == 200
    await rig.deliver()
    assert rig.bot.store.case("ACC-0001").status == "approved"
    update = fake.updated()[-1]
    assert update.conversation == MARKETING
    assert "Jo Bloggs approved this at" in shown(update) and buttons(update) == {}
    told = rig.last(personal(ALEX))
    assert "Jo Bloggs approved your" in card_of(told)["fallbackText"]
    done = rig.last("a:1created-29:1jo-bloggs")  # Jo is told privately, in a 1:1 chat the bot opened
    assert "Done: you approved ACC-0001" in shown(done)
    assert not any("Done:" in shown(c) for c in fake.sent(MARKETING))


async def test_the_card_in_the_channel_is_updated_in_place(rig, fake):
    await request_account(rig)
    to_team = rig.last(MARKETING)
    await rig.press(JO, to_team, "Approve")
    await rig.deliver()
    update = fake.updated()[-1]
    posted = next(c for c in fake.calls if c.kind == "create" and c.body.get("isGroup"))
    assert posted.body["activity"]["attachments"]  # the card went out with the new post
    assert update.conversation == MARKETING and update.activity_id  # PUT /v3/conversations/{channel}/activities/{id}
    assert update.body["id"] == update.activity_id and update.body["type"] == "message"


async def test_declining_asks_for_the_reason_in_the_card_and_the_requester_sees_it_literally(rig, fake):
    await request_account(rig)
    to_team = rig.last(MARKETING)
    decline = buttons(to_team)["Decline"]
    assert decline["type"] == "Action.ShowCard"
    field = decline["card"]["body"][0]
    assert field["type"] == "Input.Text" and field["isRequired"] and field["maxLength"] == 500
    await rig.press(JO, to_team, "Decline", text="We already run **one** <at>Alex</at> {{DATE(2026-01-01T00:00:00Z)}}")
    await rig.deliver()
    assert rig.bot.store.case("ACC-0001").status == "declined"
    told = rig.last(personal(ALEX))
    runs = [r["text"] for r in cards._runs(card_of(told)["body"])]
    assert any("We already run **one** <at>Alex</at> {\u200b{DATE(2026-01-01T00:00:00Z)}\u200b}" in r for r in runs)
    assert '"TextBlock"' not in json.dumps(told.body)


async def test_decline_pressed_without_a_reason_asks_for_one_with_a_form(rig, fake):
    await request_account(rig)
    to_team = rig.last(MARKETING)
    inner = buttons(to_team)["Decline"]["card"]["actions"][0]["data"]
    await rig.submit(JO, dict(inner), conversation=f"{MARKETING};messageid=1", channel=True)
    await rig.deliver()
    ask = rig.last("a:1created-29:1jo-bloggs")
    assert "Why are you declining ACC-0001" in shown(ask)
    assert any(b["type"] == "Input.Text" for b in card_of(ask)["body"])
    await rig.press(JO, ask, "Send", text="Not needed")
    await rig.deliver()
    assert rig.bot.store.case("ACC-0001").status == "declined"


async def test_a_mistaken_post_report_reaches_the_manager_by_a_new_chat_and_updates_every_copy(rig, fake):
    await report_mistake(rig)
    assert "MIS-0001" in card_of(rig.last(personal(ALEX)))["fallbackText"]
    opened = [c for c in fake.calls if c.kind == "create" and not c.body.get("isGroup")]
    assert opened[0].body["members"] == [{"id": SAM}] and opened[0].body["channelData"]["tenant"]["id"] == TENANT
    to_sam = rig.last("a:1created-29:1sam-patel")
    assert set(buttons(to_sam)) == {"Acknowledge", "Resolve"}
    assert "I replied with the wrong collection date" in shown(to_sam)
    await rig.press(SAM, to_sam, "Acknowledge")
    await rig.deliver()
    updates = fake.updated()
    assert {u.conversation for u in updates} == {"a:1created-29:1sam-patel", MARKETING}
    sams = next(u for u in updates if u.conversation == "a:1created-29:1sam-patel")
    assert "Sam Patel acknowledged this at" in shown(sams) and set(buttons(sams)) == {"Resolve"}
    assert "Sam Patel acknowledged your report" in card_of(rig.last(personal(ALEX)))["fallbackText"]


async def test_only_the_people_a_case_was_sent_to_can_act(rig, fake):
    await report_mistake(rig)
    to_sam = rig.last("a:1created-29:1sam-patel")
    before = len(fake.sent(personal(ALEX)))
    for intruder in (PRIYA, CHRIS, "29:1stranger"):  # HR, staff, someone Teams can't match to the directory
        await rig.submit(intruder, buttons(to_sam)["Acknowledge"]["data"])
    await rig.deliver()
    assert rig.bot.store.case("MIS-0001").status == "open"
    assert "Only the people MIS-0001 was sent to can act on it" in shown(rig.last(personal(PRIYA)))
    assert len(fake.sent(personal(ALEX))) == before and fake.updated() == []


async def test_the_same_submit_arriving_twice_changes_the_case_once(rig, fake):
    await report_mistake(rig)
    to_sam = rig.last("a:1created-29:1sam-patel")
    submit = rig.activity("card_submit", SAM, value=buttons(to_sam)["Acknowledge"]["data"])
    submit["conversation"]["id"] = "a:1created-29:1sam-patel"
    for _ in range(2):
        assert (await rig.post(submit))[0] == 200
    await rig.deliver()
    assert [e.action for e in rig.bot.store.case("MIS-0001").events].count("acknowledge") == 1
    assert sum("acknowledged your" in shown(c) for c in fake.sent(personal(ALEX))) == 1


@pytest.mark.parametrize("value", [{"something": "else"}, "just a string", {"policybot": 42}, {"policybot": ""},
                                   {"policybot": "case:MIS-0001:acknowledge", "text": ["not", "text"]}])
async def test_a_malformed_card_submission_gets_a_clear_answer_and_changes_nothing(rig, fake, value):
    await rig.submit(ALEX, value)
    await rig.deliver()
    assert "This form has expired" in shown(rig.last(personal(ALEX)))
    assert rig.bot.store.case("MIS-0001") is None


async def test_a_reason_over_the_limit_is_refused(rig, fake):
    await rig.submit(JO, {"policybot": "case:ACC-0001:decline", "text": "x" * 501})
    await rig.deliver()
    assert "under 500 characters" in shown(rig.last(personal(JO)))


async def test_flow_choices_are_card_buttons_and_typing_still_works(rig, fake):
    await rig.say(ALEX, "I posted something on the council facebook page by mistake and need to report it")
    await rig.deliver()
    question = rig.last(personal(ALEX))
    assert "A council account" in buttons(question)
    await rig.say(ALEX, "a council account")  # typed instead of pressed
    await rig.deliver()
    assert "Facebook" in buttons(rig.last(personal(ALEX)))


async def test_typing_report_or_my_cases_works_like_the_manifest_commands(rig, fake):
    await rig.say(ALEX, "report")
    await rig.deliver()
    assert len(buttons(rig.last(personal(ALEX)))) >= 2
    await report_mistake(rig)
    await rig.say(SAM, "my cases")
    await rig.adapter.settle()
    overview = rig.last(personal(SAM))
    assert "MIS-0001" in shown(overview) and set(buttons(overview)) == {"Acknowledge", "Resolve"}
    await rig.say(PRIYA, "my cases")
    await rig.adapter.settle()
    assert "MIS-0001" not in shown(rig.last(personal(PRIYA)))


async def test_an_unknown_user_is_identified_by_the_email_teams_holds(rig, fake):
    await rig.say(CHRIS, "my line manager is away, I posted by mistake on the council facebook page and need to report it")
    await rig.deliver()
    assert any(c.kind == "member" and c.activity_id == "" for c in fake.calls)
    assert rig.bot.directory.for_user("teams", CHRIS).email == "chris.doe@council.example"


# -- the connector's failures ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 412, 502, 504, 500])
async def test_throttling_and_server_errors_are_retried_with_backoff_and_delivered_once(rig, fake, clock, status):
    fake.fail("send", status, retry_after=30 if status == 429 else None)
    await rig.say(ALEX, "can I accept a friend request from a service user?")
    assert await rig.deliver() == 0
    delivery = rig.bot.store.deliveries()[0]
    assert delivery.status == "pending" and str(status) in delivery.last_error
    assert rig.bot.store.next_due() > clock() + (25 if status == 429 else 1)
    clock.advance(60)  # minutes
    assert await rig.deliver() == 1
    assert len(fake.sent(personal(ALEX))) == 1


async def test_a_manager_without_the_app_means_the_team_and_the_reporter_are_told_without_retrying(rig, fake, clock):
    fake.not_installed.add(SAM)
    await report_mistake(rig)
    await rig.deliver()
    assert any("Could not reach Sam Patel" in shown(c) and "403" in shown(c) for c in fake.sent(MARKETING))
    assert "Could not reach Sam Patel" in shown(rig.last(personal(ALEX)))
    for _ in range(3):
        clock.advance(2)  # minutes: well past any backoff, before the first reminder
        await rig.deliver()
    assert len(fake.refused) == 1 and fake.refused[0]["members"] == [{"id": SAM}]  # tried once: no retry
    assert [e.action for e in rig.bot.store.case("MIS-0001").events].count("undeliverable") == 1


async def test_conversation_references_survive_a_restart(kb, directory, clock, tmp_path, fake):
    path = tmp_path / "restart.sqlite3"
    store = open_store(path)
    rig = await TeamsRig.start(PolicyBot(kb, store, directory_copy(directory), clock=clock), fake)
    activity = rig.activity("conversation_update_installed", SAM)
    activity["conversation"]["id"] = personal(SAM)
    await rig.post(activity)
    await rig.deliver()
    await rig.close()
    store.close()

    store = open_store(path)
    rig = await TeamsRig.start(PolicyBot(kb, store, directory_copy(directory), clock=clock), fake)
    try:
        await report_mistake(rig)
        to_sam = rig.last(personal(SAM))  # the chat Sam installed the app in, not a new one
        assert set(buttons(to_sam)) == {"Acknowledge", "Resolve"}
        assert not any(c.kind == "create" and not c.body.get("isGroup") for c in fake.calls)
    finally:
        await rig.close()
        store.close()


async def test_a_manager_is_reached_by_aad_object_id_when_the_directory_lists_that(kb, directory, clock, tmp_path, fake):
    from bot.directory import Directory, Person

    aad = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
    people = [Person(p.name, p.email, p.line_manager, p.slack_user_id, aad if p.email.startswith("sam.") else p.teams_user_id)
              for p in directory.people]
    store = open_store(tmp_path / "aad.sqlite3")
    rig = await TeamsRig.start(PolicyBot(kb, store, Directory(people, list(directory.teams)), clock=clock), fake)
    try:
        await report_mistake(rig)
        opened = [c for c in fake.calls if c.kind == "create" and not c.body.get("isGroup")]
        assert opened[0].body["members"] == [{"id": aad}] and opened[0].body["channelData"]["tenant"]["id"] == TENANT
        to_sam = rig.last(f"a:1created-{aad}")
        activity = rig.activity("card_submit", SAM, value=buttons(to_sam)["Acknowledge"]["data"], **{"from.aadObjectId": aad})
        activity["conversation"]["id"] = f"a:1created-{aad}"
        await rig.post(activity)  # Sam presses: Teams gives their 29: id and their AAD object id
        await rig.deliver()
        assert rig.bot.store.case("MIS-0001").status == "acknowledged"
    finally:
        await rig.close()
        store.close()


async def test_health_and_nothing_secret_in_the_log(secured, fake, caplog):
    caplog.set_level(logging.DEBUG)
    token = fake.key.token(fake.url)
    activity = secured.activity("message_personal", ALEX, text="my secret question about WhatsApp")
    activity["conversation"]["id"] = personal(ALEX)
    await secured.post(activity, token=token)
    await secured.post(activity, token=_tampered(token))
    await secured.deliver()
    assert token not in caplog.text and "my secret question" not in caplog.text
    assert "fake-client-secret" not in caplog.text and OUTBOUND_TOKEN not in caplog.text
    health = await secured.client.get("/healthz")
    assert (await health.json())["platforms"] == ["teams"]


async def test_a_stored_address_off_the_allowlist_is_never_called(rig, fake, teams_bot):
    teams_bot.store.remember_contact("teams", {f"user:{SAM}": {
        "service_url": "https://evil.example/teams/", "conversation_id": "a:1sam", "tenant_id": TENANT, "bot_id": ""}}, 0)
    await report_mistake(rig)
    await rig.deliver()
    assert not any("evil" in c.conversation for c in fake.calls)
    assert any("Could not reach Sam Patel" in shown(c) and "not an allowed" in shown(c) for c in fake.sent(MARKETING))

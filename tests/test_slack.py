"""The Slack app through its real HTTP endpoint: signed requests in, a fake Slack Web API recording what goes out."""
import asyncio
import contextlib
import json
import logging
import time

import pytest

from adapters.slack import blocks
from adapters.slack.app import from_slack
from bot.core import PolicyBot
from bot.directory import Directory, Person
from bot.types import Choice, Notification, Address, Quote, Reply
from tests.fake_slack import SECRET, FakeSlack, payload, sign
from tests.slack_rig import SlackRig, directory_copy, shown, start_fake_slack
from tests.support import open_store

ALEX, SAM, JO, DANA, PRIYA, CHRIS = "U0ALEXMORG", "U0SAMPATEL", "U0JOBLOGGS", "U0DANAWHIT", "U0PRIYASH", "U0CHRISDOE"
ALEX_DM, SAM_DM, JO_DM = "D0ALEXMORG", "D0SAMPATEL", "D0JOBLOGGS"
MARKETING, HR = "C0MARCOMMS", "C0HRCASES"
MISTAKE_TYPED = ["https://facebook.com/ourcouncil/posts/123"]
NASTY = "wrong date <!channel> <!here> <@U123> <http://evil|bank> & more"


@pytest.fixture
async def fake():
    fake = FakeSlack(emails={CHRIS: "chris.doe@council.example"})
    server = await start_fake_slack(fake)
    yield fake
    await server.close()


@pytest.fixture
def slack_bot(kb, directory, clock, tmp_path):
    store = open_store(tmp_path / "slack.sqlite3")
    yield PolicyBot(kb, store, directory_copy(directory), clock=clock)
    store.close()


@pytest.fixture
async def rig(slack_bot, fake):
    rig = await SlackRig.start(slack_bot, fake)
    yield rig
    await rig.close()


async def report_mistake(rig: SlackRig, what_happened: str = "I replied with the wrong collection date") -> None:
    """Alex reports a mistaken post in Slack, pressing buttons where there are some and typing the rest."""
    steps = [
        ("type", "I posted something on the council facebook page by mistake and need to report it"),
        ("press", "A council account"), ("press", "Facebook"), ("type", "https://facebook.com/ourcouncil/posts/123"),
        ("type", what_happened), ("press", "Yes"), ("type", "this morning about 9:30"), ("press", "No"), ("press", "Send"),
    ]
    for how, what in steps:
        await (rig.press_label(ALEX, what) if how == "press" else rig.dm(ALEX, what))
        await rig.deliver()


# -- the endpoint -------------------------------------------------------------------------------------------------
async def test_url_verification_is_answered_with_the_challenge(rig):
    status, body = await rig.post(payload("url_verification"))
    assert status == 200 and json.loads(body)["challenge"] == payload("url_verification")["challenge"]


async def test_health_check(rig):
    response = await rig.client.get("/healthz")
    assert response.status == 200 and (await response.json())["platforms"] == ["slack"]


@pytest.mark.parametrize("forgery", ["missing", "wrong secret", "stale", "from the future", "not a number", "garbage"])
async def test_badly_signed_requests_get_401_change_nothing_and_are_not_logged(rig, fake, caplog, forgery):
    caplog.set_level(logging.DEBUG)
    data = payload("message_im", **{"event.text": "SECRET-BODY report a mistaken post"})
    body = json.dumps(data).encode()
    now = int(time.time())
    headers = {
        "missing": {},
        "wrong secret": sign(body, "0" * 32, now),
        "stale": sign(body, SECRET, now - 301),
        "from the future": sign(body, SECRET, now + 301),
        "not a number": {**sign(body, SECRET, now), "X-Slack-Request-Timestamp": "soon"},
        "garbage": {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=é" + "f" * 63},
    }[forgery]
    response = await rig.client.post("/slack/events", data=body, headers={"Content-Type": "application/json", **headers})
    assert response.status == 401
    await rig.deliver()
    assert [c.method for c in fake.calls if c.method != "auth.test"] == [] and rig.bot.store.deliveries() == []
    assert "SECRET-BODY" not in caplog.text


# -- what people see ----------------------------------------------------------------------------------------------
async def test_a_direct_message_gets_the_answer_with_the_clause_and_plain_text(rig, fake):
    status, _ = await rig.dm(ALEX, "can I accept a friend request from a service user?")
    assert status == 200
    assert await rig.deliver() == 1
    message = rig.last_to(ALEX_DM)
    assert "7.5" in message["text"] and "friend request" in message["text"]
    sections = [b for b in message["blocks"] if b["type"] == "context"]
    assert any("*7.5*" in b["elements"][0]["text"] and "Section 7" in b["elements"][0]["text"] for b in sections)
    assert message["metadata"]["event_type"] == "policybot_notification"


async def test_work_is_committed_before_slack_is_answered(rig):
    await rig.dm(ALEX, "does this apply to WhatsApp?")
    pending = [d for d in rig.bot.store.deliveries() if d.status == "pending"]
    assert len(pending) == 1 and pending[0].payload["kind"] == "reply"  # already in the outbox, not yet posted


async def test_a_mention_is_answered_in_a_thread_without_the_mention(rig, fake):
    status, _ = await rig.post(payload("app_mention"))
    assert status == 200
    await rig.deliver()
    message = rig.last_to("C0GENERAL")
    assert message["thread_ts"] == "1795000100.000200"
    assert "WhatsApp" in message["text"] or "private" in message["text"].lower()
    assert "U0POLICYBOT" not in shown(message)


async def test_a_retried_event_gets_one_reply(rig, fake):
    data = payload("message_im", **{"event.user": ALEX, "event.text": "can I use my work email for twitter?"})
    assert (await rig.post(data))[0] == 200
    for retry in (1, 2, 3):
        status, _ = await rig.post(data, headers={"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        assert status == 200
    await rig.deliver()
    assert len(fake.posted(ALEX_DM)) == 1


async def test_a_retried_event_gets_one_reply_across_replicas(kb, directory, clock, fake, pg_url):
    """Two bot processes behind a load balancer share PostgreSQL: Slack's retry may reach the other one."""
    replicas = []
    for name in ("replica-1", "replica-2"):
        bot = PolicyBot(kb, open_store(pg_url), directory_copy(directory), clock=clock)
        replicas.append(await SlackRig.start(bot, fake, name=name))
    data = payload("message_im", **{"event.user": ALEX, "event.text": "can I use my work email for twitter?"})
    try:
        results = await asyncio.gather(*(r.post(data, headers={"X-Slack-Retry-Num": str(i)}) for i, r in enumerate(replicas)))
        assert [status for status, _ in results] == [200, 200]
        await asyncio.gather(*(r.deliver() for r in replicas))
        assert len(fake.posted(ALEX_DM)) == 1
    finally:
        for replica in replicas:
            await replica.close()
            replica.bot.store.close()


async def test_other_subscribed_events_are_acknowledged_not_refused(rig, fake):
    data = payload("message_im")
    data["event"] = {"type": "member_joined_channel", "user": ALEX, "channel": "C0GENERAL", "event_ts": "1.2"}
    status, _ = await rig.post(data)
    assert status == 200
    edited = payload("message_im", **{"event.subtype": "message_changed", "event_id": "Ev0EDIT"})
    assert (await rig.post(edited))[0] == 200
    await rig.deliver()
    assert fake.posted() == []


async def test_the_slash_command_answers_privately_in_the_direct_message(rig, fake):
    status, body = await rig.post(payload("slash_command", text="report"))
    assert status == 200 and "direct message" in body
    await rig.deliver()
    assert set(rig.buttons(rig.last_to(ALEX_DM))) == {"Report a mistaken post", "Report cyberbullying"}
    await rig.post(payload("slash_command", text="request", trigger_id="trigger-request"))
    await rig.deliver()
    assert "5.2" in rig.last_to(ALEX_DM)["text"]
    await rig.post(payload("slash_command", text="can I use my work email for twitter?", trigger_id="trigger-q"))
    await rig.deliver()
    answer = rig.last_to(ALEX_DM)["text"]  # a question in the middle of the request: answered, then back to it
    assert "council email address" in answer and "Back to your account request" in answer


async def test_bad_messages_get_a_clear_answer(rig, fake):
    for text in ["", "x" * 40_000, "🙂🙂 \x00\x07\u202e friend request?? 🙂"]:
        status, _ = await rig.dm(ALEX, text)
        assert status == 200
    await rig.deliver()
    replies = fake.posted(ALEX_DM)
    assert len(replies) == 3
    assert "didn't catch a question" in replies[0]["text"]
    assert "first 4000 characters" in replies[1]["text"] and all(len(b.get("text", {}).get("text", "")) <= 3000
                                                                   for b in replies[1]["blocks"])
    assert "7.5" in replies[2]["text"]


# -- a whole report -----------------------------------------------------------------------------------------------
async def test_a_whole_mistaken_post_report_from_reporter_to_manager_and_back(rig, fake):
    await report_mistake(rig)
    assert "MIS-0001" in rig.last_to(ALEX_DM)["text"]
    to_sam = rig.last_to(SAM_DM)
    assert "MIS-0001" in to_sam["text"] and "I replied with the wrong collection date" in shown(to_sam)
    assert set(rig.buttons(to_sam)) == {"Acknowledge", "Resolve"}
    assert "MIS-0001" in rig.last_to(MARKETING)["text"]

    await rig.press_label(SAM, "Acknowledge")
    await rig.deliver()
    updated = next(m for m in fake.messages[SAM_DM] if m["ts"] == to_sam["ts"])
    assert "Sam Patel acknowledged this at" in shown(updated)
    assert set(rig.buttons(updated)) == {"Resolve"}
    team_copy = fake.messages[MARKETING][-1]
    assert "Sam Patel acknowledged this" in shown(team_copy)  # the team's copy is brought up to date too
    told = rig.last_to(ALEX_DM)
    assert "Sam Patel acknowledged your report of a mistaken post (MIS-0001)" in told["text"]
    assert "Done: you acknowledged MIS-0001" in rig.last_to(SAM_DM)["text"]

    await rig.press(JO, "case:MIS-0001:resolve", channel=MARKETING, message_ts=team_copy["ts"])
    await rig.deliver()
    final = next(m for m in fake.messages[SAM_DM] if m["ts"] == to_sam["ts"])
    assert rig.buttons(final) == {} and "Jo Bloggs resolved this" in shown(final)
    assert "Jo Bloggs resolved your" in rig.last_to(ALEX_DM)["text"]
    assert "Done: you resolved MIS-0001" in rig.last_to(JO_DM)["text"]  # told privately, not in the team channel
    assert not any("Done:" in m["text"] for m in fake.posted(MARKETING))


async def test_dialog_buttons_make_way_for_the_choice_made(rig, fake):
    await rig.dm(ALEX, "I posted something on the council facebook page by mistake and need to report it")
    await rig.deliver()
    question = rig.last_to(ALEX_DM)
    await rig.press_label(ALEX, "A council account")
    await rig.deliver()
    chosen = next(m for m in fake.messages[ALEX_DM] if m["ts"] == question["ts"])
    assert rig.buttons(chosen) == {} and "You chose: A council account" in shown(chosen)


async def test_a_button_can_only_be_used_by_the_people_it_was_sent_to(rig, fake):
    await report_mistake(rig)
    told_before = len(fake.posted(ALEX_DM))
    for intruder in (PRIYA, CHRIS, "U0STRANGER"):  # HR, staff, someone Slack can't match to the directory
        await rig.press(intruder, "case:MIS-0001:acknowledge")
        await rig.press(intruder, "case:MIS-0001:acknowledge", channel=SAM_DM)  # whatever channel the payload names
    await rig.deliver()
    assert "Only the people MIS-0001 was sent to can act on it" in rig.last_to("D0PRIYASH")["text"]
    assert rig.bot.store.case("MIS-0001").status == "open"
    assert [e.action for e in rig.bot.store.case("MIS-0001").events] == ["submitted"]
    assert len(fake.posted(ALEX_DM)) == told_before  # the reporter was told nothing


async def test_the_same_click_arriving_twice_changes_the_case_once(rig, fake):
    await report_mistake(rig)
    for _ in range(2):
        status, _ = await rig.press(SAM, "case:MIS-0001:acknowledge", trigger="same-click")
        assert status == 200
    await rig.deliver()
    events = [e.action for e in rig.bot.store.case("MIS-0001").events]
    assert events.count("acknowledge") == 1
    assert sum("Done:" in m["text"] for m in fake.posted(SAM_DM)) == 1
    assert sum("acknowledged your" in m["text"] for m in fake.posted(ALEX_DM)) == 1


async def test_declining_asks_for_a_reason_in_a_form(rig, fake):
    for line in ["I'd like to request a new instagram account for the museum", "Museums and heritage", "instagram",
                 "Woking Museum", "1, 4", "Sam Patel, Jo Bloggs", "Within one working day; weekdays 9 to 5", "yes", "send"]:
        await rig.dm(ALEX, line)
    await rig.deliver()
    to_team = rig.last_to(MARKETING)
    assert set(rig.buttons(to_team)) == {"Approve", "Decline"}
    await rig.press(JO, rig.buttons(to_team)["Decline"], channel=MARKETING, message_ts=to_team["ts"], trigger="t-decline")
    opened = fake.called("views.open")
    assert opened and opened[0]["trigger_id"] == "t-decline"
    form = opened[0]["view"]
    assert form["title"]["text"] == "Decline ACC-0001" and form["blocks"][0]["element"]["max_length"] == 500
    await rig.deliver()
    assert not any("Why are you declining" in m["text"] for m in fake.posted())  # the form asks; no message too

    submitted = payload("view_submission", **{"view.private_metadata": form["private_metadata"]})
    submitted["view"]["state"]["values"]["answer"]["text"]["value"] = "We already run <!channel> a museum account"
    status, body = await rig.post(submitted)
    assert status == 200 and body == ""
    await rig.deliver()
    assert rig.bot.store.case("ACC-0001").status == "declined"
    told = rig.last_to(ALEX_DM)
    assert "Jo Bloggs declined your" in told["text"] and "We already run &lt;!channel&gt; a museum account" in shown(told)
    assert "<!channel>" not in shown(told)


@pytest.mark.parametrize("change", ["no metadata", "not json", "empty reason"])
async def test_a_malformed_or_empty_form_is_refused_with_a_message(rig, change):
    submitted = payload("view_submission")
    if change == "not json":
        submitted["view"]["private_metadata"] = "{not json"
    elif change == "empty reason":
        submitted["view"]["private_metadata"] = json.dumps({"value": "case:ACC-0001:decline", "conversation": "D0JOBLOGGS"})
        submitted["view"]["state"]["values"]["answer"]["text"]["value"] = "   "
    status, body = await rig.post(submitted)
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors" and answer["errors"]["answer"]
    assert rig.bot.store.deliveries() == []


# -- what is typed is shown as typed ------------------------------------------------------------------------------
async def test_typed_markup_reaches_others_escaped_and_notifies_nobody(rig, fake):
    await report_mistake(rig, NASTY)
    for channel in (SAM_DM, MARKETING):
        everything = shown(rig.last_to(channel))
        for markup in ("<!channel>", "<!here>", "<@U123>", "<http://evil|bank>"):
            assert markup not in everything
        assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;http://evil|bank&gt; &amp; more" in everything


def test_from_slack_keeps_markup_as_typed_but_unwraps_plain_links():
    assert from_slack("<@U0BOT> see <https://x.com/a> &lt;b&gt; &amp; <!channel>", "U0BOT") == \
        "see https://x.com/a <b> & <!channel>"


def test_long_texts_are_split_and_cut_to_block_kit_limits(kb):
    huge = Reply("word " * 4000, (Quote("7.5", "Social Media Policy", "Section 7", "q" * 5000),),
                 choices=tuple(Choice("a very long label " * 10, f"dlg:s:{i}") for i in range(3)))
    message = blocks.message((huge,) * 6, kb.texts)
    assert len(message["blocks"]) <= 50 and len(message["text"]) <= 3000
    for block in message["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= 3000
        for element in block.get("elements", []):
            assert len(element.get("text", {}).get("text", "") if isinstance(element.get("text"), dict) else "") <= 75
    assert message["blocks"][-1]["type"] == "actions"  # the buttons survive the cut
    menu = blocks.message((Reply("pick", choices=tuple(Choice(f"c{i}", f"dlg:s:{i}") for i in range(8))),), kb.texts)
    assert menu["blocks"][-1]["elements"][0]["type"] == "static_select"
    note = Notification(1, "MIS-0001", Address("person", "x@y"), "X", "case", "T" * 400, "lead",
                        fields=(("What happened", "z" * 9000),))
    rendered = blocks.notification_message(note, kb.texts)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in rendered["blocks"])
    assert "z" * 9000 in "".join(b.get("text", {}).get("text", "") for b in rendered["blocks"]).replace("*What happened*\n", "").replace("\n", "")


# -- Slack's failures ---------------------------------------------------------------------------------------------
async def test_rate_limits_are_waited_out_and_the_message_posted_once(rig, fake, clock):
    fake.fail("chat.postMessage", 429, retry_after=30)
    await rig.dm(ALEX, "can I accept a friend request from a service user?")
    assert await rig.deliver() == 0
    delivery = rig.bot.store.deliveries()[0]
    assert delivery.status == "pending" and "rate limiting" in delivery.last_error
    clock.advance(0.4)  # 24 s: before Retry-After
    assert await rig.deliver() == 0
    clock.advance(0.2)
    assert await rig.deliver() == 1
    assert len(fake.posted(ALEX_DM)) == 1


async def test_server_errors_are_retried_and_a_message_slack_took_is_not_posted_twice(rig, fake, clock):
    fake.fail("chat.postMessage", 500)
    fake.fail("chat.postMessage", 502, after=True)  # Slack took it, then answered badly
    await rig.dm(ALEX, "can I accept a friend request from a service user?")
    for _ in range(4):
        await rig.deliver()
        clock.advance(30)
    assert len(fake.posted(ALEX_DM)) == 1
    delivery = rig.bot.store.deliveries()[0]
    assert delivery.status == "delivered" and [t[0] for t in delivery.tries] == ["failed", "failed", "found"]


@contextlib.asynccontextmanager
async def rig_without_sams_slack_id(kb, directory, clock, tmp_path, fake):
    """The bot with a staff directory that gives Sam Patel, Alex's line manager, no Slack id."""
    people = [Person(p.name, p.email, p.line_manager, "" if p.email.startswith("sam.") else p.slack_user_id)
              for p in directory.people]
    bot = PolicyBot(kb, open_store(tmp_path / "s.sqlite3"), Directory(people, list(directory.teams)), clock=clock)
    rig = await SlackRig.start(bot, fake)
    try:
        yield rig
    finally:
        await rig.close()
        bot.store.close()


async def test_a_manager_found_by_email_when_the_directory_has_no_slack_id(kb, directory, clock, tmp_path, fake):
    fake.emails["U0SAMNEW1"] = "sam.patel@council.example"
    async with rig_without_sams_slack_id(kb, directory, clock, tmp_path, fake) as rig:
        await report_mistake(rig)
        assert fake.called("users.lookupByEmail")[0]["email"] == "sam.patel@council.example"
        to_sam = rig.last_to("D0SAMNEW1")
        await rig.press("U0SAMNEW1", rig.buttons(to_sam)["Acknowledge"], message_ts=to_sam["ts"])
        await rig.deliver()
        assert rig.bot.store.case("MIS-0001").status == "acknowledged"  # Slack vouched for Sam's email: users.info
        assert "Done: you acknowledged" in rig.last_to("D0SAMNEW1")["text"]


async def test_a_manager_not_in_slack_means_the_team_and_the_reporter_are_told(kb, directory, clock, tmp_path, fake):
    async with rig_without_sams_slack_id(kb, directory, clock, tmp_path, fake) as rig:
        await report_mistake(rig)
        await rig.deliver()
        texts = [m["text"] for m in fake.posted(MARKETING)]
        assert any("Could not reach Sam Patel" in t and "users_not_found" in t for t in texts)
        assert "Could not reach Sam Patel" in rig.last_to(ALEX_DM)["text"]
        assert rig.bot.store.case("MIS-0001").events[-1].action == "undeliverable"


# -- App Home -----------------------------------------------------------------------------------------------------
async def test_app_home_shows_what_waits_for_a_manager_and_a_reporter_their_own(rig, fake):
    await report_mistake(rig)
    await rig.post(payload("app_home_opened", **{"event.user": SAM}))
    await rig.adapter.settle()
    view = fake.called("views.publish")[-1]
    assert view["user_id"] == SAM
    assert "MIS-0001: Report a mistaken post from Alex Morgan" in shown(view["view"])
    assert set(rig.buttons(view["view"])) == {"Acknowledge", "Resolve"}
    await rig.post(payload("app_home_opened", **{"event.user": ALEX, "event_id": "Ev0HOME02"}))
    await rig.adapter.settle()
    mine = fake.called("views.publish")[-1]
    assert mine["user_id"] == ALEX and "MIS-0001: Report a mistaken post, open" in shown(mine["view"])
    assert rig.buttons(mine["view"]) == {}
    await rig.post(payload("app_home_opened", **{"event.user": PRIYA, "event_id": "Ev0HOME03"}))
    await rig.adapter.settle()
    assert "MIS-0001" not in shown(fake.called("views.publish")[-1]["view"])

"""The three guided flows, driven as staff would drive them, on SQLite and on PostgreSQL."""
import json

import pytest

from bot.core import dialog_key
from bot.types import Incoming
from tests.support import ALEX, CHRIS, SAM, Chat

MISTAKE = [
    "I posted something on the council facebook page by mistake and need to report it",
    "council", "Facebook", "https://facebook.com/ourcouncil/posts/123",
    "I replied to a resident with the wrong collection date", "yes", "this morning about 9:30", "no",
]
ACCOUNT = [
    "I'd like to request a new instagram account for the museum",
    "Museums and heritage", "instagram", "Woking Museum", "1, 4",
    "Sam Patel, Jo Bloggs", "Within one working day; weekdays 9 to 5", "yes",
]
BULLYING = [
    "I want to report cyberbullying",
    "A colleague keeps posting mocking comments about me in a group chat", "3", "yes", "skip", "no",
]


def run(chat: Chat, script: list[str]) -> str:
    text = ""
    for line in script:
        text = chat.say(line)
    return text


def test_report_a_mistaken_post_from_start_to_case(app):
    chat = Chat(app)
    first = chat.say(MISTAKE[0])
    assert "8.2 (Social Media Policy" in first and "don't paste personal data" in first
    assert chat.last.replies[-1].lead == "Which account did it go out on?"
    summary = run(chat, MISTAKE[1:])
    assert "Sam Patel (your line manager) and the Marketing Communications team" in summary
    assert "- Account: A council account" in summary and "- Platform: Facebook" in summary
    assert "- What went wrong: I replied to a resident with the wrong collection date" in summary
    done = chat.press("Send")
    assert "Your case reference is MIS-0001" in done and "clause 8.5" in done
    case = app.store.case("MIS-0001")
    assert case.status == "open" and case.flags == ()
    assert case.answers["account"]["v"] == "council" and case.answers["visible"]["v"] == "yes"
    assert case.recipients == ("person:sam.patel@council.example", "team:marketing")
    assert [e.action for e in case.events] == ["submitted"]
    assert app.store.load_dialog(dialog_key(Incoming("console", chat.conversation, ALEX)))[0].count("MIS-0001") == 1


def test_a_second_report_gets_the_next_reference(app):
    for user in (ALEX, "jo.bloggs@council.example"):
        chat = Chat(app, user=user)
        run(chat, MISTAKE)
        chat.say("send")
    assert app.store.case("MIS-0002").reporter["email"] == "jo.bloggs@council.example"


def test_exposed_personal_data_marks_a_possible_breach_for_the_recipients(app, worker, transport):
    chat = Chat(app)
    run(chat, MISTAKE[:-1] + ["yes, it showed a resident's address"])
    done = chat.press("Send")
    assert "possible personal data breach" in done and "72 hours" in done
    assert app.store.case("MIS-0001").flags == ("personal_data_breach",)
    import asyncio

    asyncio.run(worker.run_once())
    for note in transport.sent:
        assert note.alert.startswith("Possible personal data breach. The council became aware at ")
        assert "by " in note.alert and "ICO" in note.alert


def test_request_a_business_account(app):
    chat = Chat(app)
    summary = run(chat, ACCOUNT)
    assert "- Purpose: Promoting the council's activities, Information and advice (including emergencies)" in summary
    assert "- Who will run it: Sam Patel, Jo Bloggs" in summary
    assert "the Marketing Communications team" in summary
    done = chat.say("send it")
    assert "ACC-0001" in done and "don't set the account up until it is approved" in done
    case = app.store.case("ACC-0001")
    assert case.recipients == ("team:marketing",)
    assert case.answers["people"]["v"] == ["Sam Patel", "Jo Bloggs"]


def test_an_account_request_waits_until_the_guidance_is_read(app):
    chat = Chat(app)
    run(chat, ACCOUNT[:-1])
    reply = chat.say("not yet")
    assert "Please read them first" in reply
    assert chat.last.replies[-1].lead.startswith("Have you read the council's Social Media Strategy")
    assert "Shall I send it?" in chat.say("yes")


def test_report_cyberbullying_goes_to_the_line_manager_only(app):
    chat = Chat(app)
    first = chat.say(BULLYING[0])
    assert "I'm sorry this is happening" in first and "8.3 (Social Media Policy" in first
    summary = run(chat, BULLYING[1:])
    assert "- Where: Messaging apps (WhatsApp, text messages)" in summary
    assert "- Link to evidence: (not given)" in summary
    assert "to Sam Patel (your line manager):" in summary
    done = chat.press("Send")
    assert "BUL-0001" in done and "only they and you can see it" in done
    assert app.store.case("BUL-0001").recipients == ("person:sam.patel@council.example",)
    assert app.store.case("BUL-0001").confidential


def test_bullying_involving_the_line_manager_goes_to_hr_and_offers_confidential_reporting(app):
    chat = Chat(app)
    run(chat, BULLYING[:-1] + ["yes, it is my manager"])
    done = chat.press("Send")
    assert "gone to HR instead" in done and "Confidential Reporting Policy (clause 4.3)" in done
    assert app.store.case("BUL-0001").recipients == ("team:hr",)


def test_a_line_manager_missing_from_the_directory_is_asked_for(app):
    chat = Chat(app, user=CHRIS)
    run(chat, MISTAKE[:-1])
    assert "couldn't find your line manager" in chat.say("no")
    assert "doesn't look like an email address" in chat.say("my boss")
    summary = chat.say("Pat.Lee@council.example")
    assert "pat.lee@council.example (your line manager)" in summary
    chat.press("Send")
    assert "person:pat.lee@council.example" in app.store.case("MIS-0001").recipients


# -- at any step: cancel, back, start again, questions ------------------------------------------------------
def test_cancel_at_any_step_sends_nothing(app):
    chat = Chat(app)
    run(chat, MISTAKE[:4])
    assert chat.say("cancel").startswith("Cancelled: nothing was sent")
    assert app.store.case("MIS-0001") is None and app.store.deliveries() == []
    assert "7.5" in chat.say("can I accept a friend request from a service user?")


def test_cancel_from_the_summary(app):
    chat = Chat(app)
    run(chat, MISTAKE)
    assert "nothing was sent" in chat.press("Cancel")
    assert app.store.case("MIS-0001") is None


def test_back_returns_to_the_previous_question_and_forgets_its_answer(app):
    chat = Chat(app)
    run(chat, MISTAKE[:3])  # account, platform answered
    back = chat.say("back")
    assert chat.last.replies[-1].lead == "Which platform was it on?"
    assert "[" not in back
    chat.say("Instagram")
    summary = run(chat, MISTAKE[3:])
    assert "- Platform: Instagram" in summary


def test_back_at_the_first_question_says_so(app):
    chat = Chat(app)
    chat.say(MISTAKE[0])
    assert chat.say("go back").startswith("That's the first question.")


def test_start_again_clears_the_answers(app):
    chat = Chat(app)
    run(chat, MISTAKE[:5])
    reply = chat.say("start again")
    assert reply.startswith("Starting again.") and chat.last.replies[-1].lead == "Which account did it go out on?"
    summary = run(chat, ["personal"] + MISTAKE[2:])
    assert "- Account: My personal account" in summary


def test_an_answer_can_be_changed_from_the_summary(app):
    chat = Chat(app)
    run(chat, MISTAKE)
    chat.press("Change an answer")
    chat.press("When it was posted")
    assert chat.last.replies[-1].lead.startswith("When was it posted?")
    summary = chat.say("yesterday at 4pm")
    assert "- When it was posted: yesterday at 4pm" in summary and "Shall I send it?" in summary


def test_a_policy_question_mid_flow_is_answered_and_the_flow_resumes(app):
    chat = Chat(app)
    run(chat, MISTAKE[:3])
    reply = chat.say("does the policy cover whatsapp?")
    assert "3.3 (Social Media Policy" in reply
    assert "Back to your report of a mistaken post:" in reply
    assert chat.last.replies[-1].lead.startswith("Paste a link to the post")
    assert "- Platform: Facebook" in run(chat, MISTAKE[3:])


def test_a_question_the_policy_does_not_cover_gets_the_fallback_and_the_flow_resumes(app):
    chat = Chat(app)
    run(chat, MISTAKE[:2])
    reply = chat.say("where do I park my bike?")
    assert "doesn't cover that" in reply and chat.last.replies[-1].lead == "Which platform was it on?"


def test_asking_for_another_flow_mid_flow_keeps_the_current_one(app):
    chat = Chat(app)
    run(chat, MISTAKE[:2])
    reply = chat.say("can you help me request a new twitter account?")
    assert "in the middle of your report of a mistaken post" in reply
    assert chat.last.replies[-1].lead == "Which platform was it on?"


def test_every_choice_can_be_typed(app):
    chat = Chat(app)
    chat.say(MISTAKE[0])
    chat.say("2")  # by number
    assert app.store.load_dialog(dialog_key(Incoming("console", chat.conversation, ALEX)))[0].count('"personal"') == 1
    chat.say("it was on twitter")  # by a word the choice knows
    chat.say("our twitter page, the bins post")
    chat.say("wrong date")
    chat.say("no idea")  # "no idea" is Not sure, not No
    summary = run(chat, ["yesterday", "not sure"])
    assert "- Platform: X (Twitter)" in summary and "- Still visible: Not sure" in summary
    assert "possible personal data breach" in chat.say("send")


def test_another_platform_can_be_typed(app):
    chat = Chat(app)
    run(chat, MISTAKE[:2])
    chat.say("Nextdoor")
    assert "- Platform: Nextdoor" in run(chat, MISTAKE[3:])


# -- validation ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer, complaint",
    [
        ("", "I need an answer to carry on."),
        ("   \x00\x07 ", "I need an answer to carry on."),
        ("x" * 10_000, "That's 10,000 characters; please keep it under 400"),
        ("?", "Please give a little more detail."),
    ],
)
def test_a_text_answer_is_checked_and_asked_again(app, answer, complaint):
    chat = Chat(app)
    run(chat, MISTAKE[:4])
    reply = chat.say(answer)
    assert reply.startswith(complaint)
    assert chat.last.replies[-1].lead.startswith("In a sentence, what went wrong?")


@pytest.mark.parametrize("link", ["https://", "http://localhost", "htps//facebook.com/x", "www.", "https://exa mple.com"])
def test_a_link_that_is_not_a_link_is_asked_again(app, link):
    chat = Chat(app)
    run(chat, BULLYING[:4])
    reply = chat.say(link)
    assert "link" in reply.split("\n")[0]
    assert chat.last.replies[-1].lead.startswith("If you have a link")


def test_a_link_without_its_scheme_is_completed(app):
    chat = Chat(app)
    run(chat, BULLYING[:4])
    chat.say("www.facebook.com/groups/123/posts/456")
    assert "- Link to evidence: https://www.facebook.com/groups/123/posts/456" in chat.say("no")


def test_an_unrecognised_choice_is_asked_again(app):
    chat = Chat(app)
    run(chat, MISTAKE[:5])
    assert chat.say("purple").startswith("I didn't recognise that as one of the choices")
    assert chat.say("7").startswith("I didn't recognise that")


def test_account_needs_two_named_people(app):
    chat = Chat(app)
    run(chat, ACCOUNT[:5])
    assert chat.say("just me").startswith("Please name at least 2 people")
    assert chat.say("Sam Patel and Sam Patel").startswith("Please name at least 2 people")
    assert chat.say("Sam Patel and Jo Bloggs").startswith("How quickly will you answer")


def test_emoji_and_control_characters_in_answers_are_kept_readable(app):
    chat = Chat(app)
    run(chat, MISTAKE[:4])
    chat.say("posted the wrong date 🙈\u200b\x1b[31m")
    summary = run(chat, MISTAKE[5:])
    assert "- What went wrong: posted the wrong date 🙈[31m" in summary


# -- buttons -----------------------------------------------------------------------------------------------------
def test_a_button_from_an_earlier_question_does_not_answer_this_one(app):
    chat = Chat(app)
    chat.say(MISTAKE[0])
    old = chat.last
    chat.press("A council account")
    chat.last = old
    reply = chat.press("My personal account")
    assert reply.startswith("That button was for an earlier question.")
    assert chat.last.replies[-1].lead == "Which platform was it on?"


def test_pressing_send_twice_sends_once(app):
    chat = Chat(app)
    run(chat, MISTAKE)
    summary = chat.last
    chat.press("Send")
    chat.last = summary
    assert chat.press("Send") == "That was already sent: the reference is MIS-0001."
    assert app.store.case("MIS-0002") is None


def test_a_forged_button_value_is_harmless(app):
    chat = Chat(app)
    assert chat.act("dlg:account:council") == "That form is no longer open, so nothing happened."
    chat.say(MISTAKE[0])
    assert "earlier question" in chat.act("dlg:account:" + "x" * 3000)
    assert "nothing happened" in Chat(app, user=SAM).act("case:zzz")


# -- time and restarts ---------------------------------------------------------------------------------------------
def test_a_flow_resumes_after_the_process_restarts(make_bot, store_url, clock):
    from tests.support import open_store

    first = open_store(store_url)
    chat = Chat(make_bot(first))
    run(chat, MISTAKE[:4])
    first.close()

    again = open_store(store_url)
    chat.bot = make_bot(again)
    clock.advance(20)
    reply = chat.say(MISTAKE[4])
    assert reply.startswith("Welcome back: you were part-way through your report of a mistaken post.")
    assert chat.last.replies[-1].lead == "Is the post still visible?"
    run(chat, MISTAKE[5:])
    assert "MIS-0001" in chat.press("Send")
    again.close()


def test_a_flow_left_too_long_expires_with_a_message(make_bot, store, clock):
    bot = make_bot(store, dialog_expiry=60 * 60)
    chat = Chat(bot)
    run(chat, MISTAKE[:3])
    clock.advance(61)
    reply = chat.say("https://facebook.com/ourcouncil/posts/123")
    assert reply.startswith("Your unfinished report of a mistaken post expired after 1 hour")
    assert "Nothing was sent" in reply
    assert store.case("MIS-0001") is None


def test_stored_state_from_an_older_version_restarts_the_flow(app, store):
    chat = Chat(app)
    run(chat, MISTAKE[:3])
    key = dialog_key(Incoming("console", chat.conversation, ALEX))
    state = json.loads(store.load_dialog(key)[0])
    state.update(step="platform_name", fingerprint="0ld")
    store.save_dialog(key, json.dumps(state), app.clock())
    reply = chat.say("Facebook")
    assert "its questions have changed, so we need to start again" in reply
    assert chat.last.replies[-1].lead == "Which account did it go out on?"


@pytest.mark.parametrize("stored", ["{not json", '{"kind": "flow", "flow": "gone_flow"}', "[]", '{"kind": "wizard"}'])
def test_unreadable_stored_state_is_cleared_not_a_crash(app, store, stored):
    chat = Chat(app)
    store.save_dialog(dialog_key(Incoming("console", chat.conversation, ALEX)), stored, app.clock())
    reply = chat.say("can I accept a friend request from a service user?")
    assert "I couldn't read where you were" in reply and "7.5" in reply
    assert "I couldn't read" not in chat.say("hello")


def test_flows_are_kept_apart_per_person(app):
    alex, sam = Chat(app, user=ALEX), Chat(app, user=SAM)
    run(alex, MISTAKE[:3])
    assert "7.5" in sam.say("can I accept a friend request from a service user?")
    assert alex.say(MISTAKE[3]).startswith("In a sentence, what went wrong?")


# -- the same behaviour in every flow ---------------------------------------------------------------------------
FLOWS = pytest.mark.parametrize("script, prefix", [(MISTAKE, "MIS"), (ACCOUNT, "ACC"), (BULLYING, "BUL")],
                                ids=["mistake", "account", "bullying"])


def question_now(chat: Chat) -> str:
    return chat.last.replies[-1].lead


@FLOWS
def test_every_flow_goes_back_answers_questions_and_cancels(app, script, prefix):
    chat = Chat(app)
    chat.say(script[0])
    first = question_now(chat)
    chat.say(script[1])
    second = question_now(chat)
    chat.say("back")
    assert question_now(chat) == first
    chat.say(script[1])
    reply = chat.say("can I use my work email address for my personal twitter?")
    assert "7.7 (Social Media Policy" in reply and question_now(chat) == second
    assert chat.say("cancel").startswith("Cancelled: nothing was sent")
    assert app.store.case(f"{prefix}-0001") is None


@FLOWS
def test_every_flow_resumes_after_a_restart_and_sends(make_bot, store_url, clock, script, prefix):
    from tests.support import open_store

    first = open_store(store_url)
    chat = Chat(make_bot(first))
    run(chat, script[:3])
    asked = question_now(chat)
    first.close()
    chat.bot = make_bot(open_store(store_url))
    clock.advance(15)
    assert chat.say("hello").startswith("Welcome back")
    assert question_now(chat) == asked
    run(chat, script[3:])
    assert f"{prefix}-0001" in chat.say("send")
    chat.bot.store.close()


@FLOWS
def test_every_flow_expires(make_bot, store, clock, script, prefix):
    chat = Chat(make_bot(store, dialog_expiry=30 * 60))
    run(chat, script[:2])
    clock.advance(31)
    assert "expired after 30 minutes" in chat.say(script[2])


@FLOWS
def test_every_flow_rejects_an_empty_and_a_huge_answer(app, script, prefix):
    chat = Chat(app)
    run(chat, script[:2])
    asked = question_now(chat)
    assert chat.say("").startswith("I need an answer to carry on.")
    assert "characters" in chat.say("word " * 2_000)
    assert question_now(chat) == asked

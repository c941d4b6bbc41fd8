"""Cases reach the right people once, recipients act on them, and nobody's silence loses a report."""
import asyncio

import pytest

from bot.delivery import DeliveryError, Worker
from tests.support import ALEX, DANA, JO, PRIYA, SAM, Chat, RecordingTransport
from tests.test_flows import ACCOUNT, BULLYING, MISTAKE, run

LINE_MANAGER, MARKETING, HR = f"person:{SAM}", "team:marketing", "team:hr"


def submit(app, script, user=ALEX) -> Chat:
    chat = Chat(app, user=user)
    run(chat, script)
    chat.say("send")
    return chat


def deliver(worker) -> int:
    return asyncio.run(worker.run_once())


def button(note, label):
    return next(c.value for c in note.actions if c.label == label)


def test_a_report_reaches_the_line_manager_and_the_team_once(app, worker, transport):
    submit(app, MISTAKE)
    assert deliver(worker) == 2
    assert deliver(worker) == 0
    assert [n.recipient.key for n in transport.sent] == [LINE_MANAGER, MARKETING]
    note = transport.to(LINE_MANAGER)[0]
    assert note.title == "Report a mistaken post: MIS-0001"
    assert note.lead.startswith("Alex Morgan (alex.morgan@council.example) sent this at ")
    assert "as their line manager" in note.lead
    assert ("What went wrong", "I replied to a resident with the wrong collection date") in note.fields
    assert [c.label for c in note.actions] == ["Acknowledge", "Resolve"]
    assert {d.status for d in app.store.deliveries("MIS-0001")} == {"delivered"}


def test_the_manager_acknowledges_and_the_reporter_is_told(app, worker, transport):
    submit(app, MISTAKE)
    deliver(worker)
    sam = Chat(app, user=SAM)
    assert sam.act(button(transport.to(LINE_MANAGER)[0], "Acknowledge")).startswith(
        "Done: you acknowledged MIS-0001. Alex Morgan (alex.morgan@council.example) has been told.")
    deliver(worker)
    told = transport.sent[-1]
    assert told.recipient.kind == "user" and told.recipient.id == ALEX
    assert told.lead == "Sam Patel acknowledged your report of a mistaken post (MIS-0001)."
    assert Chat(app, user=JO).act(button(transport.to(MARKETING)[0], "Resolve")).startswith("Done: you resolved")
    deliver(worker)
    assert transport.sent[-1].lead.startswith("Jo Bloggs resolved your report")
    case = app.store.case("MIS-0001")
    assert case.status == "resolved"
    assert [(e.action, e.actor.get("name")) for e in case.events] == [
        ("submitted", "Alex Morgan"), ("acknowledge", "Sam Patel"), ("resolve", "Jo Bloggs"),
    ]


def test_a_second_acknowledgement_is_told_who_already_acted(app, worker, transport):
    submit(app, MISTAKE)
    deliver(worker)
    Chat(app, user=SAM).act(button(transport.to(LINE_MANAGER)[0], "Acknowledge"))
    reply = Chat(app, user=JO).act(button(transport.to(MARKETING)[0], "Acknowledge"))
    assert reply.startswith("MIS-0001 was already acknowledged by Sam Patel at ")
    assert "haven't changed anything" in reply
    assert [e.action for e in app.store.case("MIS-0001").events].count("acknowledge") == 1
    deliver(worker)
    assert len([n for n in transport.sent if n.kind == "outcome"]) == 1


@pytest.mark.parametrize("outsider", [PRIYA, ALEX, "not-in-directory@elsewhere.example"])
def test_someone_it_was_not_sent_to_is_refused_and_nothing_changes(app, worker, transport, outsider):
    submit(app, MISTAKE)
    deliver(worker)
    reply = Chat(app, user=outsider).act(button(transport.to(LINE_MANAGER)[0], "Acknowledge"))
    assert reply == "Only the people MIS-0001 was sent to can act on it, so I haven't changed anything."
    assert app.store.case("MIS-0001").status == "open"
    assert deliver(worker) == 0


def test_an_action_the_case_does_not_offer_is_refused(app, worker, transport):
    submit(app, MISTAKE)
    assert "Only the people" in Chat(app, user=SAM).act("case:MIS-0001:approve")
    assert app.store.case("MIS-0001").status == "open"


def test_an_account_request_is_approved_and_the_requester_told(app, worker, transport):
    submit(app, ACCOUNT)
    deliver(worker)
    note = transport.to(MARKETING)[0]
    assert [c.label for c in note.actions] == ["Approve", "Decline"]
    assert Chat(app, user=DANA).act(button(note, "Approve")).startswith("Done: you approved ACC-0001.")
    deliver(worker)
    assert transport.sent[-1].lead == "Dana Whitfield approved your account request (ACC-0001)."
    assert "already approved by Dana Whitfield" in Chat(app, user=JO).act(button(note, "Decline"))


def test_declining_asks_for_a_reason_and_passes_it_on(app, worker, transport):
    submit(app, ACCOUNT)
    deliver(worker)
    jo = Chat(app, user=JO)
    assert jo.act(button(transport.to(MARKETING)[0], "Decline")).startswith("Why are you declining ACC-0001?")
    assert app.store.case("ACC-0001").status == "open"
    assert jo.say("") == "I need an answer to carry on."
    assert jo.say("We already run a museum account <!channel>").startswith("Done: you declined ACC-0001.")
    deliver(worker)
    told = transport.sent[-1]
    assert told.lead.endswith("Reason given: We already run a museum account <!channel>")
    assert app.store.case("ACC-0001").events[-1].detail == "We already run a museum account <!channel>"


def test_a_decline_reason_can_come_with_the_button(app, worker, transport):
    submit(app, ACCOUNT)
    deliver(worker)
    reply = Chat(app, user=JO).act(button(transport.to(MARKETING)[0], "Decline"), "Not enough staff to run it")
    assert reply.startswith("Done: you declined")
    assert app.store.case("ACC-0001").status == "declined"


def test_declining_can_be_cancelled(app, worker, transport):
    submit(app, ACCOUNT)
    deliver(worker)
    jo = Chat(app, user=JO)
    jo.act(button(transport.to(MARKETING)[0], "Decline"))
    assert jo.say("cancel") == "Stopped: ACC-0001 is unchanged."
    assert app.store.case("ACC-0001").status == "open"


def test_a_bullying_report_is_visible_only_to_the_reporter_and_its_recipients(app, worker, transport):
    alex = submit(app, BULLYING)
    assert alex.say("case BUL-0001").startswith("BUL-0001 (Report cyberbullying): open.")
    assert Chat(app, user=SAM).say("status of BUL-1").startswith("BUL-0001 (Report cyberbullying): open.")
    for outsider in (JO, PRIYA):
        assert Chat(app, user=outsider).say("case BUL-0001") == "I can't find a case BUL-0001 that you can see."
    assert Chat(app, user=JO).say("case BUL-0099") == "I can't find a case BUL-0099 that you can see."


def test_bullying_reported_to_hr_can_be_acted_on_by_hr_members_only(app, worker, transport):
    submit(app, BULLYING[:-1] + ["yes"])
    deliver(worker)
    note = transport.to(HR)[0]
    assert "Only the people" in Chat(app, user=SAM).act(button(note, "Acknowledge"))
    assert Chat(app, user=PRIYA).act(button(note, "Acknowledge")).startswith("Done: you acknowledged BUL-0001")


# -- reminders ----------------------------------------------------------------------------------------------------
def test_an_unacknowledged_report_is_sent_again_then_raised_to_the_team(app, worker, transport, clock):
    submit(app, BULLYING)
    deliver(worker)
    clock.advance(29)
    assert deliver(worker) == 0
    clock.advance(2)
    assert deliver(worker) == 1
    reminder = transport.sent[-1]
    assert reminder.kind == "reminder" and reminder.recipient.key == LINE_MANAGER
    assert reminder.title == "Reminder: BUL-0001 is waiting for someone to act"
    clock.advance(30)
    assert deliver(worker) == 1
    raised = transport.sent[-1]
    assert raised.kind == "raised" and raised.recipient.key == HR
    assert "in the 60 minutes since it was sent to Sam Patel" in raised.lead
    assert Chat(app, user=PRIYA).act(button(raised, "Acknowledge")).startswith("Done")
    clock.advance(120)
    sent = len(transport.sent)
    assert deliver(worker) == 4  # the reporter is told, and the three messages with buttons are brought up to date
    assert [n.kind for n in transport.sent[sent:]] == ["outcome"]  # no more reminders
    assert sorted(n.recipient.key for n in transport.updated) == sorted([LINE_MANAGER, LINE_MANAGER, HR])
    for update in transport.updated:
        assert "Priya Shah acknowledged this at" in update.status
        assert [a.label for a in update.actions] == ["Resolve"]
    assert [e.action for e in app.store.case("BUL-0001").events] == ["submitted", "reminded", "raised", "acknowledge"]


def test_an_acknowledged_report_is_not_reminded(app, worker, transport, clock):
    submit(app, MISTAKE)
    deliver(worker)
    Chat(app, user=SAM).act(button(transport.to(LINE_MANAGER)[0], "Acknowledge"))
    deliver(worker)
    clock.advance(90)
    assert deliver(worker) == 0


def test_the_reminder_time_is_configurable(make_bot, store, transport, clock):
    from bot.cases import CaseSettings

    bot = make_bot(store, cases=CaseSettings(reminder_after=5 * 60))
    worker = Worker(store, transport, bot.cases, clock=clock)
    submit(bot, MISTAKE)
    deliver(worker)
    clock.advance(6)
    assert deliver(worker) == 2 and {n.kind for n in transport.sent[-2:]} == {"reminder"}


def test_two_workers_send_a_reminder_once(app, store, transport, clock):
    submit(app, MISTAKE)
    workers = [Worker(store, transport, app.cases, clock=clock, name=f"w{i}") for i in range(2)]
    deliver(workers[0])
    clock.advance(31)
    assert deliver(workers[0]) + deliver(workers[1]) == 2
    assert [e.action for e in store.case("MIS-0001").events].count("reminded") == 1


# -- delivery faults ----------------------------------------------------------------------------------------------
def test_a_failing_delivery_is_retried_with_backoff_until_it_arrives(app, store, clock):
    transport = RecordingTransport(fail={LINE_MANAGER: [DeliveryError("HTTP 500"), DeliveryError("rate limited", retry_after=30)]})
    worker = Worker(store, transport, app.cases, clock=clock, name="w", backoff=10)
    submit(app, MISTAKE)
    assert deliver(worker) == 1  # the team's arrived; the manager's failed
    assert deliver(worker) == 0  # not due again yet
    clock.advance(0.25)
    assert deliver(worker) == 0  # second failure: told to wait 30 s
    clock.advance(0.6)
    assert deliver(worker) == 1
    assert deliver(worker) == 0
    record = next(d for d in store.deliveries("MIS-0001") if d.recipient["id"] == SAM)
    assert record.status == "delivered"
    assert [t[0] for t in record.tries] == ["failed", "failed", "delivered"]
    assert record.tries[0][1] == "HTTP 500" and record.tries[1][1] == "rate limited"
    assert len(transport.to(LINE_MANAGER)) == 1


def test_a_transport_that_hangs_or_breaks_does_not_lose_the_notification(app, store, clock):
    class Broken(RecordingTransport):
        calls = 0

        async def send(self, notification):
            self.calls += 1
            if self.calls == 1:
                await asyncio.sleep(5)
            if self.calls == 2:
                raise ValueError("bug in the adapter")
            return await super().send(notification)

    transport = Broken()
    worker = Worker(store, transport, app.cases, clock=clock, timeout=0.1, backoff=1)
    submit(app, ACCOUNT)
    assert deliver(worker) == 0
    clock.advance(1)
    assert deliver(worker) == 0
    clock.advance(1)
    assert deliver(worker) == 1
    tries = store.deliveries("ACC-0001")[0].tries
    assert [t[0] for t in tries] == ["failed", "failed", "delivered"]
    assert tries[0][1].startswith("no answer within") and "bug in the adapter" in tries[1][1]


def test_a_person_who_can_never_be_reached_gets_it_via_the_team_and_the_reporter_is_told(app, store, clock):
    transport = RecordingTransport(fail={LINE_MANAGER: [DeliveryError("the app is not installed for them", permanent=True)]})
    worker = Worker(store, transport, app.cases, clock=clock)
    submit(app, BULLYING)
    assert deliver(worker) == 2  # to HR instead, and to the reporter
    assert deliver(worker) == 0
    hr = transport.to(HR)
    assert len(hr) == 1 and hr[0].kind == "undeliverable"
    assert "couldn't deliver BUL-0001 to Sam Patel (the app is not installed for them)" in hr[0].lead
    reporter = [n for n in transport.sent if n.recipient.kind == "user"]
    assert len(reporter) == 1 and "come to your team instead" in reporter[0].lead
    assert Chat(app, user=PRIYA).act(button(hr[0], "Acknowledge")).startswith("Done")
    assert [d.status for d in store.deliveries("BUL-0001")][0] == "failed"

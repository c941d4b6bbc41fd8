"""What staff see when they ask: a plain answer, the clause quoted with its number, a next step."""
import pytest

import knowledge
from bot.core import PolicyBot
from bot.types import Incoming, Intent


@pytest.mark.parametrize(
    "question, clause",
    [
        ("my neighbour who is one of our tenants wants to follow me on instagram", "7.5"),
        ("can I put a photo of a child we support on my facebook", "5.8"),
        ("is it ok to tweet about the job cuts being planned", "7.6"),
        ("can I open a personal snapchat with my council email address", "7.7"),
        ("can I moan about my line manager on my own facebook", "7.10"),
        ("do agency temps have to follow these rules", "3.4"),
        ("is it fine to scroll tiktok during work hours", "7.8"),
        ("does the policy still apply if my profile is anonymous", "7.2"),
        ("what could happen to me if I don't follow the social media policy", "9.1"),
        ("what laws cover online abuse", "8.6"),
        ("can the council make me take a post down", "8.5"),
        ("who approves a new council facebook page", "5.2"),
    ],
)
def test_questions_are_answered_from_the_right_clause(ask, question, clause):
    understanding, reply = ask(question)
    assert understanding.intent is Intent.ANSWER
    assert understanding.clauses[0] == clause


def test_an_answer_reads_plain_answer_then_quoted_clause_with_number_and_section(ask, kb):
    understanding, reply = ask("can I accept a friend request from a tenant?")
    clause = kb.clause("7.5")
    assert reply.lead == clause.summary
    assert reply.quotes[0].citation == "7.5"
    assert reply.quotes[0].section == "Section 7: Personal use of social media"
    assert reply.quotes[0].text == clause.text
    text = reply.text
    assert text.index(clause.summary) < text.index("7.5 (Social Media Policy, Section 7: Personal use of social media)")
    assert "> You must consider carefully whether you accept 'friend requests'" in text


@pytest.mark.parametrize(
    "question, clause, step",
    [
        ("oops I posted something on our team page by accident, what now?", "8.2", "Report the mistake"),
        ("do we need permission before we start a youtube channel for the service?", "5.2", "Request approval"),
        ("a coworker keeps sending me nasty messages online, what can I do", "8.3", "Report cyberbullying"),
    ],
)
def test_answers_offer_the_guided_flow_that_fits(ask, question, clause, step):
    understanding, reply = ask(question)
    assert understanding.intent is Intent.ANSWER and understanding.clauses[0] == clause
    assert reply.next_step.startswith(f"Next step: {step}")
    assert reply.choices[0].label.startswith(step)
    assert reply.text.endswith(reply.next_step)


def test_a_grievance_answer_points_to_the_grievance_policy(ask):
    understanding, reply = ask("can I rant about my boss on twitter")
    assert understanding.clauses[0] == "7.10"
    assert "Grievance Policy" in reply.next_step


@pytest.mark.parametrize(
    "question",
    [
        "how do I book annual leave",
        "the photocopier on floor 2 is jammed",
        "what is the council tax band for my house",
        "I sent the wrong invoice to a supplier",
        "how do I request a new laptop",
        "when is payday this month",
    ],
)
def test_questions_the_policy_does_not_cover_get_a_plain_fallback(ask, question):
    understanding, reply = ask(question)
    assert understanding.intent is Intent.FALLBACK
    assert understanding.clauses == ()
    assert reply.quotes == ()
    assert "doesn't cover that" in reply.lead
    assert "Marketing Communications team (marketing.communications@woking.gov.uk)" in reply.lead


@pytest.mark.parametrize(
    "message, intent",
    [
        ("I need to report a post I made by mistake", Intent.REPORT_MISTAKE),
        ("please log a tweet I sent from the council account in error", Intent.REPORT_MISTAKE),
        ("request a new business account for our team", Intent.REQUEST_ACCOUNT),
        ("I'd like to apply for an instagram account for the leisure centre", Intent.REQUEST_ACCOUNT),
        ("I want to report cyberbullying", Intent.REPORT_BULLYING),
        ("can you help me report harassment from a colleague on whatsapp", Intent.REPORT_BULLYING),
    ],
)
def test_requests_to_start_a_guided_flow_are_recognised(ask, message, intent):
    understanding, reply = ask(message)
    assert understanding.intent is intent
    flow_clause = {"report_mistake": "8.2", "request_account": "5.2", "report_bullying": "8.3"}[intent.value]
    assert understanding.clauses == (flow_clause,)
    assert reply.quotes[0].citation == flow_clause


@pytest.mark.parametrize(
    "question",
    [
        "how do I report a post I made by mistake?",
        "we set up an instagram account without asking anyone, what happens now",
        "what do we need before we run a service account",
        "I made a mistake on a timesheet",
    ],
)
def test_questions_about_the_rules_do_not_start_a_flow(ask, question):
    understanding, _ = ask(question)
    assert understanding.intent in (Intent.ANSWER, Intent.FALLBACK)


@pytest.mark.parametrize(
    "question, clause",
    [
        ("can i acept a freind reqest from a resdent on fb", "7.5"),
        ("does ths aply to whatsap", "3.3"),
        ("my collegue is harrasing me on insta", "8.3"),
        ("r DMs covered", "3.3"),
        ("linkdin connection with a supplier ok?", "7.5"),
    ],
)
def test_typos_and_abbreviations_are_understood(ask, question, clause):
    understanding, _ = ask(question)
    assert understanding.clauses[0] == clause


def test_staff_words_mean_the_policys_terms(ask):
    assert ask("can I be facebook friends with a parent from the family centre")[0].clauses[0] == "7.5"
    assert ask("what if I break the policy")[0].clauses[0] == "9.1"
    assert ask("once I've left the council can I talk about cases I worked on")[0].clauses[0] == "5.8"


def test_a_long_paragraph_is_understood(ask):
    question = (
        "Hi, hope you are well. I work in the housing team and last week one of the tenants I have been "
        "helping with a repair sent me a friend request on Facebook. I don't really want to be rude and "
        "she seems nice, but I'm not sure whether I should accept it or whether that would be a problem "
        "for me at work. What does the policy say?"
    )
    assert ask(question)[0].clauses[0] == "7.5"


@pytest.mark.parametrize(
    "message, intent, expected",
    [
        ("hello", Intent.GREETING, "Hello!"),
        ("hi there bot", Intent.GREETING, "Hello!"),
        ("thanks a lot", Intent.GREETING, "You're welcome"),
        ("cheers!", Intent.GREETING, "You're welcome"),
        ("help", Intent.HELP, "Things you can ask"),
        ("what can you do?", Intent.HELP, "Things you can ask"),
    ],
)
def test_greetings_thanks_and_help(ask, message, intent, expected):
    understanding, reply = ask(message)
    assert understanding.intent is intent
    assert expected in reply.text


def test_help_lists_the_guided_flows(ask):
    _, reply = ask("help")
    for phrase in ("report a mistaken post", "request a new business account", "report cyberbullying"):
        assert phrase in reply.text


def test_a_greeting_with_a_question_answers_the_question(ask):
    assert ask("hi! can I use my work email for twitter?")[0].clauses[0] == "7.7"


@pytest.mark.parametrize("message", ["", "   ", "\x00\x07\n\t", "🙂🙂🙂"])
def test_an_empty_message_gets_a_prompt_not_an_error(ask, message):
    understanding, reply = ask(message)
    assert understanding.intent is Intent.HELP
    assert "didn't catch a question" in reply.text


def test_control_characters_and_emoji_around_a_question_are_ignored(ask):
    understanding, _ = ask("\x1b[31mcan I accept a friend\u200b request from a tenant? 🤔\x00")
    assert understanding.clauses[0] == "7.5"


def test_a_40000_character_message_is_read_in_part_and_answered(ask):
    understanding, reply = ask("does the policy cover whatsapp? " + "blah " * 8000)
    assert len("blah " * 8000) >= 40000
    assert understanding.truncated
    assert understanding.clauses[0] == "3.3"
    assert reply.notes and "first 4000 characters" in reply.notes[0]


def test_pressing_a_flow_choice_is_understood_as_that_flow(ask):
    _, answer = ask("I posted something by mistake on the council page, what do I do?")
    understanding, reply = ask("", action=answer.choices[0].value)
    assert understanding.intent is Intent.REPORT_MISTAKE
    assert reply.quotes[0].citation == "8.2"


def test_an_unknown_choice_gets_help_not_an_error(ask):
    understanding, reply = ask("", action="flow:no-such-flow")
    assert understanding.intent is Intent.HELP


def test_a_second_document_is_searched_and_cited_by_document_and_number(kb_copy):
    (kb_copy / "documents" / "expenses.yaml").write_text(
        """
document:
  id: expenses
  title: Travel and Expenses Policy
  organisation: Woking Borough Council
  owner: Finance Manager
  effective: April 2024
  review: April 2026
  feedback_email: finance@example.org
  contact: {name: Finance team, email: finance@example.org}
sections:
  - number: "3"
    title: Mileage
    clauses:
      - id: "3.1"
        text: Staff who use their own car for council business may claim mileage at the approved rate.
        summary: You can claim mileage for council business journeys in your own car.
        topics: [mileage claims, car travel]
        asks: [how do I claim mileage, can I claim for driving my car]
""",
        encoding="utf-8",
    )
    manifest = kb_copy / "knowledge.yaml"
    manifest.write_text(manifest.read_text().replace(
        "  - documents/social-media-policy.yaml\n", "  - documents/social-media-policy.yaml\n  - documents/expenses.yaml\n"
    ))
    bot = PolicyBot(knowledge.load(kb_copy))
    mileage = bot.handle(Incoming("test", "c", "u", "can I claim mileage for using my car"))
    assert mileage.understanding.clauses[0] == "expenses:3.1"
    assert mileage.replies[0].quotes[0].document == "Travel and Expenses Policy"
    friends = bot.handle(Incoming("test", "c", "u", "can I accept a friend request from a tenant"))
    assert friends.understanding.clauses[0] == "7.5"

"""The command line as people and scoring tools use it: real processes, real standard input and output."""
import json
import os
import subprocess
import tempfile
import sys
from importlib.metadata import entry_points

from tests.conftest import ROOT

INTENTS = {"answer", "fallback", "report_mistake", "request_account", "report_bullying", "help", "greeting"}


def policybot(*args: str, stdin: str = "", data_dir=None) -> subprocess.CompletedProcess:
    data_dir = data_dir or tempfile.mkdtemp(prefix="policybot-test-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        input=stdin, capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60,
        env={**env, "POLICYBOT_DATA_DIR": str(data_dir)},
    )


def test_the_policybot_command_is_installed():
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("policybot") == "adapters.cli:main"


def test_ask_prints_the_answer_as_a_person_reads_it():
    result = policybot("ask", "can I sign up to instagram with my work email?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No. Don't use your council email address")
    assert "7.7 (Social Media Policy, Section 7: Personal use of social media)" in result.stdout
    assert "> Do not use council email addresses" in result.stdout


def test_ask_without_a_question_explains_itself():
    result = policybot("ask")
    assert result.returncode == 2
    assert "give a question" in result.stderr


def test_ask_json_writes_one_object_per_input_line_in_order():
    questions = [
        "can I friend a tenant on facebook",
        "",
        "where do I park my bike",
        "I need to report a post I put up by mistake",
        "hello",
        "help",
        "i want to request a new twitter account for the museum",
        "i'm being bullied online by a colleague and want to report it",
    ]
    result = policybot("ask", "--json", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in records] == questions
    for record in records:
        assert set(record) == {"question", "intent", "clauses", "confidence", "text"}
        assert record["intent"] in INTENTS
        assert 0.0 <= record["confidence"] <= 1.0
        assert isinstance(record["clauses"], list) and record["text"]
    assert [r["intent"] for r in records] == [
        "answer", "help", "fallback", "report_mistake", "greeting", "help", "request_account", "report_bullying",
    ]
    assert records[0]["clauses"][0] == "7.5"
    assert records[2]["clauses"] == []
    assert records[3]["clauses"] == ["8.2"]


def test_ask_json_keeps_unicode_readable_and_one_line_per_record():
    result = policybot("ask", "--json", stdin="does the policy cover whatsapp? 🙂\n")
    record = json.loads(result.stdout)
    assert record["question"] == "does the policy cover whatsapp? 🙂"
    assert record["clauses"] == ["3.3"]
    assert len(result.stdout.splitlines()) == 1


def test_chat_is_a_conversation_in_the_terminal():
    result = policybot("chat", stdin="hi\ncan I accept a friend request from a tenant?\nthanks\nquit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ask me about the Social Media Policy" in out
    assert "you> can I accept a friend request from a tenant?" in out
    assert "7.5 (Social Media Policy, Section 7: Personal use of social media)" in out
    assert out.index("Hello!") < out.index("7.5 (") < out.index("You're welcome")
    assert out.rstrip().endswith("Goodbye.")


def test_chat_offers_numbered_choices_and_a_number_picks_one():
    result = policybot("chat", stdin="I tweeted from the council account by mistake, what should I do?\n1\n")
    out = result.stdout
    assert "[1] Report the mistake" in out
    assert "Which account did it go out on?" in out


def test_chat_ends_cleanly_at_end_of_input():
    result = policybot("chat", stdin="")
    assert result.returncode == 0
    assert "Goodbye." in result.stdout


def test_kb_check_from_the_command_line():
    result = policybot("kb", "check")
    assert result.returncode == 0
    assert result.stdout.startswith("ok: 1 document(s), 53 clauses")


def test_chat_demonstrates_a_whole_report_from_both_sides(tmp_path):
    script = [
        "I posted on the council instagram by mistake and want to report it",
        "1", "instagram", "our Instagram, the post about the summer fair",
        "I posted the wrong date for the fair", "yes", "today at 10", "no", "1",
        "/as sam.patel@council.example", "1",
        "/as alex.morgan@council.example", "case MIS-1",
    ]
    result = policybot("chat", stdin="\n".join(script) + "\n", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You are Alex Morgan <alex.morgan@council.example>." in out
    assert "Sent. Your case reference is MIS-0001" in out
    assert "----- message for Sam Patel <sam.patel@council.example> -----" in out
    assert "----- message for the Marketing Communications team" in out
    assert "(to act on it, first type: /as sam.patel@council.example)" in out
    assert "Done: you acknowledged MIS-0001." in out
    assert "----- message for you -----" not in out.split("You are now Sam Patel")[0]
    assert "Sam Patel acknowledged your report of a mistaken post (MIS-0001)." in out
    assert "MIS-0001 (Report a mistaken post): acknowledged." in out


def test_chat_resumes_a_half_finished_report_after_a_restart(tmp_path):
    policybot("chat", stdin="I need to report a mistaken post\n2\n", data_dir=tmp_path)
    result = policybot("chat", stdin="Facebook\n", data_dir=tmp_path)
    assert "Paste a link to the post" in result.stdout

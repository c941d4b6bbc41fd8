"""`policybot kb check` finds each kind of problem and says where it is."""
import re

import pytest

import knowledge
from adapters.cli import main

DOC = "documents/social-media-policy.yaml"


def edit(directory, name, old, new):
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1  # the line of the edit


def run_check(directory, capsys):
    code = main(["kb", "check", str(directory)])
    return code, capsys.readouterr().out


def test_the_shipped_knowledge_base_is_clean(capsys):
    code, out = run_check(knowledge.DEFAULT_DIR, capsys)
    assert code == 0
    assert "ok: 1 document(s), 53 clauses" in out
    assert "0 warning(s)" in out


def test_a_duplicate_clause_id_is_reported_with_file_and_line(kb_copy, capsys):
    line = edit(kb_copy, DOC, "- id: '7.5'", "- id: '7.4'")
    code, out = run_check(kb_copy, capsys)
    assert code == 1
    assert f"{kb_copy / DOC}:{line}: error: duplicate clause id '7.4'" in out


def test_a_missing_field_is_reported(kb_copy, capsys):
    edit(kb_copy, DOC, "  - id: '8.1'\n    text:", "  - id: '8.1'\n    txet:")
    code, out = run_check(kb_copy, capsys)
    assert code == 1
    assert re.search(rf"{re.escape(str(kb_copy / DOC))}:\d+: error: clause 8.1: missing 'text'", out)
    assert "unknown field 'txet'" in out


def test_a_reference_to_a_clause_that_does_not_exist_is_reported(kb_copy, capsys):
    line = edit(kb_copy, DOC, "  - id: '7.10'\n", "  - id: '7.10'\n    see_also: ['7.99']\n") + 1
    code, out = run_check(kb_copy, capsys)
    assert code == 1
    assert f"{kb_copy / DOC}:{line}: error: reference to clause '7.99', which does not exist" in out


def test_a_flow_pointing_at_a_missing_clause_or_a_missing_flow_is_reported(kb_copy, capsys):
    edit(kb_copy, "flows.yaml", "clause: social-media:8.2", "clause: social-media:8.20")
    edit(kb_copy, DOC, "    flow: request_account", "    flow: request_acount")
    code, out = run_check(kb_copy, capsys)
    assert code == 1
    assert "reference to clause 'social-media:8.20', which does not exist" in out
    assert "next_step flow 'request_acount' does not exist" in out


def test_invalid_yaml_is_reported_with_its_line(kb_copy, capsys):
    edit(kb_copy, "lexicon.yaml", "  facebook:\n", "  facebook: [\n")
    code, out = run_check(kb_copy, capsys)
    assert code == 1
    assert re.search(rf"{re.escape(str(kb_copy / 'lexicon.yaml'))}:\d+: error: invalid YAML", out)


def test_a_text_with_an_unknown_placeholder_is_reported(kb_copy, capsys):
    edit(kb_copy, "texts.yaml", "doesn't cover that", "doesn't cover {topic}")
    code, out = run_check(kb_copy, capsys)
    assert code == 1
    assert "text 'fallback' uses unknown placeholder {topic}" in out


def test_the_bot_refuses_to_start_on_a_broken_knowledge_base(kb_copy):
    edit(kb_copy, DOC, "- id: '7.5'", "- id: '7.4'")
    with pytest.raises(knowledge.KnowledgeBaseError, match="duplicate clause id"):
        knowledge.load(kb_copy)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("      - id: platform\n        label: Platform\n        ask: Which platform was it on?",
         "      - id: platform\n        label: Platform\n        kind: dropdown\n        ask: Which platform was it on?",
         "kind must be one of choice, text, link, email, people"),
        ("        when: {manager_involved: [\"no\"], line_manager: [unknown]}",
         "        when: {manager_involved: [\"maybe\"], line_manager: [unknown]}",
         "'when' 'manager_involved' can never be 'maybe'"),
        ("        when: {manager_involved: [\"no\"], line_manager: [unknown]}",
         "        when: {manager_feelings: [\"no\"], line_manager: [unknown]}",
         "'when' refers to 'manager_feelings', which is not an earlier step"),
        ("      prefix: ACC", "      prefix: MIS", "prefix 'MIS' is used by another flow"),
        ("      actions: [approve, decline]", "      actions: [approve, shred]", "unknown action 'shred'"),
        ("{reference}; I've sent it", "{ref}; I've sent it", "done text uses unknown placeholder {ref}"),
        ("      - id: account_name", "      - id: service", "step 'service': the id is already used"),
        ("        max: 1000", "        max: 40000", "'max' can be at most 4000"),
        ("also: [\"n\", \"no\", nope", "also: [\"n\", no, nope", "quote yes, no, y and n"),
    ],
)
def test_mistakes_in_the_flows_are_reported_with_their_line(kb_copy, capsys, old, new, message):
    line = edit(kb_copy, "flows.yaml", old, new)
    code, out = run_check(kb_copy, capsys)
    assert code == 1
    found = [l for l in out.splitlines() if message in l]
    assert found, out
    reported = int(re.match(r".*flows\.yaml:(\d+):", found[0]).group(1))
    assert abs(reported - line) <= 12, (reported, line, found[0])

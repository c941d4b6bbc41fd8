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

"""The knowledge base holds the policy word for word, with the document's own facts."""
import re
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "knowledge" / "sources" / "social-media-policy.txt"


def words(text: str) -> list[str]:
    """Words of the policy, without the Markdown left from its conversion: link targets (#),
    brackets around document names, escapes and bold markers, and bullet dashes."""
    text = text.replace("(#)", "")
    text = re.sub(r"[\[\]\\*]", "", text)
    return [w for w in text.split() if w != "-"]


def source_body() -> str:
    text = SOURCE.read_text(encoding="utf-8")
    start = text.index("\n1. Introduction")
    end = text.index("Social Council on media policy")  # the closing footer, not a clause
    return text[start:end]


def knowledge_base_text(kb) -> str:
    parts = []
    for section in kb.primary.sections:
        parts.append(f"{section.number}. {section.title}")
        for clause in (c for c in kb.primary.clauses if c.section == section):
            parts.append(f"{clause.id}. {clause.text}")
    return "\n".join(parts)


def test_every_clause_is_in_the_knowledge_base_word_for_word_and_in_order(kb):
    expected = words(source_body())
    actual = words(knowledge_base_text(kb))
    for i, (want, got) in enumerate(zip(expected, actual)):
        assert want == got, f"word {i}: policy has {' '.join(expected[i-5:i+5])!r}, knowledge base {' '.join(actual[i-5:i+5])!r}"
    assert len(actual) == len(expected)


def test_the_knowledge_base_has_the_53_clauses_from_1_1_to_10_2(kb):
    numbered = re.findall(r"^\s*(?:- )?(\d+\.\d+)\. ", source_body(), re.M)
    ids = [c.id for c in kb.primary.clauses]
    assert ids == numbered
    assert len(ids) == 53 and ids[0] == "1.1" and ids[-1] == "10.2"


def test_bullet_lists_stay_with_their_clause(kb):
    assert "- The Malicious Communications Act 1988" in kb.clause("8.6").text
    assert kb.clause("3.4").text.splitlines()[1:] == [
        "- agency workers", "- casual workers", "- consultants",
        "- interims engaged from time to time by the council", "- volunteers",
    ]


def test_each_clause_knows_its_section(kb):
    clause = kb.clause("7.5")
    assert (clause.section.number, clause.section.title) == ("7", "Personal use of social media")
    assert kb.clause("6.1").section.title == "Elected member use of social media"


def test_the_documents_own_facts_are_data(kb):
    doc = kb.primary
    assert doc.title == "Social Media Policy"
    assert doc.owner == "Marketing Communications Manager"
    assert (doc.effective, doc.review) == ("August 2020", "August 2022")
    assert doc.facts["approved_by"] == "Council" and doc.facts["approved_on"] == "2020-10-15"
    assert doc.feedback_email == "marketing.communications@woking.gov.uk"
    assert "Confidential Reporting Policy" in doc.related_documents
    assert doc.contact.name == "Marketing Communications team"


def test_every_clause_carries_help_to_find_it(kb):
    for clause in kb.clauses:
        assert clause.summary and clause.topics and clause.asks, clause.id
        assert set(clause.applies_to) <= {"employees", "elected_members", "third_parties"}


"""What a message is: small talk, a request to start a guided flow, a policy question, or out of scope."""
from __future__ import annotations

import math
from dataclasses import dataclass

from bot.types import Intent, Understanding
from knowledge.analysis import Analysis, Analyzer, Phrases, tokenize
from knowledge.model import Flow, KnowledgeBase
from knowledge.search import ClauseIndex, Hit, corpus

MAX_CHARS = 4000  # longer messages are read up to here
MAX_TOKENS = 800
QUESTION_AUXILIARIES = frozenset({"do", "does", "did", "should", "would", "will", "shall", "must", "why", "how"})
SHORT_REQUEST_WORDS = 4


@dataclass(frozen=True)
class Thresholds:
    """How sure the bot must be before it answers from a clause rather than saying the policy is silent."""

    coverage_anchored: float = 0.25  # the message mentions social media or the policy
    coverage_plain: float = 0.6  # it does not: the clause must account for most of it,
    strong_score: float = 10.0  # unless the clause matches it strongly
    coverage_strong: float = 0.3  # and still accounts for this much
    coverage_anchored_strong: float = 0.15  # a long message about social media with a strong match
    min_score: float = 1.5
    second_ratio: float = 0.8  # cite a second clause scoring within this share of the first


class Understander:
    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds = Thresholds()):
        self.kb = kb
        self.thresholds = thresholds
        self.analyzer = Analyzer(kb.lexicon, corpus(kb.clauses))
        self.index = ClauseIndex(kb.clauses, self.analyzer)
        lex = kb.lexicon
        self._smalltalk = {kind: Phrases(phrases) for kind, phrases in lex.smalltalk.items()}
        self._smalltalk_all = Phrases(p for phrases in lex.smalltalk.values() for p in phrases)
        self._fillers = lex.smalltalk_fillers | lex.stopwords
        self._request = Phrases(lex.framing.get("request", ()))
        self._question = Phrases(lex.framing.get("question", ()))
        self._openers = frozenset(lex.framing.get("openers", ()))
        self._flows = [_FlowRecogniser(flow, self.analyzer, set(lex.concepts)) for flow in kb.flows.values()]

    def understand(self, text: str) -> Understanding:
        truncated = len(text) > MAX_CHARS
        text = text[:MAX_CHARS]
        words = tokenize(text)
        if not words:
            return Understanding(Intent.HELP, confidence=1.0, truncated=truncated, small_talk="empty")
        small = self._small_talk(words)
        if small is not None:
            intent = Intent.HELP if small == "help" else Intent.GREETING
            return Understanding(intent, confidence=1.0, truncated=truncated, small_talk=small)
        analysis = self.analyzer.analyze(text, correct=True, max_tokens=MAX_TOKENS)
        hits = self.index.search(analysis)
        ranked = tuple(self.kb.citation_id(h.clause) for h in hits)
        flow = self._flow_request(words, analysis)
        if flow is not None:
            return Understanding(Intent(flow.id), self._flow_clauses(flow), 0.9, ranked, truncated, analysis.corrections)
        cited = self._cited(analysis, hits)
        if not cited:
            confidence = 1.0 - (self._confidence(hits[0]) if hits else 0.0)
            return Understanding(Intent.FALLBACK, (), round(confidence, 3), ranked, truncated, analysis.corrections)
        return Understanding(
            Intent.ANSWER,
            tuple(self.kb.citation_id(h.clause) for h in cited),
            round(self._confidence(cited[0]), 3),
            ranked,
            truncated,
            analysis.corrections,
        )

    def starts_with_question(self, text: str) -> bool:
        """Whether the message opens like a question ("can I...", "what...")."""
        return self._question.starts(tokenize(text[:MAX_CHARS]))

    def chosen_flow(self, flow_id: str) -> Understanding | None:
        """A flow the person picked from the choices offered; None if there is no such flow."""
        flow = self.kb.flows.get(flow_id)
        return Understanding(Intent(flow.id), self._flow_clauses(flow), 1.0) if flow else None

    def _flow_clauses(self, flow: Flow) -> tuple[str, ...]:
        clause = self.kb.clause(flow.clause)
        return (self.kb.citation_id(clause),) if clause else ()

    def _small_talk(self, words: list[str]) -> str | None:
        """The kind of small talk ("help", "thanks", "greeting") if that is all the message is."""
        spans = self._smalltalk_all.spans(words)
        if not spans:
            return None
        covered = {i for start, length in spans for i in range(start, start + length)}
        if any(w not in self._fillers for i, w in enumerate(words) if i not in covered):
            return None
        return next(kind for kind, phrases in self._smalltalk.items() if phrases.contains(words))

    def _flow_request(self, words: list[str], analysis: Analysis) -> Flow | None:
        for recogniser in self._flows:
            if recogniser.matches(analysis) and self._asks_for_action(words, recogniser):
                return recogniser.flow
        return None

    def _asks_for_action(self, words: list[str], recogniser: "_FlowRecogniser") -> bool:
        """A request ("I need to report...", "report a post", "mistaken post report"), not a question
        about the rules ("how do I report...?", "do I need to report...?")."""
        for start, _ in self._request.spans(words):
            if start == 0 or words[start - 1] not in QUESTION_AUXILIARIES:
                return True
        if recogniser.starts_with_action(self._without_openers(words)):
            return True
        return len(words) <= SHORT_REQUEST_WORDS and not self._question.starts(words)

    def _without_openers(self, words: list[str]) -> list[str]:
        """The message after a greeting or "please" at its start: "hi, please report..." starts with "report"."""
        i = 0
        while i < len(words) and (words[i] in self._openers or self._smalltalk["greeting"].starts(words[i : i + 1])):
            i += 1
        return words[i:]

    def _cited(self, analysis: Analysis, hits: list[Hit]) -> list[Hit]:
        good = [h for h in hits if self._answers(analysis, h)]
        if not good or good[0] is not hits[0]:
            return []
        return [good[0]] + [h for h in good[1:2] if h.score >= self.thresholds.second_ratio * good[0].score]

    def _answers(self, analysis: Analysis, hit: Hit) -> bool:
        t = self.thresholds
        if hit.score < t.min_score:
            return False
        strong = hit.score >= t.strong_score
        if analysis.anchored:
            return hit.coverage >= t.coverage_anchored or (strong and hit.coverage >= t.coverage_anchored_strong)
        return hit.coverage >= t.coverage_plain or (strong and hit.coverage >= t.coverage_strong)

    @staticmethod
    def _confidence(hit: Hit) -> float:
        return hit.coverage * (1 - math.exp(-hit.score / 4))


class _FlowRecogniser:
    def __init__(self, flow: Flow, analyzer: Analyzer, concept_ids: set[str]):
        self.flow = flow
        actions = flow.recognise.actions
        self._action_concepts = {a for a in actions if a in concept_ids}
        self._action_words = Phrases([a for a in actions if a not in concept_ids], key=analyzer.stem)
        self._about = [
            ({a for a in group if a in concept_ids}, {analyzer.stem(a) for a in group if a not in concept_ids})
            for group in flow.recognise.about
        ]

    def starts_with_action(self, words: list[str]) -> bool:
        return self._action_words.starts(words)

    def matches(self, analysis: Analysis) -> bool:
        concepts = analysis.concepts
        stems = set(analysis.stems)
        if not (self._action_words.contains(analysis.tokens) or self._action_concepts & concepts):
            return False
        return all(group_concepts & concepts or group_stems & stems for group_concepts, group_stems in self._about)


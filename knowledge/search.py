"""Clause search: BM25F over the clause's fields, through an inverted index.

Each clause is indexed from its verbatim text, its summary, its topics, the ways staff ask about it
and its section title, each field with its own weight. A query costs the length of the posting lists
of its terms, not the number of clauses. Alongside the score, each hit carries its coverage: the share
of the message's meaning (weighted by rarity) that the clause accounts for, which is what tells an
answer from a question the policy does not cover.
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from knowledge.analysis import Analysis, Analyzer
from knowledge.model import Clause

FIELD_WEIGHTS = {"text": 1.0, "summary": 1.0, "topics": 2.0, "asks": 1.0, "section": 0.5}


def clause_fields(clause: Clause) -> dict[str, list[str]]:
    return {
        "text": [clause.text],
        "summary": [clause.summary],
        "topics": list(clause.topics),
        "asks": list(clause.asks),
        "section": [clause.section.title],
    }


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float
    coverage: float


class ClauseIndex:
    def __init__(
        self, clauses: Sequence[Clause], analyzer: Analyzer, k1: float = 1.2, b: float = 0.4, ask_weight: float = 4.0
    ):
        self.clauses = tuple(clauses)
        self.ask_weight = ask_weight
        self.analyzer = analyzer
        tfs: list[dict[str, float]] = []
        lengths: list[float] = []
        for clause in self.clauses:
            tf: dict[str, float] = defaultdict(float)
            length = 0.0
            for field, texts in clause_fields(clause).items():
                weight = FIELD_WEIGHTS[field]
                for text in texts:
                    for feature in analyzer.analyze(text).features:
                        tf[feature.term] += weight * feature.weight
                        length += weight * feature.weight
            tfs.append(tf)
            lengths.append(length)
        n = len(self.clauses)
        average = sum(lengths) / n if n else 1.0
        df: dict[str, int] = defaultdict(int)
        for tf in tfs:
            for term in tf:
                df[term] += 1
        self.idf = {term: _idf(n, count) for term, count in df.items()}
        self.unknown_idf = _idf(n, 0)
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, tf in enumerate(tfs):
            norm = k1 * (1 - b + b * lengths[i] / average)
            for term, freq in tf.items():
                self.postings[term].append((i, self.idf[term] * freq * (k1 + 1) / (freq + norm)))
        self.terms = [frozenset(tf) for tf in tfs]
        self._index_asks(analyzer)

    def _index_asks(self, analyzer: Analyzer) -> None:
        """The ways staff ask about each clause, as separate vectors: a message that reads like one of
        them as a whole scores more than one that shares the same words scattered across a clause."""
        self.ask_owner: list[int] = []
        self.ask_norm: list[float] = []
        self.ask_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, clause in enumerate(self.clauses):
            for ask in clause.asks:
                weights: dict[str, float] = defaultdict(float)
                for feature in analyzer.analyze(ask).features:
                    weights[feature.term] = max(weights[feature.term], feature.weight * self.idf[feature.term])
                if not weights:
                    continue
                a = len(self.ask_owner)
                self.ask_owner.append(i)
                self.ask_norm.append(math.sqrt(sum(w * w for w in weights.values())))
                for term, weight in weights.items():
                    self.ask_postings[term].append((a, weight))

    def _ask_similarity(self, analysis: Analysis) -> dict[int, float]:
        query: dict[str, float] = defaultdict(float)
        for feature in analysis.features:
            query[feature.term] = max(query[feature.term], feature.weight * self.idf.get(feature.term, self.unknown_idf))
        norm = math.sqrt(sum(w * w for w in query.values()))
        dots: dict[int, float] = defaultdict(float)
        for term, weight in query.items():
            for a, ask_weight in self.ask_postings.get(term, ()):
                dots[a] += weight * ask_weight
        best: dict[int, float] = {}
        for a, dot in dots.items():
            owner = self.ask_owner[a]
            best[owner] = max(best.get(owner, 0.0), dot / (norm * self.ask_norm[a]))
        return best

    def search(self, analysis: Analysis, limit: int = 5) -> list[Hit]:
        scores: dict[int, float] = defaultdict(float)
        for feature in analysis.features:
            for i, weight in self.postings.get(feature.term, ()):
                scores[i] += feature.weight * weight
        for i, similarity in self._ask_similarity(analysis).items():
            scores[i] += self.ask_weight * similarity
        best = heapq.nsmallest(limit, scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Hit(self.clauses[i], score, self.coverage(analysis, i)) for i, score in best]

    def coverage(self, analysis: Analysis, i: int) -> float:
        """Share of the message's rarity-weighted meaning that clause i accounts for (0 to 1)."""
        wanted: dict[int, float] = defaultdict(float)
        found: dict[int, float] = defaultdict(float)
        terms = self.terms[i]
        for feature in analysis.features:
            value = feature.weight * self.idf.get(feature.term, self.unknown_idf)
            wanted[feature.unit] = max(wanted[feature.unit], value)
            if feature.term in terms:
                found[feature.unit] = max(found[feature.unit], value)
        total = sum(wanted.values())
        return sum(found.values()) / total if total else 0.0


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def corpus(clauses: Iterable[Clause]) -> list[str]:
    return [text for clause in clauses for texts in clause_fields(clause).values() for text in texts]

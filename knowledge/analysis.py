"""Turn text into search features: the same pipeline for clause text and for staff messages.

normalise -> tokens -> drop noise phrases -> correct typos (messages only) -> stem ->
longest lexicon phrase becomes a concept feature (plus its broader concepts at a lower weight);
other words become stem features; stopwords are dropped.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Iterable, Sequence

import snowballstemmer
from symspellpy import SymSpell, Verbosity

from knowledge.model import Lexicon

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
BROADER_WEIGHT = 0.4
CONCEPT_PREFIX = "#"


@dataclass(frozen=True)
class Feature:
    term: str  # a stem, or "#concept"
    weight: float
    unit: int  # which unit of meaning (a word or a matched phrase) it stands for


@dataclass(frozen=True)
class Analysis:
    tokens: tuple[str, ...]  # after noise removal and spelling correction
    stems: tuple[str, ...]  # of each token
    features: tuple[Feature, ...]
    anchored: bool  # mentions social media or the policy on its own
    corrections: tuple[tuple[str, str], ...] = ()

    @cached_property
    def concepts(self) -> frozenset[str]:
        """The concepts the message names (not those it only implies through a broader one)."""
        return frozenset(f.term[1:] for f in self.features if f.term.startswith(CONCEPT_PREFIX) and f.weight == 1.0)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").lower()


def tokenize(text: str) -> list[str]:
    tokens = []
    for token in TOKEN.findall(normalise(text)):
        if token.endswith("'s"):
            token = token[:-2]
        tokens.append(token)
    return tokens


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """A general English word list (shipped with symspellpy), so real words are never 'corrected'."""
    path = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    return frozenset(line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line)


class Speller:
    """Corrects words that are neither English nor in the knowledge base to a knowledge-base word."""

    def __init__(self, vocabulary: dict[str, int], english: frozenset[str]):
        self._known = set(vocabulary) | english
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in vocabulary.items():
            if len(word) >= 3 and word.isalpha():
                self._symspell.create_dictionary_entry(word, count)
        self._cache: dict[str, str] = {}

    def correct(self, token: str) -> str:
        if token in self._known or len(token) < 4 or not token.isalpha():
            return token
        if token not in self._cache:
            distance = 1 if len(token) <= 5 else 2
            found = self._symspell.lookup(token, Verbosity.CLOSEST, max_edit_distance=distance)
            self._cache[token] = found[0].term if found else token
            if len(self._cache) > 50_000:
                self._cache.clear()
        return self._cache[token]


class Analyzer:
    def __init__(self, lexicon: Lexicon, corpus: Iterable[str] = ()):
        self._stemmer = snowballstemmer.stemmer("english")
        self._stem_cache: dict[str, str] = {}
        self.stopwords = lexicon.stopwords
        self._noise = {tuple(tokenize(n)) for n in lexicon.noise}
        self._noise_max = max((len(n) for n in self._noise), default=0)
        self._broader = {cid: _ancestors(lexicon, cid) for cid in lexicon.concepts}
        self._anchors = {cid for cid, c in lexicon.concepts.items() if c.anchor}
        # Forms match word for word first, then by stem (for the variants not listed): "polite" and
        # "political" share a stem but are different concepts.
        self._exact: dict[tuple[str, ...], str] = {}
        self._phrases: dict[tuple[str, ...], str] = {}
        vocabulary: dict[str, int] = {}
        for concept in lexicon.concepts.values():
            for form in concept.forms:
                tokens = tokenize(form)
                for t in tokens:
                    vocabulary[t] = vocabulary.get(t, 0) + 5
                self._exact.setdefault(tuple(tokens), concept.id)
                self._phrases.setdefault(tuple(self.stem(t) for t in tokens), concept.id)
        self._max_phrase = max(map(len, self._phrases), default=1)
        for text in corpus:
            for t in tokenize(text):
                vocabulary[t] = vocabulary.get(t, 0) + 1
        self.vocabulary = vocabulary
        self.speller = Speller(vocabulary, english_words())

    def stem(self, token: str) -> str:
        stem = self._stem_cache.get(token)
        if stem is None:
            stem = self._stemmer.stemWord(token)
            if len(self._stem_cache) < 200_000:
                self._stem_cache[token] = stem
        return stem

    def analyze(self, text: str, correct: bool = False, max_tokens: int | None = None) -> Analysis:
        tokens = tokenize(text)
        if max_tokens is not None:
            tokens = tokens[:max_tokens]
        tokens = self._drop_noise(tokens)
        corrections = []
        if correct:
            fixed = [self.speller.correct(t) for t in tokens]
            corrections = [(a, b) for a, b in zip(tokens, fixed) if a != b]
            tokens = fixed
        stems = [self.stem(t) for t in tokens]
        features: list[Feature] = []
        seen: set[str] = set()  # a word or concept said twice means no more the second time
        anchored = False
        i = 0
        while i < len(tokens):
            concept, length = self._match(tokens, stems, i)
            if concept is not None and length == 1 and tokens[i] in self.stopwords and (tokens[i],) not in self._exact:
                concept = None  # "use" is a stopword, even though it stems like the form "uses"
            if concept is not None:
                term = CONCEPT_PREFIX + concept
                if term not in seen:
                    seen.add(term)
                    unit = len(seen)
                    features.append(Feature(term, 1.0, unit))
                    features.extend(Feature(CONCEPT_PREFIX + b, BROADER_WEIGHT, unit) for b in self._broader[concept])
                    anchored = anchored or concept in self._anchors
                i += length
                continue
            if tokens[i] not in self.stopwords and stems[i] not in self.stopwords and stems[i] not in seen:
                seen.add(stems[i])
                features.append(Feature(stems[i], 1.0, len(seen)))
            i += 1
        return Analysis(tuple(tokens), tuple(stems), tuple(features), anchored, tuple(corrections))

    def _match(self, tokens: list[str], stems: list[str], start: int) -> tuple[str | None, int]:
        for length in range(min(self._max_phrase, len(stems) - start), 0, -1):
            concept = self._exact.get(tuple(tokens[start : start + length])) or self._phrases.get(
                tuple(stems[start : start + length])
            )
            if concept is not None:
                return concept, length
        return None, 1

    def _drop_noise(self, tokens: list[str]) -> list[str]:
        if not self._noise:
            return tokens
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for length in range(min(self._noise_max, len(tokens) - i), 1, -1):
                if tuple(tokens[i : i + length]) in self._noise:
                    i += length
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


def _ancestors(lexicon: Lexicon, cid: str) -> tuple[str, ...]:
    seen: list[str] = []
    todo = list(lexicon.concepts[cid].broader)
    while todo:
        parent = todo.pop(0)
        if parent not in seen and parent != cid and parent in lexicon.concepts:
            seen.append(parent)
            todo.extend(lexicon.concepts[parent].broader)
    return tuple(seen)


class Phrases:
    """A set of word sequences, matched against a token list (optionally through a key function)."""

    def __init__(self, phrases: Iterable[str], key=lambda token: token):
        self._key = key
        self._set = {tuple(key(t) for t in tokenize(p)) for p in phrases}
        self._set.discard(())
        self._max = max(map(len, self._set), default=0)

    def _keys(self, tokens: Sequence[str]) -> list[str]:
        return [self._key(t) for t in tokens]

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int]]:
        """Non-overlapping (start, length) matches, longest first at each position."""
        keys = self._keys(tokens)
        found: list[tuple[int, int]] = []
        i = 0
        while i < len(keys):
            for length in range(min(self._max, len(keys) - i), 0, -1):
                if tuple(keys[i : i + length]) in self._set:
                    found.append((i, length))
                    i += length
                    break
            else:
                i += 1
        return found

    def contains(self, tokens: Sequence[str]) -> bool:
        return bool(self.spans(tokens))

    def starts(self, tokens: Sequence[str]) -> bool:
        keys = self._keys(tokens)
        return any(tuple(keys[:length]) in self._set for length in range(1, min(self._max, len(keys)) + 1))

"""Answer quality and speed: policybot beside a plain BM25 baseline, and how the cost grows with size.

    python bench/answers.py [QUESTIONS.yaml ...] [--scale N] [--repeat N]

With no files it runs the development set (../shared/eval/questions.yaml, when present) and our own
set (bench/questions-own.yaml). Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import knowledge  # noqa: E402
from bot.core import PolicyBot  # noqa: E402

DEFAULT_SETS = [ROOT.parent / "shared" / "eval" / "questions.yaml", ROOT / "bench" / "questions-own.yaml"]


@dataclass(frozen=True)
class Case:
    q: str
    gold: tuple[str, ...]
    intents: tuple[str, ...]


@dataclass(frozen=True)
class Prediction:
    intent: str
    clauses: tuple[str, ...]
    ranked: tuple[str, ...]
    seconds: float


def load_cases(path: Path) -> list[Case]:
    return [
        Case(str(item["q"]), tuple(item.get("gold") or ()), tuple(item.get("intents") or ("answer",)))
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]


class PolicybotSystem:
    name = "policybot"

    def __init__(self, kb):
        self.bot = PolicyBot(kb)

    def predict(self, question: str) -> Prediction:
        start = time.perf_counter()
        u = self.bot.understand(question)
        seconds = time.perf_counter() - start
        return Prediction(u.intent.value, u.clauses, u.ranked or u.clauses, seconds)


class BM25System:
    """rank_bm25 over the same clause text, lower-cased words: answers with the best clause, falls
    back only when no clause shares a word with the question."""

    name = "BM25 baseline"

    def __init__(self, kb):
        self.ids = [kb.citation_id(c) for c in kb.clauses]
        self.bm25 = BM25Okapi([self.tokens(c.text) for c in kb.clauses])

    @staticmethod
    def tokens(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    def predict(self, question: str) -> Prediction:
        start = time.perf_counter()
        scores = self.bm25.get_scores(self.tokens(question))
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[:5]
        seconds = time.perf_counter() - start
        if not len(order) or scores[order[0]] <= 0:
            return Prediction("fallback", (), (), seconds)
        ranked = tuple(self.ids[i] for i in order)
        return Prediction("answer", ranked[:1], ranked, seconds)


def correct(case: Case, p: Prediction) -> bool:
    if p.intent not in case.intents:
        return False
    if p.intent == "answer":
        return bool(p.clauses) and p.clauses[0] in case.gold
    return True


def score(cases: list[Case], predictions: list[Prediction], timed: list[Prediction]) -> dict[str, float]:
    """Quality from one prediction per case; times from every timed run."""
    in_scope = [(c, p) for c, p in zip(cases, predictions) if c.gold]
    expected_fb = [c.intents == ("fallback",) for c in cases]
    said_fb = [p.intent == "fallback" for p in predictions]
    true_fb = sum(e and s for e, s in zip(expected_fb, said_fb))
    times = sorted(p.seconds for p in timed)
    return {
        "overall": _share(sum(correct(c, p) for c, p in zip(cases, predictions)), len(cases)),
        "first": _share(sum(bool(p.ranked) and p.ranked[0] in c.gold for c, p in in_scope), len(in_scope)),
        "top3": _share(sum(bool(set(p.ranked[:3]) & set(c.gold)) for c, p in in_scope), len(in_scope)),
        "fb_precision": _share(true_fb, sum(said_fb)),
        "fb_recall": _share(true_fb, sum(expected_fb)),
        "median_ms": statistics.median(times) * 1000,
        "p99_ms": _percentile(times, 0.99) * 1000,
    }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(system, cases: list[Case], repeat: int) -> tuple[dict[str, float], list[Prediction]]:
    runs = [[system.predict(c.q) for c in cases] for _ in range(repeat)]
    predictions = runs[0]
    return score(cases, predictions, [p for r in runs for p in r]), predictions


def quality_table(results: list[tuple[str, str, int, dict[str, float]]]) -> str:
    rows = [
        "| question set | system | n | overall accuracy | first clause (in scope) | top-3 recall "
        "| fallback precision | fallback recall | median ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for set_name, system, n, m in results:
        rows.append(
            f"| {set_name} | {system} | {n} | {m['overall']:.1%} | {m['first']:.1%} | {m['top3']:.1%} "
            f"| {m['fb_precision']:.1%} | {m['fb_recall']:.1%} | {m['median_ms']:.2f} | {m['p99_ms']:.2f} |"
        )
    return "\n".join(rows)


# --- scale -------------------------------------------------------------------------------------


def synthetic_documents(directory: Path, clauses_wanted: int, seed: int = 7) -> None:
    """Policy-like documents made from the real policy's wording and a broad English vocabulary,
    written as ordinary knowledge-base files beside the real ones."""
    rng = random.Random(seed)
    real = knowledge.load()
    english = sorted(_english_sample(rng, 20_000))
    policy_words = re.findall(r"[A-Za-z']+", " ".join(c.text for c in real.clauses))
    topics = ["Data Protection", "Travel and Expenses", "Flexible Working", "Procurement", "Health and Safety",
              "Information Security", "Records Management", "Lone Working", "Equality", "Customer Care"]
    per_doc = 50
    manifest = yaml.safe_load((knowledge.DEFAULT_DIR / "knowledge.yaml").read_text())
    for d in range(clauses_wanted // per_doc):
        title = f"{topics[d % len(topics)]} Policy {d // len(topics) + 1}"
        sections = []
        for s in range(1, 11):
            clauses = []
            for c in range(1, per_doc // 10 + 1):
                def sentence(n: int) -> str:
                    words = [rng.choice(policy_words) if rng.random() < 0.6 else rng.choice(english) for _ in range(n)]
                    return " ".join(words).capitalize() + "."
                clauses.append({
                    "id": f"{s}.{c}", "text": sentence(rng.randint(15, 45)), "summary": sentence(20),
                    "topics": [sentence(3)[:-1].lower() for _ in range(2)],
                    "asks": [sentence(rng.randint(5, 10))[:-1].lower() for _ in range(4)],
                })
            sections.append({"number": str(s), "title": sentence(4)[:-1], "clauses": clauses})
        doc = {"document": {"id": f"synthetic-{d}", "title": title, "organisation": "Example Council",
                            "owner": "Policy Officer", "effective": "2024", "review": "2026",
                            "contact": {"name": "Policy team", "email": "policy@example.org"},
                            "feedback_email": "policy@example.org"}, "sections": sections}
        name = f"documents/synthetic-{d}.yaml"
        (directory / name).write_text(yaml.safe_dump(doc, sort_keys=False))
        manifest["documents"].append(name)
    (directory / "knowledge.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def _english_sample(rng: random.Random, n: int) -> set[str]:
    from knowledge.analysis import english_words

    words = sorted(w for w in english_words() if w.isalpha() and len(w) > 2)
    return set(rng.sample(words, n))


def scale_table(cases: list[Case], sizes: list[int], repeat: int) -> str:
    import shutil

    rows = ["| clauses | documents | load s | index build s | median ms / question | p99 ms / question |",
            "|---|---|---|---|---|---|"]
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp) / "kb"
            shutil.copytree(knowledge.DEFAULT_DIR, directory)
            if size > 53:
                synthetic_documents(directory, size - 53)
            start = time.perf_counter()
            kb = knowledge.load(directory)
            loaded = time.perf_counter() - start
            start = time.perf_counter()
            system = PolicybotSystem(kb)
            built = time.perf_counter() - start
            metrics, _ = run(system, cases, repeat)
            rows.append(f"| {len(kb.clauses)} | {len(kb.documents)} | {loaded:.3f} | {built:.2f} "
                        f"| {metrics['median_ms']:.2f} | {metrics['p99_ms']:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--scale", type=int, default=5000, help="clauses in the scale run (0: skip)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each question")
    parser.add_argument("--misses", action="store_true", help="list the questions policybot gets wrong")
    args = parser.parse_args(argv)
    files = args.files or [p for p in DEFAULT_SETS if p.is_file()]

    start = time.perf_counter()
    kb = knowledge.load()
    load_seconds = time.perf_counter() - start
    systems = [PolicybotSystem(kb), BM25System(kb)]
    results = []
    all_cases: list[Case] = []
    for path in files:
        cases = load_cases(path)
        all_cases += cases
        for system in systems:
            metrics, predictions = run(system, cases, args.repeat)
            results.append((path.name, system.name, len(cases), metrics))
            if args.misses and system is systems[0]:
                for case, p in zip(cases, predictions):
                    if not correct(case, p):
                        print(f"MISS {path.name}: {case.q!r} gold={list(case.gold)} {list(case.intents)} "
                              f"-> {p.intent} {list(p.clauses)} ranked={list(p.ranked[:3])}")
    print(f"Knowledge base: {len(kb.clauses)} clauses, loaded in {load_seconds * 1000:.0f} ms.\n")
    print(quality_table(results))
    if args.scale:
        print("\nCost as the knowledge base grows (same questions, policybot):\n")
        print(scale_table(all_cases, [len(kb.clauses), args.scale], args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

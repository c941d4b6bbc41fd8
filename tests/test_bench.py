"""The benchmark script keeps working (its figures are for the README, not asserted here)."""
import subprocess
import sys

from bench import answers as bench

from tests.conftest import ROOT


def test_the_benchmark_prints_both_systems_and_the_scale_table(capsys, tmp_path):
    questions = tmp_path / "q.yaml"
    questions.write_text(
        '- {q: "can I accept a friend request from a tenant", gold: ["7.5"]}\n'
        '- {q: "where is the canteen", gold: [], intents: [fallback]}\n'
        '- {q: "report a mistaken post", gold: [], intents: [report_mistake]}\n'
    )
    assert bench.main([str(questions), "--scale", "153", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "| q.yaml | policybot | 3 | 100.0% |" in out
    assert "| q.yaml | BM25 baseline | 3 |" in out
    assert "\n| 53 | 1 |" in out and "\n| 153 | 3 |" in out


def test_the_own_question_sets_are_well_formed():
    for name in ("questions-own.yaml", "questions-holdout.yaml"):
        cases = bench.load_cases(ROOT / "bench" / name)
        assert len(cases) >= 25
        assert all(c.intents for c in cases)


def run_bench(script: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"bench/{script}", *arguments], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)


def test_the_flow_benchmark_measures_both_stores():
    result = run_bench("flows.py", "--reports", "3")
    assert result.returncode == 0, result.stderr
    assert "| SQLite (file) |" in result.stdout and "| PostgreSQL (local) |" in result.stdout
    assert "PostgreSQL not measured" not in result.stderr


def test_the_slack_benchmark_acknowledges_every_event_on_both_stores():
    result = run_bench("slack.py", "--events", "20")
    assert result.returncode == 0, result.stderr
    assert "| SQLite (file) | 20/20 |" in result.stdout and "| PostgreSQL (local) | 20/20 |" in result.stdout
    assert result.stdout.count("(20 replies)") == 2


def test_the_teams_benchmark_replies_to_every_activity_on_both_stores():
    result = run_bench("teams.py", "--activities", "20")
    assert result.returncode == 0, result.stderr
    assert "| SQLite (file) | 20/20 |" in result.stdout and "| PostgreSQL (local) | 20/20 |" in result.stdout
    assert result.stdout.count("(20 replies)") == 2

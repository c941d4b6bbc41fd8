"""Nothing is lost and nothing is sent twice when a bot process dies, or when two share one database."""
import asyncio
import subprocess
import sys
import time

from bot.delivery import Worker
from tests.conftest import ROOT
from tests.support import FileTransport, open_store, read_lines
from tests.test_escalation import submit
from tests.test_flows import MISTAKE


def process(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.worker_process", *args], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_report_committed_by_a_process_that_then_dies_is_delivered_once(store_url, tmp_path, app):
    dying = process("submit-then-die", store_url)
    out, err = dying.communicate(timeout=60)
    assert dying.returncode == -9, err
    assert "Sent. Your case reference is MIS-0001" in out
    store = open_store(store_url)
    outbox = tmp_path / "delivered.jsonl"
    worker = Worker(store, FileTransport(outbox), app.cases, name="after-restart")
    assert asyncio.run(worker.run_once()) == 2
    assert asyncio.run(worker.run_once()) == 0
    assert sorted(r["to"] for r in read_lines(outbox)) == ["person:sam.patel@council.example", "team:marketing"]
    store.close()


def test_a_worker_killed_after_sending_but_before_recording_does_not_cause_a_second_send(
    store_url, tmp_path, make_bot, clock
):
    clock.now = time.time()  # the worker processes run on the real clock
    store = open_store(store_url)
    bot = make_bot(store)
    submit(bot, MISTAKE)
    outbox = tmp_path / "delivered.jsonl"
    hanging = process("hang-after-send", store_url, str(outbox))
    line = hanging.stdout.readline()
    assert line.startswith("SENT"), hanging.stderr.read()
    hanging.kill()
    hanging.wait(timeout=10)
    assert len(read_lines(outbox)) == 1

    time.sleep(2.1)  # the dead worker's lease runs out
    worker = Worker(store, FileTransport(outbox), bot.cases, name="after-restart")
    assert asyncio.run(worker.run_once()) == 2
    assert sorted(r["id"] for r in read_lines(outbox)) == [1, 2]
    first = store.deliveries("MIS-0001")[0]
    assert first.status == "delivered" and [t[0] for t in first.tries] == ["abandoned", "found"]
    store.close()


def test_two_workers_on_one_database_deliver_each_notification_once(store_url, tmp_path, make_bot, clock):
    clock.now = time.time()
    store = open_store(store_url)
    bot = make_bot(store)
    for n in range(40):
        submit(bot, MISTAKE, user=["alex.morgan@council.example", "jo.bloggs@council.example"][n % 2])
    outbox = tmp_path / "delivered.jsonl"
    workers = [process("drain", store_url, str(outbox), f"worker-{i}") for i in range(3)]
    for w in workers:
        assert w.stdout.readline().strip() == "READY", w.stderr.read()
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in workers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0 and "DRAINED" in out, err
    lines = read_lines(outbox)
    ids = [r["id"] for r in lines]
    assert sorted(ids) == list(range(1, 81)), "each of the 80 notifications exactly once"
    assert {d.status for d in store.deliveries()} == {"delivered"}
    print("deliveries per worker:", {w: sum(r["worker"] == w for r in lines) for w in ("worker-0", "worker-1", "worker-2")})
    store.close()

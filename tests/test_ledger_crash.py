"""Crashes and reader processes (issue 8, "Tests": crash; a reader process sees only
whole committed batches).

A writer subprocess (tests/ledger_worker.py) imports batches of records signed outside
ledger_core and is SIGKILLed at random moments; reopened, the ledger must hold a prefix of
whole batches, audit clean, with the root an independent RFC 9162 computation gives over
the reference leaf data of that prefix; appending must go on from there. The same holds
when the kill lands while the ledger is being created, and when the import is simply run
again after a kill (the dead writer's locks are gone).

A reader subprocess takes snapshot after snapshot while a writer subprocess appends
fixed-size batches: every snapshot is a whole number of batches, its root is the one the
writer committed at that size, and its last record decodes to the record written there.
"""

from __future__ import annotations

import json
import contextlib
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from ledger_core import Ledger

import ledger_worker as plan
from invoice_reference import ref_root

HASHER = "blake3"
CRASH_BATCHES = 40
# (seed, durability): full durability except one trial, which must survive a process
# crash just the same (docs/FORMAT.md: "fast" loses only to an OS crash or power loss).
CRASH_TRIALS = [(101, "full"), (102, "full"), (103, "full"), (104, "full"), (105, "full"), (106, "fast")]
READER_BATCH_LEN = 40
READER_SECONDS = 3.0
WORKER_TIMEOUT_S = 120

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(plan.worker_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=plan.worker_env())


@contextlib.contextmanager
def _worker_to_kill(*args: str) -> Iterator[Tuple[subprocess.Popen, "_Lines"]]:
    """A worker that is SIGKILLed when the block ends (at the moment the block chose; at
    once when the block fails), then reaped."""
    proc = _start(*args)
    out = _Lines(proc)
    try:
        yield proc, out
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=WORKER_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class _Lines:
    """A worker's stdout read by a thread, so the test can wait for a given line while
    the worker keeps writing."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True)
        self.thread.start()

    def _pump(self, stream) -> None:
        for line in stream:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """True when at least `count` lines arrived; False when the stream closed first."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.lines) < count and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"worker wrote {len(self.lines)} lines in {timeout} s, expected {count}")
                self.cond.wait(left)
            return len(self.lines) >= count

    def finish(self) -> list:
        self.thread.join(timeout=30)
        return list(self.lines)


def _reference_root(seed: int, size: int, tiny: bool = False) -> bytes:
    leaves = [rec.leaf_hash(HASHER) for rec in plan.records(seed, 0, size, tiny)]
    return ref_root(HASHER, leaves)


@pytest.mark.parametrize("seed,durability", CRASH_TRIALS)
def test_sigkill_leaves_a_prefix_of_whole_batches(tmp_path, seed, durability):
    path = str(tmp_path / "ledger")
    edges = plan.boundaries(plan.batch_sizes(seed, CRASH_BATCHES + 2))
    rng = random.Random(seed)
    with _worker_to_kill("import", path, str(seed), str(CRASH_BATCHES), durability) as (proc, out):
        assert out.wait_for(1, WORKER_TIMEOUT_S), f"worker failed to start: {proc.stderr.read()}"
        # Kill after a random number of committed batches (0: during the first one), a
        # random part of one batch's time later.
        after = rng.randrange(0, CRASH_BATCHES - 15)
        started = time.monotonic()
        assert out.wait_for(1 + after, WORKER_TIMEOUT_S), f"worker ended early: {proc.stderr.read()}"
        per_batch = (time.monotonic() - started) / after if after else 0.01
        time.sleep(rng.uniform(0, 1.5 * per_batch))
    lines = out.finish()
    stderr = proc.stderr.read()
    assert proc.returncode == -signal.SIGKILL, f"the worker was not the one killed: {proc.returncode} {stderr}"
    assert lines[0] == "ready 0", lines[0]
    printed = [tuple(line.split()) for line in lines[1:]]
    assert all(len(p) == 2 for p in printed), printed
    committed = len(printed)
    # Every printed report was a whole batch, in order.
    assert [int(s) for s, _ in printed] == edges[1:committed + 1]
    if committed:
        assert bytes.fromhex(printed[-1][1]) == _reference_root(seed, edges[committed])

    with Ledger.open(path, create=False) as led:
        size = led.size
        # The kill may land after a commit and before its print: one batch more at most.
        assert size in (edges[committed], edges[committed + 1]), (size, edges[committed:committed + 2])
        survivors = edges.index(size)
        assert led.root() == _reference_root(seed, size)
        report = led.audit()
        assert report.ok, report.problems[:5]
        assert (report.size, report.records) == (size, size)
        assert report.root == led.root()
        if size:
            last = led.get(size - 1)
            assert (last.invoice_id.encode(), last.issued_at, last.seller_key, last.signature, last.payload) == \
                tuple(plan.record(seed, size - 1))

        # Appending goes on from the surviving prefix: the plan's next two batches.
        for b in (survivors, survivors + 1):
            rep = led.append_batch(plan.invoice_batch(plan.records(seed, edges[b], edges[b + 1])))
            assert (rep.first_seq, rep.appended, rep.rejected, rep.size) == (edges[b], edges[b + 1] - edges[b], [],
                                                                              edges[b + 1])
        assert led.root() == _reference_root(seed, edges[survivors + 2])
        report = led.audit()
        assert report.ok, report.problems[:5]


@pytest.mark.parametrize("trial", range(4))
def test_sigkill_while_creating_leaves_a_ledger_that_opens(tmp_path, trial):
    """Killed as the ledger directory appears: opening it again (create=True) gives a
    ledger of whole batches, audit clean, that takes appends."""
    seed, path = 110 + trial, str(tmp_path / "ledger")
    edges = plan.boundaries(plan.batch_sizes(seed, CRASH_BATCHES))
    with _worker_to_kill("import", path, str(seed), str(CRASH_BATCHES), "full") as (proc, out):
        deadline = time.monotonic() + WORKER_TIMEOUT_S
        while not os.path.exists(path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0002)
        time.sleep(random.Random(seed).uniform(0, 0.004))
    out.finish()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    with Ledger.open(path) as led:
        size = led.size
        assert size in edges, size
        assert led.root() == _reference_root(seed, size)
        b = edges.index(size)
        rep = led.append_batch(plan.invoice_batch(plan.records(seed, edges[b], edges[b + 1])))
        assert rep.size == edges[b + 1]
        report = led.audit()
        assert report.ok, report.problems[:5]


def test_restart_after_sigkill_resumes_the_import(tmp_path):
    """A second worker run, after a kill, opens the ledger as writer (the dead writer's
    locks are gone) and appends the rest of the plan."""
    seed, path = 107, str(tmp_path / "ledger")
    edges = plan.boundaries(plan.batch_sizes(seed, CRASH_BATCHES))
    with _worker_to_kill("import", path, str(seed), str(CRASH_BATCHES), "full") as (proc, out):
        assert out.wait_for(4, WORKER_TIMEOUT_S), proc.stderr.read()
    out.finish()
    again = subprocess.run(plan.worker_command("import", path, str(seed), str(CRASH_BATCHES), "full"),
                           capture_output=True, text=True, env=plan.worker_env(), timeout=WORKER_TIMEOUT_S)
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    resumed_at = int(lines[0].split()[1])
    assert resumed_at in edges[3:], lines[0]
    assert lines[-1] == "done"
    assert int(lines[-2].split()[0]) == edges[-1]
    with Ledger.open(path, create=False, readonly=True) as led:
        assert led.size == edges[-1]
        assert led.root() == _reference_root(seed, edges[-1])
        assert led.audit().ok


def test_reader_process_sees_only_whole_committed_batches(tmp_path):
    seed, path, k = 108, str(tmp_path / "ledger"), READER_BATCH_LEN
    stop_file = str(tmp_path / "stop")
    writer = _start("write", path, str(seed), str(k), "1000", stop_file)
    writer_out = _Lines(writer)
    reader = None
    try:
        # The ledger exists once the writer's first batch is in.
        assert writer_out.wait_for(1, WORKER_TIMEOUT_S), writer.stderr.read()
        reader = subprocess.run(plan.worker_command("read", path, str(READER_SECONDS)), capture_output=True,
                                text=True, env=plan.worker_env(), timeout=WORKER_TIMEOUT_S)
        Path(stop_file).touch()
        writer.wait(timeout=WORKER_TIMEOUT_S)
    finally:
        Path(stop_file).touch()
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    lines = writer_out.finish()
    assert writer.returncode == 0, writer.stderr.read()
    assert reader.returncode == 0, reader.stderr
    assert lines[-1] == "done"
    committed = {}
    for line in lines[:-1]:
        size, root = line.split()
        committed[int(size)] = root
    assert sorted(committed) == [k * (b + 1) for b in range(len(committed))]

    seen = [json.loads(line) for line in reader.stdout.splitlines()]
    assert seen.pop() == {"went_back": 0}, "a later snapshot saw fewer records than an earlier one"
    assert seen, "the reader took no snapshot"
    sizes = sorted({s["size"] for s in seen})
    # Both ran for READER_SECONDS: a reader that never saw a newer commit is stuck on an
    # old state.
    assert len(sizes) >= 2, f"the reader saw only {sizes} while the writer committed up to {max(committed)}"
    checked = {}
    for s in seen:
        n = s["size"]
        assert n % k == 0 and n > 0, f"a snapshot saw {n} records: not a whole number of {k}-record batches"
        assert n in committed, f"a snapshot saw size {n}, which the writer never committed"
        assert s["root_at"] == committed[n] == s["root"], (n, s["root_at"], s["root"], committed[n])
        assert s["size_after"] == n, "a snapshot's size changed during the snapshot"
        if "last" in s:
            checked[n] = s
    assert set(checked) == set(sizes)
    # The last record of each distinct state equals the plan's, and its stored leaf hash
    # the reference's.
    assert set(checked) == set(sizes)
    for n, s in checked.items():
        rec = plan.record(seed, n - 1)
        assert s["last"] == [rec.invoice_id.hex(), rec.issued_at, rec.seller_key.hex(), rec.signature.hex(),
                             rec.payload.hex()], n
        assert s["last_leaf_hash"] == rec.leaf_hash(HASHER).hex(), n
    # The final state: the root over the plan's records (one reference computation).
    final = max(committed)
    assert bytes.fromhex(committed[final]) == _reference_root(seed, final)

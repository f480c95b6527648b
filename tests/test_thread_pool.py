"""The shared native thread pool: results independent of thread count, safe across
fork(), and concurrent Python callers never deadlock (one of them runs inline)."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

from ledger_core import ed25519, hashing

ROWS = np.random.default_rng(5).integers(0, 256, size=(20_000, 64), dtype=np.uint8)


def _child_hashes(queue) -> None:
    queue.put(hashing.blake3_many(ROWS, threads=None).tobytes())


def test_threads_setting_does_not_change_results():
    reference = hashing.blake3_many(ROWS, threads=1)
    for threads in (None, 2, 64):
        assert np.array_equal(hashing.blake3_many(ROWS, threads=threads), reference)


def test_pool_works_in_a_forked_child_after_use_in_the_parent():
    hashing.blake3_many(ROWS, threads=None)  # the parent's pool is started
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_hashes, args=(queue,))
    child.start()
    result = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert result == hashing.blake3_many(ROWS, threads=1).tobytes()


def test_concurrent_callers_from_python_threads_all_finish_correctly():
    key = ed25519.SigningKey.from_seed(bytes(range(32)))
    messages = [b"invoice %d" % i for i in range(300)]
    pks = np.tile(np.frombuffer(key.public_key, np.uint8), (len(messages), 1))
    sigs = np.array([np.frombuffer(key.sign(m), np.uint8) for m in messages])
    expected_hashes = hashing.blake3_many(ROWS, threads=1)
    failures = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                if i % 2:
                    assert np.array_equal(hashing.blake3_many(ROWS, threads=None), expected_hashes)
                else:
                    assert ed25519.verify_batch(pks, messages, sigs, threads=None).all()
        except BaseException as exc:  # reported below, in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a caller is stuck: the pool deadlocked"
    assert failures == []


@pytest.mark.parametrize("bad", [0, -1])
def test_threads_must_be_positive(bad):
    with pytest.raises(ValueError, match="threads"):
        hashing.blake3_many(ROWS, threads=bad)


def test_all_cores_means_the_cpus_this_process_may_use():
    """threads=None uses the affinity mask (taskset, cpusets), read at first use."""
    import os
    import subprocess
    import sys

    from ledger_core import features

    assert features()["threads"] == len(os.sched_getaffinity(0))
    if len(os.sched_getaffinity(0)) > 1:
        one_cpu = {min(os.sched_getaffinity(0))}
        code = "import os; os.sched_setaffinity(0, %r); import ledger_core; print(ledger_core.features()['threads'])" % (one_cpu,)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "1"

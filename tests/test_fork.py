"""Fork safety of the native globals (issue 12, item 1).

A fork() while another thread is inside native code copies that thread's locks into the
child as they are. Before the fix, the 64 key-cache shard mutexes could be copied locked
and the child's next batch verification waited forever in keycache_get. Each child here
runs a batch with a deadline; a hang is killed and reported, never waited out.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import nacl.signing
import numpy as np
import pytest

from ledger_core import ed25519, hashing

KEY_COUNT = 3000
FORKS = 30
CHILD_DEADLINE_S = 20.0

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _distinct_key_batch(count: int):
    pks = np.empty((count, 32), np.uint8)
    sigs = np.empty((count, 64), np.uint8)
    messages = []
    for i in range(count):
        key = nacl.signing.SigningKey(i.to_bytes(4, "little") * 8)
        message = b"invoice %d" % i
        pks[i] = np.frombuffer(bytes(key.verify_key), np.uint8)
        sigs[i] = np.frombuffer(key.sign(message).signature, np.uint8)
        messages.append(message)
    return pks, messages, sigs


def _wait_or_kill(pid: int, deadline_s: float):
    """The child's exit status, or None when it did not finish in time (it is then killed)."""
    deadline = time.monotonic() + deadline_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.005)


def test_fork_while_verifying_does_not_hang_child():
    pks, messages, sigs = _distinct_key_batch(KEY_COUNT)
    assert ed25519.verify_batch(pks, messages, sigs, threads=1).all()

    stop = threading.Event()
    errors = []

    def verify_in_loop():
        try:
            while not stop.is_set():
                # Evicting the keys keeps the shards busy with inserts as well as lookups.
                ed25519.clear_key_cache()
                if not ed25519.verify_batch(pks, messages, sigs, threads=2).all():
                    errors.append("a parent thread's batch was rejected")
        except BaseException as exc:  # reported by the main thread
            errors.append(repr(exc))

    workers = [threading.Thread(target=verify_in_loop) for _ in range(2)]
    for w in workers:
        w.start()
    hung, failed = [], []
    try:
        time.sleep(0.05)
        for attempt in range(FORKS):
            pid = os.fork()
            if pid == 0:  # the child: one thread; every native lock must be free here
                code = 3
                try:
                    one = ed25519.verify_batch(pks, messages, sigs, threads=1).all()
                    pooled = ed25519.verify_batch(pks[:256], messages[:256], sigs[:256], threads=2).all()
                    hashed = bytes(hashing.blake3_many(messages, threads=2)[7]) == hashing.blake3(messages[7])
                    code = 0 if one and pooled and hashed else 1
                finally:
                    os._exit(code)
            status = _wait_or_kill(pid, CHILD_DEADLINE_S)
            if status is None:
                hung.append(attempt)
            elif not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                failed.append((attempt, status))
            time.sleep(0.01)
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert not hung, f"children {hung} of {FORKS} hung in verify_batch after fork"
    assert not failed, f"children exited badly: {failed}"
    assert not errors, errors

"""Ledger.append_batches: a stream of batches, batch k + 1 verified while batch k is
written. It must give exactly what append_batch gives batch by batch (the tables byte for
byte, read by py-lmdb in a subprocess), commit each batch before its report, and stop
cleanly: on a rejected batch, on an error from the stream itself, and when the caller
stops reading.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import invoice_reference as ref
from merkle_reference import ref_root
from test_ledger import _resign_as, batch_of, leaves_of, make_records
from ledger_core import BatchRejectedError, Ledger, RejectReason
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, MalformedInputError, ReadOnlyError

BATCHES = [(1, 0), (300, 1), (4097, 301), (5, 4398), (700, 4403)]  # (count, start)
FORMS = ["lists", "arrays", "arrow", "lists", "arrays"]


def _batches():
    return [make_records(n, start=s, sellers=(0, 1, 2, 3)) for n, s in BATCHES]


@pytest.fixture(scope="module")
def records():
    return _batches()


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_stream_writes_what_append_batch_writes(tmp_path, records, suite):
    with Ledger.open(tmp_path / "one", hasher=suite) as one:
        want = [one.append_batch(batch_of(r, f), progress=("src", str(k))) for k, (r, f) in
                enumerate(zip(records, FORMS))]
    with Ledger.open(tmp_path / "stream", hasher=suite) as led:
        items = [(batch_of(r, f), ("src", str(k))) for k, (r, f) in enumerate(zip(records, FORMS))]
        got = list(led.append_batches(items))
        assert got == want
        flat = [r for batch in records for r in batch]
        assert led.root() == ref_root(suite, leaves_of(suite, flat)) == got[-1].root
        assert led.import_progress("src") == str(len(records) - 1)
        assert led.audit().ok
    assert ref.dump_tables(tmp_path / "stream") == ref.dump_tables(tmp_path / "one")


def test_each_report_comes_after_its_commit(tmp_path, records):
    with Ledger.open(tmp_path / "l") as led:
        seen = []
        for report in led.append_batches(batch_of(r) for r in records):
            with Ledger.open(tmp_path / "l", readonly=True) as reader:
                seen.append((reader.size, reader.root()))
            assert seen[-1] == (report.size, report.root)
        assert [s for s, _ in seen] == list(np.cumsum([len(r) for r in records]))


def test_a_rejected_batch_stops_the_stream_the_earlier_ones_stay(tmp_path, records):
    bad = list(records[2])
    bad[17] = _resign_as(bad[17], 9)
    taken = []

    def stream():
        for k, r in enumerate([records[0], records[1], bad, records[3], records[4]]):
            taken.append(k)
            yield batch_of(r), ("src", str(k))

    with Ledger.open(tmp_path / "l") as led:
        reports = []
        with pytest.raises(BatchRejectedError) as err:
            for report in led.append_batches(stream()):
                reports.append(report)
        assert len(reports) == 2
        assert [(r.position, r.reason) for r in err.value.report.rejected] == [(17, RejectReason.EQUATION_FAILED)]
        assert led.size == len(records[0]) + len(records[1]) == reports[-1].size
        assert led.import_progress("src") == "1"
        assert max(taken) <= 3  # at most one batch taken ahead, and never written
        assert led.root() == ref_root("blake3", leaves_of("blake3", records[0] + records[1]))
        assert led.audit().ok


def test_skip_appends_the_good_items_of_every_batch(tmp_path, records):
    bad = list(records[1])
    bad[5] = _resign_as(bad[5], 9)
    with Ledger.open(tmp_path / "l") as led:
        reports = list(led.append_batches([batch_of(records[0]), batch_of(bad), batch_of(records[0])],
                                          on_invalid="skip"))
        assert [r.appended for r in reports] == [1, len(bad) - 1, 0]
        assert reports[2].rejected[0].reason == RejectReason.DUPLICATE_IN_LEDGER
        kept = records[0] + [r for i, r in enumerate(bad) if i != 5]
        assert led.root() == ref_root("blake3", leaves_of("blake3", kept))


def test_an_error_of_the_source_comes_after_the_batches_before_it(tmp_path, records):
    def stream():
        yield batch_of(records[0])
        yield batch_of(records[1])
        raise MalformedInputError("source.jsonl: record 302: not a JSON object")

    with Ledger.open(tmp_path / "l") as led:
        reports = []
        with pytest.raises(MalformedInputError, match="record 302"):
            for report in led.append_batches(stream()):
                reports.append(report)
        assert [r.appended for r in reports] == [1, 300]
        assert led.size == 301


def test_stopping_early_leaves_a_usable_ledger(tmp_path, records):
    with Ledger.open(tmp_path / "l") as led:
        stream = led.append_batches(batch_of(r) for r in records)
        first = next(stream)
        stream.close()  # the batch taken ahead is dropped
        assert led.size == first.size == 1
        assert [t.name for t in threading.enumerate() if t.name.startswith("ledger-append")] == []
        led.append_batch(batch_of(records[1]))
        assert led.size == 301 and led.audit().ok


def test_trusted_items_with_payload_hashes(tmp_path, records):
    with Ledger.open(tmp_path / "a") as verified:
        list(verified.append_batches(batch_of(r, "arrays") for r in records))
        want = verified.root()
    hashes = [np.frombuffer(b"".join(ref.payload_hash(x.payload) for x in r), np.uint8).reshape(-1, 32)
              for r in records]
    with Ledger.open(tmp_path / "b") as trusted:
        list(trusted.append_batches(((batch_of(r, "arrays"), None, h) for r, h in zip(records, hashes)), verify=False))
        assert trusted.root() == want
    assert ref.dump_tables(tmp_path / "a") == ref.dump_tables(tmp_path / "b")


def test_bad_arguments(tmp_path, records):
    with Ledger.open(tmp_path / "l") as led:
        with pytest.raises(InvalidArgumentError):
            led.append_batches([], on_invalid="later")
        with pytest.raises(InvalidTypeError):
            led.append_batches([], verify=1)
        with pytest.raises(InvalidTypeError):
            led.append_batches(5)
        with pytest.raises(InvalidTypeError, match="a tuple of 4"):
            list(led.append_batches([(batch_of(records[0]), None, None, None)]))
        with pytest.raises(InvalidTypeError, match="InvoiceBatch"):
            list(led.append_batches(["not a batch"]))
        with pytest.raises(InvalidArgumentError, match="payload_hashes is for verify=False"):
            list(led.append_batches([(batch_of(records[0]), None, np.zeros((1, 32), np.uint8))]))
        assert list(led.append_batches([])) == [] and led.size == 0
    with Ledger.open(tmp_path / "l", readonly=True) as reader:
        with pytest.raises(ReadOnlyError):
            list(reader.append_batches([batch_of(records[0])]))


def test_a_prepared_batch_belongs_to_its_ledger(tmp_path, records):
    from ledger_core.ledger import _append_columns

    with Ledger.open(tmp_path / "a") as a, Ledger.open(tmp_path / "b") as b:
        prepared = a._native.prepare(*_append_columns(batch_of(records[0]), True, None), None)
        with pytest.raises(InvalidArgumentError, match="another ledger"):
            b._native.append_prepared(prepared, False, None)
        a._native.append_prepared(prepared, False, None)
        assert a.size == 1 and b.size == 0


def test_bad_signatures_across_the_verification_groups_of_a_big_batch(tmp_path):
    """A batch of 4 x 4096 + 1000 items is verified in groups of chunks: every bad
    signature is named at its position, whichever group and chunk it falls in."""
    records = make_records(4 * 4096 + 1000, start=10_000, sellers=tuple(range(12)))
    bad_at = [0, 4095, 4096, 8191, 12000, 16383, 16384, 17383]
    for i in bad_at:
        records[i] = _resign_as(records[i], 99)
    with Ledger.open(tmp_path / "l") as led:
        with pytest.raises(BatchRejectedError) as err:
            led.append_batch(batch_of(records, "arrays"))
        assert [r.position for r in err.value.report.rejected] == bad_at
        assert {r.reason for r in err.value.report.rejected} == {RejectReason.EQUATION_FAILED}
        report = led.append_batch(batch_of(records, "arrays"), on_invalid="skip")
        kept = [r for i, r in enumerate(records) if i not in bad_at]
        assert report.appended == len(kept)
        assert led.root() == ref_root("blake3", leaves_of("blake3", kept))

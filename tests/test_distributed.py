"""ledger_core.distributed on a LocalCluster of 2 worker processes: verdicts equal
verify_batch's, partition roots and the imported ledger equal a local verified import,
every invalid row named by file and row; a worker killed mid-run changes nothing; a file
that cannot be read or has the wrong schema is named in the error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

distributed_pkg = pytest.importorskip("distributed")

from ledger_core import (  # noqa: E402
    InvalidArgumentError,
    Ledger,
    MalformedInputError,
    RejectReason,
    cli,
    distributed,
    ed25519,
    generator,
    importers,
    merkle,
)

# Small partitions, so that each file spans several and a partition may hold no bad row.
PART = 400


@pytest.fixture(scope="module")
def cluster():
    with distributed_pkg.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=40) as local:
        # Not the default client: the tests that want none must find none.
        with distributed_pkg.Client(local, set_as_default=False) as client:
            yield client


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two files with planted bad signatures (no duplicates: every partition root is a
    ledger's), the planted rows and the generator's records."""
    where = tmp_path_factory.mktemp("dataset")
    out = {}
    for name, count, seed, bad in (("a.parquet", 1500, 11, 0.02), ("b.parquet", 900, 12, 0.03)):
        path = str(where / name)
        generator.generate_file(path, count, sellers=20, seed=seed, bad_fraction=bad, processes=1)
        made = generator.generate(count, sellers=20, seed=seed, bad_fraction=bad)
        assert made.bad_signatures
        out[path] = made
    return out


def _reference(paths, hasher="blake3"):
    """Per file: verify_batch_detailed's reasons and the leaf hash of every row, locally."""
    h = merkle._resolve(hasher)
    ref = {}
    for path in paths:
        reasons, leaves = [], []
        for batch in importers.read_parquet(path, batch_size=1000):
            messages = [inv.envelope() for inv in batch]
            reasons.append(ed25519.verify_batch_detailed(batch.seller_keys, messages, batch.signatures))
            leaves.extend(h.hash_leaf(inv.leaf_data()) for inv in batch)
        ref[path] = (np.concatenate(reasons), leaves)
    return ref


def _local_import(path, sources, on_invalid="skip"):
    """A local verified import: (size, root, [(file, row, reason) refused])."""
    rejected = []
    with Ledger.open(path) as ledger:
        for source in sources:
            row = 0
            for batch in importers.read_parquet(source, batch_size=500):
                report = ledger.append_batch(batch, on_invalid=on_invalid)
                rejected.extend((source, row + r.position, r.reason) for r in report.rejected)
                row += len(batch)
        return ledger.size, ledger.root(), rejected


def test_verdicts_and_roots_equal_verify_batch_and_a_local_import(cluster, files, tmp_path):
    paths = list(files)
    ticks = []
    report = distributed.verify_dataset(paths, client=cluster, partition_rows=PART,
                                        on_partition=lambda done, total: ticks.append((done, total)))
    ref = _reference(paths)
    want = [(p, int(r), RejectReason(int(ref[p][0][r]))) for p in paths for r in np.flatnonzero(ref[p][0])]
    assert [tuple(r) for r in report.invalid] == want
    planted = [(p, r) for p in paths for r in files[p].bad_signatures]
    assert [(f, r) for f, r, _ in report.invalid] == planted
    assert {reason for _, _, reason in report.invalid} == {RejectReason.EQUATION_FAILED}
    assert report.total == 2400 and report.valid == 2400 - len(planted) and report.hasher == "blake3"
    assert report.workers == 2 and report.seconds > 0 and report.records_per_second > 0
    assert [(p.file, p.first_row, p.rows) for p in report.partitions] == [
        (path, first, min(PART, n - first)) for path, n in ((paths[0], 1500), (paths[1], 900))
        for first in range(0, n, PART)]
    assert ticks[0] == (0, 7) and ticks[-1] == (7, 7) and len(ticks) == 8
    # Each partition's root is the root of its valid rows' leaves, as the ledger stores them.
    size, root, rejected = _local_import(str(tmp_path / "local"), paths)
    assert [(f, r) for f, r, _ in rejected] == planted and size == report.valid
    with Ledger.open(str(tmp_path / "local"), create=False, readonly=True) as ledger:
        seq = 0
        for part in report.partitions:
            tree = merkle.MerkleTree()
            tree.extend_hashes([ledger.leaf_hash(s) for s in range(seq, seq + part.leaf_count)])
            assert tree.root() == part.root
            leaves = ref[part.file][1][part.first_row:part.first_row + part.rows]
            good = ref[part.file][0][part.first_row:part.first_row + part.rows] == 0
            assert [leaf for leaf, ok in zip(leaves, good) if ok] == [ledger.leaf_hash(s)
                                                                     for s in range(seq, seq + part.leaf_count)]
            seq += part.leaf_count
        assert seq == ledger.size


def test_sha256_roots_and_an_fsspec_url(cluster, files):
    path = next(iter(files))
    report = distributed.verify_dataset("file://" + path, client=cluster, hasher="sha256", partition_rows=1000)
    reasons, leaves = _reference([path], "sha256")[path]
    assert [r for _, r, _ in report.invalid] == files[path].bad_signatures
    assert all(f == "file://" + path for f, _, _ in report.invalid)
    for part in report.partitions:
        tree = merkle.MerkleTree(merkle.SHA256)
        span = slice(part.first_row, part.first_row + part.rows)
        tree.extend_hashes([leaf for leaf, r in zip(leaves[span], reasons[span]) if r == 0])
        assert (tree.size, tree.root()) == (part.leaf_count, part.root)


def test_import_equals_a_local_verified_import(cluster, files, tmp_path):
    dups = str(tmp_path / "dups.parquet")
    generator.generate_file(dups, 700, sellers=5, seed=13, bad_fraction=0.02, duplicate_fraction=0.03, processes=1)
    paths = list(files) + [dups]
    stored = []
    with Ledger.open(str(tmp_path / "cluster")) as ledger:
        report = distributed.import_dataset(
            ledger, paths, client=cluster, on_invalid="skip", partition_rows=PART,
            import_progress=lambda f, n: stored.append((f, n)) or (f, str(n)))
        assert ledger.import_progress(dups) == "700" and ledger.import_progress(paths[0]) == "1500"
        assert ledger.audit().ok
    size, root, rejected = _local_import(str(tmp_path / "local"), paths)
    assert (report.ledger_size, report.ledger_root, report.appended) == (size, root, size)
    # The same rows refused; a duplicate may be in the batch here and in the ledger there.
    assert [(f, r) for f, r, _ in report.invalid] == [(f, r) for f, r, _ in rejected]
    dup = {RejectReason.DUPLICATE_IN_BATCH, RejectReason.DUPLICATE_IN_LEDGER}
    assert [reason in dup for _, _, reason in report.invalid] == [reason in dup for _, _, reason in rejected]
    assert any(reason in dup for _, _, reason in report.invalid)
    assert report.valid == report.appended == report.total - len(report.invalid)
    assert stored[-1] == (dups, 700) and [n for f, n in stored if f == dups] == sorted(n for f, n in stored if f == dups)


def test_import_rejects_at_the_first_bad_partition_naming_file_and_row(cluster, files, tmp_path):
    path = next(iter(files))
    first_bad = files[path].bad_signatures[0]
    with Ledger.open(str(tmp_path / "l")) as ledger:
        with pytest.raises(distributed.DatasetRejectedError) as caught:
            distributed.import_dataset(ledger, [path], client=cluster, partition_rows=PART)
        start = first_bad // PART * PART
        assert ledger.size == start  # the partitions before it, all good, are committed
        assert caught.value.file == path and caught.value.first_row == start
        assert caught.value.rows[0] == distributed.InvalidRow(path, first_bad, RejectReason.EQUATION_FAILED)
        assert f"{path} row {first_bad}: EQUATION_FAILED" in str(caught.value)


def test_a_worker_killed_mid_partition_changes_nothing(cluster, files, tmp_path):
    paths = list(files)
    expected = distributed.verify_dataset(paths, client=cluster, partition_rows=100)
    before = set(cluster.run(os.getpid).values())
    marker = str(tmp_path / "killed")

    class KillOnce(distributed_pkg.WorkerPlugin):
        """SIGKILL the worker's own process as its third partition starts executing, once
        in the whole cluster (the marker file), so that the nanny starts a new one."""

        def setup(self, worker):
            self.started = 0

        def transition(self, key, start, finish, **kwargs):
            if finish != "executing" or "_check_partition" not in str(key):
                return
            self.started += 1
            if self.started == 3:
                try:
                    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    return
                os.write(fd, f"{os.getpid()} {key}".encode())
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)

    cluster.register_plugin(KillOnce(), name="kill-once")
    try:
        report = distributed.verify_dataset(paths, client=cluster, partition_rows=100)
    finally:
        cluster.unregister_worker_plugin("kill-once")
    pid, key = open(marker).read().split()
    assert int(pid) in before
    assert report.invalid == expected.invalid and report.partitions == expected.partitions
    assert (report.total, report.valid) == (expected.total, expected.valid)
    # The partition it was running ran again elsewhere: processing, released with the
    # worker, processing again.
    story = [row[3] for row in cluster.story(key) if row[0] == "scheduler" and row[2] == "processing"]
    assert story.count("released") >= 1 and story[-1] == "memory"
    cluster.wait_for_workers(2, timeout=60)
    assert int(pid) not in cluster.run(os.getpid).values()  # the nanny started a new one


def test_unreadable_and_wrong_schema_files_are_named(cluster, files, tmp_path):
    good = next(iter(files))
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not a parquet file at all")
    with pytest.raises(MalformedInputError, match=f"{junk}: not a readable Parquet file"):
        distributed.verify_dataset([good, str(junk)], client=cluster)
    missing = str(tmp_path / "missing.parquet")
    with pytest.raises(MalformedInputError, match=f"{missing}: not a readable Parquet file"):
        distributed.verify_dataset([missing], client=cluster)
    wrong = tmp_path / "wrong.parquet"
    table = pq.read_table(good).slice(0, 10)
    pq.write_table(table.set_column(1, "issued_at", table.column("issued_at").cast(pa.float64())), wrong)
    with pytest.raises(MalformedInputError, match=f"{wrong}: column 'issued_at' has type double"):
        distributed.verify_dataset([str(wrong)], client=cluster)
    unsigned = tmp_path / "unsigned.parquet"
    pq.write_table(table.drop_columns(["signature"]), unsigned)
    with pytest.raises(MalformedInputError, match=f"{unsigned}: no column 'signature'"):
        distributed.verify_dataset([good, str(unsigned)], client=cluster)
    with Ledger.open(str(tmp_path / "l")) as ledger:
        with pytest.raises(MalformedInputError, match=f"{wrong}: column 'issued_at'"):
            distributed.import_dataset(ledger, [good, str(wrong)], client=cluster, on_invalid="skip")
        assert ledger.size == 0  # the files are all checked before anything is written


def test_arguments(cluster, files, tmp_path):
    path = next(iter(files))
    with pytest.raises(InvalidArgumentError, match="no Dask client"):
        distributed.verify_dataset([path])
    with pytest.raises(InvalidArgumentError, match="partition_rows"):
        distributed.verify_dataset([path], client=cluster, partition_rows=0)
    with pytest.raises(InvalidArgumentError, match="paths is empty"):
        distributed.verify_dataset([], client=cluster)
    with pytest.raises(InvalidArgumentError, match="unknown|hasher"):
        distributed.verify_dataset([path], client=cluster, hasher="md5")
    with Ledger.open(str(tmp_path / "l")) as ledger:
        with pytest.raises(InvalidArgumentError, match="on_invalid"):
            distributed.import_dataset(ledger, [path], client=cluster, on_invalid="stop")


def test_importing_ledger_core_never_imports_dask():
    code = ("import sys, ledger_core, ledger_core.distributed, ledger_core.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_verify_and_import_on_the_scheduler(cluster, files, tmp_path, capsys):
    paths = list(files)
    address = cluster.scheduler.address
    code = cli.main(["verify", *paths, "--scheduler", address, "--batch-size", str(PART), "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 1 and obj["verified"] == 2400 and obj["workers"] == 2
    assert [(b["source"], b["location"]) for b in obj["bad"]] == [
        (p, f"record {r + 1}") for p in paths for r in files[p].bad_signatures]
    ledger = str(tmp_path / "l")
    code = cli.main(["import", ledger, *paths, "--scheduler", address, "--on-invalid", "skip", "--json"])
    obj = json.loads(capsys.readouterr().out)
    size, root, _ = _local_import(str(tmp_path / "local"), paths)
    assert code == 1 and (obj["size"], obj["root"]) == (size, root.hex()) and len(obj["rejected"]) == 2400 - size
    code = cli.main(["import", ledger, paths[0], "--scheduler", address])
    assert code == 2 and "earlier import" in capsys.readouterr().err  # resumed locally, not here
    code = cli.main(["import", str(tmp_path / "m"), paths[0], "--scheduler", address, "--batch-size", str(PART),
                     "--json"])
    obj = json.loads(capsys.readouterr().out)
    first = files[paths[0]].bad_signatures[0]
    assert code == 1 and obj["stopped_at"] == {"source": paths[0], "location": f"record {first + 1}",
                                               "resume_from": f"record {first // PART * PART + 1}"}
    code = cli.main(["verify", paths[0], "--scheduler", address, "--workers", "2"])
    assert code == 2 and "exclude each other" in capsys.readouterr().err

"""The command line: the README's demo runs end to end on a small data set."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ledger_core import cli


def test_demo_runs_end_to_end_and_every_check_passes(capsys, tmp_path):
    assert cli.main(["demo", "--invoices", "600", "--sellers", "25", "--seed", "7", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for stage in ("1. generate", "2. import", "3. prove", "4. audit", "5. import the EN 16931"):
        assert stage in out
    assert "tampered invoice" in out and "signature verifies False, inclusion proof verifies False" in out
    assert "demo: all checks passed" in out
    # Our throughput only: the libsodium anchor and its ratio are bench/bench_pipeline.py's.
    assert "anchor" not in out and "x libsodium" not in out and "libsodium verify" not in out
    assert "verify inclusion JSON (pure Python)" in out
    assert "audit: every payload, signature, tile, index" in out and "clean" in out
    assert "XML invoices (parse + sign + append)" in out and "60 appended, 30 duplicate numbers reported" in out
    # The data set is cached: a second run does not generate it again.
    assert cli.main(["demo", "--invoices", "600", "--sellers", "25", "--seed", "7", "--cache-dir", str(tmp_path)]) == 0
    assert "data set cached" in capsys.readouterr().out
    for reason in ("EQUATION_FAILED", "NON_CANONICAL_S", "SMALL_ORDER_KEY", "DUPLICATE_IN_BATCH"):
        assert out.count(f": {reason}") == 1, f"the import must reject exactly one planted {reason} record"


def test_demo_refuses_a_data_set_too_small_to_show_anything():
    with pytest.raises(SystemExit, match="at least 10 invoices"):
        cli.main(["demo", "--invoices", "5"])


def test_python_dash_m_entry_point_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "ledger_core", "demo", "--invoices", "40", "--sellers", "3", "--cache-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "demo: all checks passed" in done.stdout


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["no-such-command"])
    assert excinfo.value.code == 2


def test_demo_imports_into_the_ledger_it_is_given(tmp_path, capsys):
    import ledger_core

    path = tmp_path / "ledger"
    assert cli.main(["demo", "--invoices", "50", "--sellers", "4", "--ledger", str(path), "--cache-dir", str(tmp_path)]) == 0
    with ledger_core.Ledger.open(path, create=False) as led:
        assert led.size == 46 + 60  # four planted records rejected; 60 distinct EN 16931 examples
        assert led.audit().ok and len(led.checkpoints()) == 1


# --- the ledger-core commands (issue 9) ---------------------------------------------------------

import json as _json
import os as _os
import stat as _stat


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_keygen_writes_a_0600_key_and_never_overwrites(tmp_path, capsys):
    key = tmp_path / "k"
    code, out, _ = _run(capsys, "keygen", key)
    assert code == 0 and len(out.strip()) == 64
    text = key.read_text()
    assert len(text) == 65 and text.endswith("\n") and _stat.S_IMODE(_os.stat(key).st_mode) == 0o600
    code, _, err = _run(capsys, "keygen", key)
    assert code == 2 and "never overwrites" in err and key.read_text() == text


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_gen_import_verify_prove_audit_end_to_end(tmp_path, capsys, fmt):
    from ledger_core import proofs

    data = tmp_path / f"in.{fmt}"
    code, out, _ = _run(capsys, "gen", data, "--count", 600, "--sellers", 7, "--seed", 3, "--bad-fraction", 0.01,
                        "--duplicate-fraction", 0.01, "--format", fmt, "--json")
    made = _json.loads(out)
    assert code == 0 and made["count"] == 600 and made["bad_signatures"] > 0 and made["duplicates"] > 0
    code, out, _ = _run(capsys, "verify", data, "--json")
    assert code == 1 and len(_json.loads(out)["bad"]) == made["bad_signatures"]
    ledger = tmp_path / "l"
    code, out, _ = _run(capsys, "import", ledger, data, "--on-invalid", "skip", "--json", "--batch-size", 256)
    report = _json.loads(out)
    assert code == 1  # records were skipped
    reasons = sorted({r["reason"] for r in report["rejected"]})
    assert reasons == ["DUPLICATE_IN_BATCH", "EQUATION_FAILED"] or reasons == ["DUPLICATE_IN_BATCH", "DUPLICATE_IN_LEDGER", "EQUATION_FAILED"]
    assert report["appended"] == 600 - len(report["rejected"]) == report["size"]
    assert all(r["source"] == str(data) and r["location"].startswith("record ") for r in report["rejected"])
    code, out, _ = _run(capsys, "prove", ledger, "--inclusion", 5)
    proof = proofs.InclusionProof.from_json(out)
    assert code == 0 and proof.verify(proof.leaf_hash, proof.root) and proof.root.hex() == report["root"]
    code, out, _ = _run(capsys, "prove", ledger, "--consistency", 100)
    cproof = proofs.ConsistencyProof.from_json(out)
    assert code == 0 and cproof.verify(cproof.root1, cproof.root2)
    code, out, _ = _run(capsys, "audit", ledger, "--json")
    assert code == 0 and _json.loads(out)["ok"] is True
    code, out, _ = _run(capsys, "get", ledger, 5, "--json", "--payload-out", tmp_path / "p")
    got = _json.loads(out)
    assert code == 0 and (tmp_path / "p").read_bytes() == __import__("base64").b64decode(got["payload_b64"])
    code, out, _ = _run(capsys, "find", ledger, got["seller_key"], got["invoice_id"], "--json")
    assert code == 0 and _json.loads(out) == {"seq": 5}
    code, out, _ = _run(capsys, "find", ledger, got["seller_key"], "no-such-invoice", "--json")
    assert code == 1 and _json.loads(out) == {"seq": None}
    key = tmp_path / "k"
    _run(capsys, "keygen", key)
    code, out, _ = _run(capsys, "checkpoint", ledger, "--sign-with", key, "--origin", "example.com/log")
    assert code == 0 and out.startswith("example.com/log\n")
    code, out, _ = _run(capsys, "stats", ledger, "--json")
    assert code == 0 and _json.loads(out)["size"] == report["size"]


def test_import_stop_keeps_earlier_batches_and_says_where_to_resume(tmp_path, capsys):
    data = tmp_path / "in.jsonl"
    _run(capsys, "gen", data, "--count", 300, "--sellers", 3, "--format", "jsonl")
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    record = _json.loads(lines[149])
    record["signature"] = ("00" if record["signature"][:2] != "00" else "11") + record["signature"][2:]
    lines[149] = _json.dumps(record, ensure_ascii=False) + "\n"
    data.write_text("".join(lines), encoding="utf-8")
    code, out, _ = _run(capsys, "import", tmp_path / "l", data, "--batch-size", 100, "--json")
    report = _json.loads(out)
    assert code == 1 and report["size"] == 100 and report["stopped_at"] == {"source": str(data), "location": "record 150",
                                                                           "resume_from": "record 101"}


def test_input_errors_exit_2_with_the_location(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"invoice_id": "x"}\n', encoding="utf-8")
    code, _, err = _run(capsys, "import", tmp_path / "l", bad)
    assert code == 2 and f"{bad}: record 1 (line 1): missing issued_at" in err
    code, _, err = _run(capsys, "import", tmp_path / "l", tmp_path / "missing.parquet")
    assert code == 2 and "no such file" in err
    code, _, err = _run(capsys, "audit", tmp_path / "nothing-here")
    assert code == 2 and "no ledger" in err
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["import"])
    assert excinfo.value.code == 2


def test_every_command_has_help():
    for command in ("keygen", "gen", "import", "verify", "audit", "get", "find", "prove", "checkpoint", "stats", "demo"):
        with pytest.raises(SystemExit) as excinfo:
            cli.main([command, "--help"])
        assert excinfo.value.code == 0


def test_import_again_resumes_and_never_duplicates(tmp_path, capsys):
    data = tmp_path / "in.parquet"
    _run(capsys, "gen", data, "--count", 500, "--sellers", 4)
    code, out, _ = _run(capsys, "import", tmp_path / "l", data, "--batch-size", 128, "--json")
    first = _json.loads(out)
    assert code == 0 and first["appended"] == 500 and first["resumed"] == {}
    code, out, _ = _run(capsys, "import", tmp_path / "l", data, "--json")
    again = _json.loads(out)
    assert code == 0 and again["appended"] == 0 and again["resumed"] == {str(data): 500}
    assert again["root"] == first["root"] and again["size"] == 500
    _os.utime(data, ns=(0, 0))  # the file "changed"
    code, _, err = _run(capsys, "import", tmp_path / "l", data)
    assert code == 2 and "changed since an earlier import" in err


def test_an_import_killed_midway_and_run_again_ends_at_the_uninterrupted_root(tmp_path, capsys):
    import signal
    import subprocess
    import sys
    import time

    from ledger_core import Ledger
    from ledger_core.errors import NotFoundError

    data = tmp_path / "in.jsonl"
    _run(capsys, "gen", data, "--count", 3000, "--sellers", 6, "--format", "jsonl", "--duplicate-fraction", 0.01)
    code, out, _ = _run(capsys, "import", tmp_path / "whole", data, "--on-invalid", "skip", "--batch-size", 50, "--json")
    whole = _json.loads(out)
    env = dict(_os.environ, PYTHONPATH=_os.pathsep.join([str(__import__("pathlib").Path(__file__).resolve().parents[1] / "src")]))
    command = [sys.executable, "-m", "ledger_core", "import", str(tmp_path / "cut"), str(data), "--on-invalid", "skip",
               "--batch-size", "50"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    size = 0
    while time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
        if (tmp_path / "cut" / "data.mdb").exists():
            try:
                with Ledger.open(tmp_path / "cut", create=False, readonly=True) as led:
                    size = led.size
            except NotFoundError:  # the file is there, its tables are not committed yet
                continue
            if size >= 500:
                break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with Ledger.open(tmp_path / "cut", create=False, readonly=True) as led:
        cut_size = led.size
    assert 0 < cut_size, "the import was killed before its first commit: make the data set larger"
    code, out, _ = _run(capsys, "import", tmp_path / "cut", data, "--on-invalid", "skip", "--batch-size", 50, "--json")
    rest = _json.loads(out)
    assert rest["root"] == whole["root"] and rest["size"] == whole["size"]
    if cut_size < whole["size"]:
        assert str(data) in rest["resumed"]
    with Ledger.open(tmp_path / "cut", create=False, readonly=True) as led:
        assert led.audit().ok


def test_the_progress_bar_shows_on_a_terminal_only(tmp_path, capsys, monkeypatch):
    data = tmp_path / "in.parquet"
    _run(capsys, "gen", data, "--count", 300, "--sellers", 3)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    code, _, err = _run(capsys, "import", tmp_path / "a", data, "--batch-size", 100)
    assert code == 0 and "300/300" in err and "records/s" in err
    code, _, err = _run(capsys, "import", tmp_path / "b", data, "--batch-size", 100, "--quiet")
    assert code == 0 and err == ""

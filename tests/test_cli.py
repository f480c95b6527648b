"""The command line: the README's demo runs end to end on a small data set."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ledger_core import cli


def test_demo_runs_end_to_end_and_every_check_passes(capsys):
    assert cli.main(["demo", "--invoices", "600", "--sellers", "25", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    for stage in ("1. generate", "2. import", "3. prove", "4. audit"):
        assert stage in out
    assert "tampered invoice" in out and "signature verifies False, inclusion proof verifies False" in out
    assert "demo: all checks passed" in out
    # Our throughput only: the libsodium anchor and its ratio are bench/bench_pipeline.py's.
    assert "anchor" not in out and "x libsodium" not in out and "libsodium verify" not in out
    assert "verify inclusion JSON (pure Python)" in out
    assert "audit: every payload, signature, tile, index" in out and "clean" in out
    for reason in ("EQUATION_FAILED", "NON_CANONICAL_S", "SMALL_ORDER_KEY", "DUPLICATE_IN_BATCH"):
        assert out.count(f": {reason}") == 1, f"the import must reject exactly one planted {reason} record"


def test_demo_refuses_a_data_set_too_small_to_show_anything():
    with pytest.raises(SystemExit, match="at least 10 invoices"):
        cli.main(["demo", "--invoices", "5"])


def test_python_dash_m_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "ledger_core", "demo", "--invoices", "40", "--sellers", "3"],
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
    assert cli.main(["demo", "--invoices", "50", "--sellers", "4", "--ledger", str(path)]) == 0
    with ledger_core.Ledger.open(path, create=False) as led:
        assert led.size == 46  # four planted records rejected
        assert led.audit().ok and len(led.checkpoints()) == 1

"""The README's first Python example runs as written, and its claims hold."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_ledger_example_runs_and_every_check_is_true():
    block = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[0]
    assert "Ledger.open" in block, "the README's first example shows the Ledger"
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    report = namespace["report"]
    assert (report.first_seq, report.appended, report.rejected, report.size) == (0, 2, [], 2)
    assert namespace["seq"] == 0
    from ledger_core import Ledger, checkpoint

    with Ledger.open(namespace["path"], create=False, readonly=True) as led:
        assert led.size == 2 and led.root() == report.root
        stored = led.checkpoints()
        assert len(stored) == 1 and stored[0].note == namespace["note"]
        assert checkpoint.verify(namespace["note"], stored[0].public_key, "example.com/ledger").root == report.root


def test_readme_primitives_example_runs_and_every_check_is_true():
    block = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[1]
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    assert namespace["ok"].tolist() == [True, True]
    from ledger_core.ed25519 import Reason

    assert namespace["why"].tolist() == [Reason.OK, Reason.OK]
    assert namespace["packed"].offsets.tolist() == [0, len(namespace["messages"][0]), sum(map(len, namespace["messages"]))]
    log = namespace["log"]
    assert log.size == 2 and namespace["first"] == 0
    from ledger_core import checkpoint, merkle

    assert namespace["proof"].verify(log.leaf_hash(0), namespace["root"])
    assert merkle.verify_inclusion("blake3", 0, log.size, log.leaf_hash(0), namespace["proof"].hashes, namespace["root"])
    assert checkpoint.verify(namespace["note"], namespace["key"].public_key, "example.com/log").root == namespace["root"]


def test_readme_opens_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert [line.split("#")[0].strip() for line in block] == ["bash run.sh demo", "bash run.sh test"]


def test_every_run_sh_command_is_defined():
    """run.sh dispatches each command to a shell function: each must exist (the demo's
    once went missing, and `bash run.sh demo` then failed before doing anything)."""
    text = (README.parent / "run.sh").read_text(encoding="utf-8")
    dispatched = re.findall(r"^\s+(\w+)\) shift; (cmd_\w+) ", text, flags=re.M)
    assert {name for name, _ in dispatched} >= {"demo", "test", "bench"}
    for _, function in dispatched:
        assert re.search(rf"^{function}\(\) {{$", text, flags=re.M), f"run.sh calls {function} but never defines it"
    done = subprocess.run(["bash", "-n", str(README.parent / "run.sh")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

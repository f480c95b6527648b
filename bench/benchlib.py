"""What every benchmark here shares (bench/*.py import it; they run as scripts, so this
folder is on sys.path): the one timer, and what is recorded about the machine.

The timer (`measure`): a warm-up, then runs until both a minimum count and a minimum
time are reached; the fastest run is kept, per item, as wall and process CPU time. The
machine is shared, so the fastest run is the one least disturbed by other jobs: keep
runs short (milliseconds) and let the minimum time gather many of them."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from typing import Callable, Dict, NamedTuple, Optional, Sequence, Tuple

import ledger_core


def cpu_model() -> str:
    """The CPU's model name from lscpu, else what platform knows."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    found = re.search(r"Model name:\s*(.+)", out)
    return found.group(1).strip() if found else (platform.processor() or "unknown")


def machine(**anchors: object) -> Dict[str, object]:
    """CPU, cores, Python, ledger_core's active paths, the load average now, and the
    versions of the anchor packages given as keyword arguments (name=module)."""
    info: Dict[str, object] = {
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "ledger_core_features": ledger_core.features(),
        "load_average_at_start": list(os.getloadavg()),
    }
    for name, module in anchors.items():
        info[name] = getattr(module, "__version__", "unknown")
    return info


class Measurement(NamedTuple):
    """The fastest run of `measure`, per item."""

    wall_s: float  # wall-clock seconds per item of the fastest run (by wall time)
    cpu_s: float  # process CPU seconds per item of the run with the least CPU time
    runs: int  # timed runs made
    seconds: float  # wall time spent in timed runs

    @property
    def wall_us(self) -> float:
        return self.wall_s * 1e6

    @property
    def wall_ns(self) -> float:
        return self.wall_s * 1e9

    @property
    def cpu_us(self) -> float:
        return self.cpu_s * 1e6


def measure(
    fn: Callable[[], object],
    *,
    min_time: float,
    min_runs: int = 3,
    warmup: int = 1,
    setup: Optional[Callable[[], object]] = None,
) -> Measurement:
    """Times fn: `warmup` untimed calls, then timed runs until at least `min_runs` runs and
    `min_time` seconds of them. fn returns how many items it processed, as an int; any
    other return value (None, a digest, an array) counts as one item. setup, when given,
    runs untimed before every call (a fresh tree, a cold cache)."""
    if min_runs < 1:
        raise ValueError("min_runs must be at least 1")
    for _ in range(warmup):
        if setup is not None:
            setup()
        fn()
    best_wall = best_cpu = float("inf")
    runs, spent = 0, 0.0
    while runs < min_runs or spent < min_time:
        if setup is not None:
            setup()
        c0, w0 = time.process_time(), time.perf_counter()
        items = fn()
        c1, w1 = time.process_time(), time.perf_counter()
        count = items if isinstance(items, int) and not isinstance(items, bool) else 1
        if count <= 0:
            raise ValueError("fn returned an item count of 0 or less")
        best_wall = min(best_wall, (w1 - w0) / count)
        best_cpu = min(best_cpu, (c1 - c0) / count)
        spent += w1 - w0
        runs += 1
    return Measurement(best_wall, best_cpu, runs, spent)


def compare(
    ours: Callable[[], object],
    anchor: Callable[[], object],
    *,
    reps: int,
    min_time: float,
    min_runs: int = 3,
) -> Tuple[Measurement, Measurement]:
    """(ours, anchor), measured in `reps` alternating rounds (ours, anchor, ours, ...) so
    that a slow spell of the machine hits both; the fastest of all rounds is kept."""
    best: Tuple[Optional[Measurement], Optional[Measurement]] = (None, None)
    for rep in range(reps):
        pair = tuple(measure(f, min_time=min_time, min_runs=min_runs, warmup=1 if rep == 0 else 0)
                     for f in (ours, anchor))
        best = tuple(new if old is None or new.wall_s < old.wall_s else old  # type: ignore[misc]
                     for old, new in zip(best, pair))
    assert best[0] is not None and best[1] is not None
    return best[0], best[1]


def cycle(fn: Callable[[object], object], args: Sequence[object]) -> Callable[[], int]:
    """A run of `measure` that calls fn once per argument: timings are per call."""

    def run() -> int:
        for a in args:
            fn(a)
        return len(args)

    return run

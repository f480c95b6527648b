"""ledger-core command line.

``ledger-core demo`` runs the main job end to end on an embedded default data set
and prints throughput.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional

import numpy as np

import ledger_core
from ledger_core import hashing


def _rate(count: int, seconds: float, unit: str) -> str:
    return f"{count / seconds:,.0f} {unit}/s" if seconds > 0 else "n/a"


def cmd_demo(args: argparse.Namespace) -> int:
    features = ledger_core.features()
    print(f"ledger_core {ledger_core.__version__}; paths {features['paths']}; threads {features['threads']}")
    rng = np.random.default_rng(args.seed)
    count = args.invoices
    payloads = rng.integers(0, 256, size=(count, 512), dtype=np.uint8)

    t0 = time.perf_counter()
    for row in payloads:
        hashing.sha256(row)
    t1 = time.perf_counter()
    print(f"sha256   {count:,} x 512 B: {_rate(count, t1 - t0, 'items')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledger-core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job end to end on generated invoices")
    demo.add_argument("--invoices", type=int, default=200_000, help="how many invoices to generate")
    demo.add_argument("--seed", type=int, default=2026, help="seed of the generated data set")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""ledger-core command line.

``ledger-core demo`` runs the main job end to end on an embedded default data set
and prints throughput.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

def cmd_demo(args: argparse.Namespace) -> int:
    from ledger_core import demo

    return demo.run(count=args.invoices, sellers=args.sellers, seed=args.seed, path=args.ledger)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledger-core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job end to end on generated invoices")
    demo.add_argument("--invoices", type=int, default=200_000, help="how many invoices to generate")
    demo.add_argument("--sellers", type=int, default=2_000, help="how many distinct sellers sign them")
    demo.add_argument("--seed", type=int, default=2026, help="seed of the generated data set")
    demo.add_argument("--ledger", default=None,
                      help="ledger directory to import into (default: a temporary one, removed afterwards)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

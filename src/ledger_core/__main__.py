"""python -m ledger_core: the command-line interface."""

from ledger_core.cli import main

raise SystemExit(main())

"""`python -m reconciler.cli`: the `reconciler` command."""

from reconciler.cli import main

raise SystemExit(main())

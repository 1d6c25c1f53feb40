"""``python -m lcasolve`` runs the command-line interface."""

from lcasolve.cli.main import main

raise SystemExit(main())

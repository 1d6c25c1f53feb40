"""The ``lcasolve`` command line (see ``lcasolve --help``)."""

"""Entry point of the ``lcasolve`` command.

Each sub-command lives in its own module with ``register(subparsers)`` and ``run(args) -> int``.
Exit status: 0 success; 1 bad data or an unsolvable system (one line on stderr, no traceback);
2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from lcasolve.cli._common import printable
from lcasolve.errors import LcasolveError, LcasolveWarning, UsageError

__all__ = ["main"]

#: sub-command -> module
COMMANDS = {
    "calc": "lcasolve.cli.calc",
    "mc": "lcasolve.cli.mc",
    "sensitivity": "lcasolve.cli.sensitivity",
    "report": "lcasolve.cli.report",
    "convert": "lcasolve.cli.convert",
    "generate": "lcasolve.cli.generate",
    "bench": "lcasolve.cli.bench",
    "demo": "lcasolve.cli.demo",
    "search": "lcasolve.cli.search",
    "tree": "lcasolve.cli.tree",
    "paths": "lcasolve.cli.paths",
    "scenarios": "lcasolve.cli.scenarios",
    "compare": "lcasolve.cli.compare",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every sub-command, or with the one named ``only``.

    Registering one sub-command imports only its module (``lcasolve calc --help`` does not
    import the Monte Carlo or report modules).
    """
    from lcasolve import __version__

    parser = argparse.ArgumentParser(
        prog="lcasolve",
        description="Fast, checked LCA and product carbon footprint calculations.",
    )
    parser.add_argument("--version", action="version", version=f"lcasolve {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is not None and name != only:
            continue
        if importlib.util.find_spec(module) is None:
            continue
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    # the sub-command is the first argument unless that is an option (--version, --help)
    first = args_list[0] if args_list else None
    parser = build_parser(first if first in COMMANDS else None)
    args = parser.parse_args(args_list)
    module = importlib.import_module(COMMANDS[args.command])
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer(args.command, warnings.showwarning)
            return int(module.run(args) or 0)
    except UsageError as exc:
        print(f"lcasolve {args.command}: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except LcasolveError as exc:
        print(f"lcasolve {args.command}: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lcasolve {args.command}: interrupted{_resume_hint(args)}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_stdout()
    except OSError as exc:  # unwritable or missing folder, full disk, unreadable input
        print(f"lcasolve {args.command}: error: {_os_message(exc)}", file=sys.stderr)
        return 1


def _warning_printer(command: str, default: Any) -> Any:
    """``showwarning`` that prints lcasolve's own warnings as one line, others as usual.

    An lcasolve warning is printed once per run even when several steps issue it (the
    deterministic solve checked by the command and again by a batch of variants).
    """
    shown: set[str] = set()

    def show(message: Any, category: type, filename: str, lineno: int, *rest: Any) -> None:
        if issubclass(category, LcasolveWarning):
            line = f"lcasolve {command}: warning: {printable(str(message))}"
            if line not in shown:
                shown.add(line)
                print(line, file=sys.stderr)
        else:
            default(message, category, filename, lineno, *rest)

    return show


def _resume_hint(args: argparse.Namespace) -> str:
    """After Ctrl-C of a run with ``--out``: where the partial run is and how to go on."""
    out = getattr(args, "out", None)
    if not out or not getattr(args, "iterations", None):
        return ""
    from pathlib import Path

    from lcasolve.montecarlo._store import partial_path

    part = partial_path(Path(out))
    if not part.exists():
        return ""
    return f"; the finished chunks are kept in {part}: run the same command with --resume to go on"


def _closed_stdout() -> int:
    """The reader of stdout went away (``lcasolve ... | head``): exit quietly with 141.

    stdout is pointed at ``/dev/null`` so that the interpreter's final flush does not raise
    again (the Python documentation's recipe for SIGPIPE).
    """
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def _os_message(exc: OSError) -> str:
    """``out.h5: No space left on device``: the file and the system's reason, on one line."""
    from lcasolve.io._atomic import os_reason

    filename, reason = os_reason(exc)
    return reason if filename is None else f"{filename}: {reason}"


if __name__ == "__main__":
    raise SystemExit(main())

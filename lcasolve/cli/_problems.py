"""How the commands treat problems an import found: invalid distributions warn or stop.

A deterministic command (``calc``, ``convert``, ``tree``, ``report`` without Monte Carlo) does not
use distributions, so an invalid one must not stop it: the inputs are read leniently, the invalid
distributions are listed on stderr (count and the first few) and kept in
``system.metadata["invalid_distributions"]``, and any *other* problem still stops the command
unless ``--lenient`` is given. A command that samples refuses invalid distributions unless
``--lenient`` (the CLI word for ``strict=False``) says to sample without them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from lcasolve.cli._common import printable
from lcasolve.errors import InputError, InvalidUncertaintyError

__all__ = [
    "check_characterized",
    "check_problems",
    "describe_distributions",
    "describe_folder",
    "note_folders",
]

#: how many invalid distributions a message shows
SHOWN = 3


def describe_distributions(items: Sequence[str], shown: int = SHOWN) -> str:
    """``"27 invalid distributions (first: ...; ...)"`` for a message."""
    first = "; ".join(items[:shown])
    more = f"; and {len(items) - shown} more" if len(items) > shown else ""
    noun = "distribution" if len(items) == 1 else "distributions"
    return f"{len(items)} invalid {noun} ({first}{more})"


def check_problems(system: Any, args: argparse.Namespace, *, sampling: bool = False) -> None:
    """Warn about or refuse the problems of a leniently read ``system`` as the command needs.

    Parameters
    ----------
    system : System
        Read with ``strict=False``.
    args : argparse.Namespace
        The command's arguments (``--lenient``, ``command``).
    sampling : bool
        The command samples the distributions.

    Raises
    ------
    InvalidUncertaintyError
        ``sampling`` without ``--lenient`` and some distributions are invalid.
    InputError
        Without ``--lenient``, the first problem other than an invalid distribution.
    """
    lenient = bool(getattr(args, "lenient", False))
    meta = system.metadata
    invalid = [str(x) for x in meta.get("invalid_distributions") or ()]
    others = [str(x) for x in meta.get("problems") or () if str(x) not in set(invalid)]
    if others and not lenient:
        raise InputError(f"{others[0]} (--lenient lists and leaves out such problems)")
    if not invalid:
        return
    if sampling and not lenient:
        raise InvalidUncertaintyError(
            f"cannot sample {describe_distributions(invalid)}; give --lenient to sample "
            f"without them (their amounts stay fixed)"
        )
    action = "sampled without them" if sampling else "not used by a deterministic calculation"
    command = getattr(args, "command", "") or ""
    print(
        printable(f"lcasolve {command}: warning: {describe_distributions(invalid)}; {action}"),
        file=sys.stderr,
    )


def uncharacterized(system: Any) -> list[str]:
    """Names of the categories whose factors meet none of the inputs' elementary flows."""
    import numpy as np

    c, b = system.characterization, system.biosphere
    emitted = np.zeros(system.n_flows, dtype=bool)
    emitted[np.asarray(b.row)[np.asarray(b.value) != 0]] = True
    hit = np.zeros(system.n_categories, dtype=bool)
    rows, cols = np.asarray(c.row), np.asarray(c.col)
    used = (np.asarray(c.value) != 0) & emitted[cols]
    hit[rows[used]] = True
    names = system.column("categories", "name")
    return [str(names[k]) for k in np.flatnonzero(~hit)]


def check_characterized(system: Any, args: argparse.Namespace) -> None:
    """Stop when no category characterizes any flow; warn about each category that does not.

    A method that matches none of the inputs' flows would otherwise give a score of 0 and an empty
    contribution table without a word.

    Raises
    ------
    InputError
        Every category (at least one) characterizes none of the flows.
    """
    if not system.n_categories:
        return
    empty = uncharacterized(system)
    if not empty:
        return
    listed = ", ".join(repr(n) for n in empty[:SHOWN]) + (
        f" and {len(empty) - SHOWN} more" if len(empty) > SHOWN else ""
    )
    if len(empty) == system.n_categories:
        raise InputError(
            f"nothing is characterized: no factor of {listed} meets any of the {system.n_flows} "
            f"elementary flows of the inputs (every score would be 0); check --method or the "
            f"flow names"
        )
    command = getattr(args, "command", "") or ""
    verb = "characterizes" if len(empty) == 1 else "characterize"
    print(
        printable(
            f"lcasolve {command}: warning: {listed} {verb} none of the {system.n_flows} "
            f"elementary flows of the inputs (score 0)"
        ),
        file=sys.stderr,
    )


def describe_folder(summary: Any) -> str:
    """One line on what a folder input contributed (``metadata["input_files"]`` item)."""
    parts = ", ".join(
        f"{'its own' if d == '.' else d + '/'} {n}" for d, n in summary["folders"].items()
    )
    files = summary["files"]
    line = f"read {summary['path']} as {summary['format']}: {files} file{'s' * (files != 1)}"
    line += f" ({parts})" if parts else ""
    left = summary.get("left_out") or {}
    if left:
        shown = ", ".join(f"{d}/ ({n} file{'s' * (n != 1)})" for d, n in left.items())
        line += f"; subfolders not read: {shown}"
    return line


def note_folders(system: Any, args: argparse.Namespace) -> None:
    """A stderr note per folder input that left subfolders out: the files read, and those left.

    A folder read whole needs no word (``metadata["input_files"]``, ``ImportReport.inputs`` and
    ``convert --json`` list its files either way); one whose subfolders were not read is the
    surprise worth a line, so that an error after it stays the only other line on stderr.
    """
    command = getattr(args, "command", "") or ""
    for summary in system.metadata.get("input_files") or ():
        if summary.get("left_out"):
            print(
                printable(f"lcasolve {command}: note: {describe_folder(summary)}"), file=sys.stderr
            )

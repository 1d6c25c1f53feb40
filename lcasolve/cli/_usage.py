"""Argument checks that make a wrong command line a usage error (exit 2) before any work.

``argparse`` types (:func:`positive_int`, :func:`non_negative_int`, :func:`demand_item`) reject a
bad value while the command line is parsed; :func:`check_output` refuses an output whose folder
does not exist or that is a folder, before the inputs are read or anything is computed.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from lcasolve.errors import OutputExistsError, UsageError

__all__ = [
    "check_output",
    "demand_text",
    "check_run_file",
    "demand_item",
    "non_negative_int",
    "positive_int",
]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """``argparse`` type: an integer >= 0."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def demand_item(text: str) -> tuple[str, float]:
    """``argparse`` type of ``--demand``: ``ID=AMOUNT`` with a finite amount.

    The id is split at the last ``=``, so names containing ``=`` work.
    """
    key, sep, amount = text.rpartition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected ID=AMOUNT (e.g. 'steel=1')")
    try:
        value = float(amount)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {amount!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: {amount!r} is not a finite number")
    return key, value


def demand_text(text: str) -> str:
    """``argparse`` type of ``--demand``: checks ``ID=AMOUNT`` (see :func:`demand_item`).

    Returns the text as given, so that commands can label a demand by what the user typed.
    """
    demand_item(text)
    return text


def check_output(path: str | Path, option: str, *, overwrite: bool = False) -> Path:
    """Refuse an output that cannot be written, before any computation.

    Parameters
    ----------
    path : str or Path
        The output file.
    option : str
        How the command line names it (``--out``, ``OUT``), for the message.
    overwrite : bool
        An existing file may be replaced.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    UsageError
        The folder of ``path`` does not exist, or ``path`` is a folder.
    OutputExistsError
        ``path`` exists and ``overwrite`` is not set.
    """
    out = Path(path)
    if out.is_dir():
        raise UsageError(f"{option} {out}: is a folder; give a file name inside it")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{option} {out}: the folder {parent} does not exist")
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out}: already exists (pass --overwrite to replace it)")
    return out


def check_run_file(args: argparse.Namespace) -> None:
    """``--out``/``--resume`` of a Monte Carlo run: ``--resume`` needs ``--out``; its folder exists.

    Whether an existing run file may be replaced or resumed is the run store's decision.
    """
    out = getattr(args, "out", None)
    if getattr(args, "resume", False) and not out:
        raise UsageError("--resume continues the run in --out: give --out RUN.h5")
    if out:
        check_output(out, "--out", overwrite=True)

"""What an import did: the problems a lenient read skipped and the public :class:`ImportReport`.

Readers collect problems with :class:`Problems` (raise the first when ``strict``, else list it and
leave the offending exchange or process out); the assembly writes the link report, one entry per
ambiguous, unlinked, split or cut-off exchange and per allocated product (:func:`entry`), into
``system.metadata["link_report"]`` as a :class:`LinkReport` (a list that prints as its counts).
:class:`ImportReport` reads it back from any system, also
after a round trip through the HDF5 store, and :meth:`ImportReport.summary` condenses it into an
:class:`ImportSummary` (counts per issue and action) instead of thousands of entries.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lcasolve.errors import InputError, InvalidUncertaintyError

if TYPE_CHECKING:
    import pandas as pd

    from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
    from lcasolve.model import System

__all__ = [
    "ENTRY_COLUMNS",
    "ImportReport",
    "ImportSummary",
    "LinkReport",
    "Problems",
    "entry",
    "strict_hint",
]

#: appended to an invalid distribution that stops a strict read
_STRICT_HINT = " (read with strict=False, or --lenient, to list and drop invalid distributions)"


def strict_hint(exc: InvalidUncertaintyError) -> InvalidUncertaintyError:
    """``exc`` with the hint that ``strict=False`` (``--lenient``) lists and drops it."""
    return InvalidUncertaintyError(f"{exc}{_STRICT_HINT}")


#: the keys of every link-report entry
ENTRY_COLUMNS = (
    "issue",
    "action",
    "process",
    "process_name",
    "exchange",
    "flow",
    "flow_name",
    "amount",
    "detail",
)


class Problems:
    """Collects problems when ``strict=False``; raises the first one when ``strict=True``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.items: list[str] = []
        #: the invalid distributions among ``items`` (the amounts were kept, without them)
        self.distributions: list[str] = []

    def add(self, exc: Exception) -> None:
        """Record ``exc`` (or raise it in strict mode)."""
        if self.strict:
            raise exc
        self.items.append(str(exc))
        if isinstance(exc, InvalidUncertaintyError):
            self.distributions.append(str(exc))

    def guard(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; on an :class:`~lcasolve.errors.InputError` record it and return None."""
        try:
            return fn()
        except InputError as exc:
            self.add(exc)
            return None


def entry(
    issue: str,
    action: str,
    process: ProcessRecord,
    exchange: ExchangeRecord | None,
    flows: Mapping[str, FlowRecord],
    detail: str = "",
) -> dict[str, Any]:
    """One link-report entry (keys :data:`ENTRY_COLUMNS`) for an exchange of a process."""
    fl = flows.get(exchange.flow) if exchange is not None else None
    return {
        "issue": issue,
        "action": action,
        "process": process.id,
        "process_name": process.name,
        "exchange": exchange.id if exchange is not None else "",
        "flow": exchange.flow if exchange is not None else "",
        "flow_name": fl.name if fl else "",
        "amount": exchange.amount if exchange is not None else float("nan"),
        "detail": detail,
    }


def _action_counts(entries: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """Entries per ``(issue, action)``, actions naming a provider folded into ``linked``."""
    actions: Counter[tuple[str, str]] = Counter()
    for e in entries:
        action = str(e.get("action", ""))
        folded = "linked" if action.startswith("linked to") else action
        actions[(str(e.get("issue", "")), folded)] += 1
    return dict(actions)


class LinkReport(list[Mapping[str, Any]]):
    """The link report of an import: a list of entries that prints as its counts.

    ``system.metadata["link_report"]`` holds one entry (a dict with the keys
    :data:`ENTRY_COLUMNS`) per ambiguous, unlinked, split or cut-off exchange and per allocated
    product, thousands for a real database. It is a plain list of them for code (iterate, index,
    ``len``, JSON); its ``repr``, and its display in Jupyter, give the number of entries per issue
    and action instead of the entries. :meth:`to_frame` gives the table, and
    :meth:`ImportReport.from_system` the whole import with the reader's counts and problems.
    """

    @property
    def issues(self) -> dict[str, int]:
        """Number of entries per issue."""
        return dict(Counter(str(e.get("issue", "")) for e in self))

    @property
    def actions(self) -> dict[tuple[str, str], int]:
        """Number of entries per ``(issue, action)`` (actions naming a provider: ``linked``)."""
        return _action_counts(self)

    def to_frame(self) -> pd.DataFrame:
        """The entries as a table, one row per entry (columns :data:`ENTRY_COLUMNS`)."""
        import pandas as pd

        rows = [{k: e.get(k, "") for k in ENTRY_COLUMNS} for e in self]
        return pd.DataFrame(rows, columns=list(ENTRY_COLUMNS))

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {issue}" for issue, n in sorted(self.issues.items()))
        return (
            f"LinkReport({len(self)} entries{': ' + counts if counts else ''}; "
            "to_frame() for the table)"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(issue)}</td><td>{html.escape(action)}</td>"
            f"<td style='text-align:right'>{n}</td></tr>"
            for (issue, action), n in sorted(self.actions.items())
        )
        return (
            f"<p>LinkReport: {len(self)} entries (<code>to_frame()</code> for the table)</p>"
            f"<table><tr><th>issue</th><th>action</th><th>entries</th></tr>{rows}</table>"
        )


@dataclass(frozen=True)
class ImportSummary:
    """The condensed report: counts instead of entries.

    Attributes
    ----------
    format : str
    policies : dict
    counts : dict
        The reader's counts (processes, flows, exchanges, ...).
    links : dict
        Exchanges by how they entered the matrices (``reference``, ``default provider``,
        ``unique provider``, ``ambiguous``, ``split``, ``unlinked``, ``elementary``).
    issues : dict
        Link-report entries per issue.
    actions : dict
        Link-report entries per ``(issue, action)``, actions naming a provider folded into
        ``linked``.
    problems : int
        Problems skipped with ``strict=False``.
    first_problem : str
        The first of them ("" when none).
    """

    format: str
    policies: Mapping[str, Any]
    counts: Mapping[str, int]
    links: Mapping[str, int]
    issues: Mapping[str, int]
    actions: Mapping[tuple[str, str], int]
    problems: int
    first_problem: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable plain data (actions as ``"issue: action"`` keys)."""
        return {
            "format": self.format,
            "policies": dict(self.policies),
            "counts": dict(self.counts),
            "links": dict(self.links),
            "issues": dict(self.issues),
            "actions": {f"{i}: {a}": n for (i, a), n in self.actions.items()},
            "problems": self.problems,
            "first_problem": self.first_problem,
        }

    def __str__(self) -> str:
        lines = [
            f"{self.format or 'import'}: "
            + ", ".join(f"{v} {n.replace('_', ' ')}" for n, v in self.counts.items())
        ]
        if self.policies:
            lines.append("policies: " + ", ".join(f"{n}={v}" for n, v in self.policies.items()))
        lines.append("links: " + ", ".join(f"{v} {n}" for n, v in self.links.items()))
        if self.issues:
            lines.append("report: " + ", ".join(f"{v} {n}" for n, v in sorted(self.issues.items())))
        if self.problems:
            lines.append(f"problems skipped: {self.problems} (first: {self.first_problem})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


@dataclass(frozen=True)
class ImportReport:
    """What an import did: counts, every linking and allocation choice, the problems skipped.

    Built from a system's metadata (:meth:`from_system`), so it is available after a round trip
    through the HDF5 store as well.

    Attributes
    ----------
    format : str
        The reader (``jsonld``, ``ecospold2``, ``ilcd``, ...).
    policies : dict
        ``ambiguous``, ``unlinked``, ``allocation`` and ``strict`` as used.
    counts : dict
        The reader's counts (processes, flows, exchanges, elementary exchanges, unit conversions).
    links : dict
        Exchanges by how they entered the matrices.
    entries : tuple of dict
        The link report (keys :data:`ENTRY_COLUMNS`).
    problems : tuple of str
        Problems skipped with ``strict=False``, each naming the file, process and exchange.
    inputs : tuple of dict
        For each folder given as input, what was read (:func:`lcasolve.io._files.folder_summary`:
        ``path``, ``format``, ``files``, ``folders``, ``left_out``).
    """

    format: str = ""
    policies: Mapping[str, Any] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    links: Mapping[str, int] = field(default_factory=dict)
    entries: tuple[Mapping[str, Any], ...] = ()
    problems: tuple[str, ...] = ()
    inputs: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ImportReport:
        """The report of a system's ``metadata`` (``import_report``, ``link_report``, ...)."""
        head = dict(metadata.get("import_report") or {})
        return cls(
            format=str(head.get("format", metadata.get("format", ""))),
            policies=dict(head.get("policies", {})),
            counts=dict(metadata.get("counts") or head.get("counts") or {}),
            links=dict(metadata.get("link_counts") or head.get("links") or {}),
            entries=tuple(dict(e) for e in metadata.get("link_report") or ()),
            problems=tuple(str(x) for x in metadata.get("problems") or ()),
            inputs=tuple(dict(x) for x in metadata.get("input_files") or ()),
        )

    @classmethod
    def from_system(cls, system: System) -> ImportReport:
        """The report of an imported system."""
        return cls.from_metadata(system.metadata)

    @property
    def issues(self) -> dict[str, int]:
        """Number of link-report entries per issue."""
        return LinkReport(self.entries).issues

    def select(self, issue: str) -> list[Mapping[str, Any]]:
        """The link-report entries of one issue (e.g. ``"ambiguous"``, ``"unlinked"``)."""
        return [e for e in self.entries if e.get("issue") == issue]

    @property
    def allocation(self) -> dict[str, str]:
        """Process id -> allocation applied (``physical allocation``, ...) for split processes."""
        return {str(e["process"]): str(e["action"]) for e in self.select("allocated")}

    def summary(self) -> ImportSummary:
        """Counts per issue and action instead of the entries (``str()`` gives readable lines)."""
        return ImportSummary(
            format=self.format,
            policies=dict(self.policies),
            counts=dict(self.counts),
            links=dict(self.links),
            issues=self.issues,
            actions=_action_counts(self.entries),
            problems=len(self.problems),
            first_problem=self.problems[0] if self.problems else "",
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-serializable plain data."""
        return {
            "format": self.format,
            "policies": dict(self.policies),
            "counts": dict(self.counts),
            "links": dict(self.links),
            "issues": self.issues,
            "entries": [dict(e) for e in self.entries],
            "problems": list(self.problems),
            "inputs": [dict(x) for x in self.inputs],
        }

    def to_frame(self) -> pd.DataFrame:
        """The link report as a table, one row per entry."""
        return LinkReport(self.entries).to_frame()

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __str__(self) -> str:
        return str(self.summary())

"""The typed report: a footprint and an ordered tuple of sections, each rendering itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from lcasolve._json import json_text
from lcasolve.pcf.footprint import Footprint, write_text_atomic

__all__ = ["PCFReport", "Section"]

S = TypeVar("S")


@runtime_checkable
class Section(Protocol):
    """One part of a :class:`PCFReport`.

    A section is a frozen dataclass with a class attribute ``key`` (its name in
    :meth:`PCFReport.to_dict`), a ``title`` (its HTML heading) and three renderings. To add a
    section, write such a class and pass an instance in ``build_report(..., sections=...)`` or
    ``dataclasses.replace(report, sections=report.sections + (section,))``. A section may also
    define ``to_frames() -> {sheet name: DataFrame}`` for :func:`lcasolve.pcf.excel.write_xlsx`
    (otherwise its :meth:`to_dict` is laid out as tables).
    """

    key: ClassVar[str]

    @property
    def title(self) -> str:
        """Heading of the section in the HTML page."""
        ...

    def to_dict(self) -> Any:
        """JSON-ready content (a dict, or a list of records)."""
        ...

    def to_html(self, report: PCFReport) -> str:
        """HTML body of the section (without its heading)."""
        ...

    def to_text(self, report: PCFReport) -> list[str]:
        """Lines of the plain-text summary."""
        ...


@dataclass(frozen=True, eq=False)
class PCFReport:
    """A product carbon footprint report: the footprint and its typed sections.

    Attributes
    ----------
    footprint : Footprint
        The deterministic footprint with its breakdowns.
    sections : tuple of Section
        In page order (e.g. metadata, GHG split, Monte Carlo, limits, rating, cost, cut-off).
    top : int
        Activities and flows listed one by one in the contribution tables.
    title : str
        Page title.
    """

    footprint: Footprint
    sections: tuple[Section, ...] = ()
    top: int = 10
    title: str = "Product carbon footprint"

    def __post_init__(self) -> None:
        keys = [s.key for s in self.sections]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            from lcasolve.errors import InputError

            raise InputError(f"a report holds each section once; repeated: {dup}")

    def section(self, kind: type[S]) -> S | None:
        """The section of a given class, or None when the report has none."""
        for s in self.sections:
            if isinstance(s, kind):
                return s
        return None

    def __getitem__(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; sections: {[s.key for s in self.sections]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: the footprint's summary with one key per section."""
        out = self.footprint.to_dict(top=self.top)
        for s in self.sections:
            out[s.key] = s.to_dict()
        return out

    def to_json(self, path: str | Path | None = None) -> str:
        """:meth:`to_dict` as JSON text; also written (atomically) to ``path`` if given."""
        text = json_text(self.to_dict())
        if path is not None:
            write_text_atomic(Path(path), text + "\n")
        return text

    def to_html(self) -> str:
        """The report as one self-contained HTML page (figures embedded)."""
        from lcasolve.pcf.report._page import render

        return render(self)

    def write_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path`` atomically; returns the path."""
        path = Path(path)
        write_text_atomic(path, self.to_html())
        return path

    def to_text(self) -> str:
        """Plain-text summary (what ``lcasolve report`` prints)."""
        from lcasolve.pcf.report._page import text

        return text(self)

    def _repr_html_(self) -> str:
        from lcasolve.pcf.report._page import body

        return body(self)

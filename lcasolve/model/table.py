"""Tables of a :class:`~lcasolve.model.System` kept as columns until a DataFrame is needed.

A system's ``activities``, ``flows`` and ``categories`` are pandas DataFrames to its users. A
reader that knows only the ids (a brightway datapackage) gives the system a
:class:`TableSource` instead: the columns as lists and how to build the DataFrame from them.
The system builds the DataFrame on first access of the attribute; what one calculation needs
(ids, names, units, production checks) is read from the columns
(:meth:`lcasolve.model.System.column`), so that ``lcasolve calc`` on a datapackage runs without
importing pandas (a tenth of a whole process).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TableField", "TableSource", "column", "has_column"]


class TableSource:
    """Columns of a table, each a sequence of one value per row, in column order.

    Parameters
    ----------
    columns : mapping
        Column name -> values (lists or arrays of equal length); must hold ``"id"``.
    object_columns : sequence of str
        Columns the DataFrame stores with ``object`` dtype (ids of any type); the others get
        pandas' inferred dtype.
    """

    def __init__(
        self, columns: Mapping[str, Sequence[Any]], object_columns: Sequence[str] = ("id",)
    ) -> None:
        self.columns: dict[str, Sequence[Any]] = dict(columns)
        self.object_columns = tuple(object_columns)
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) > 1:
            sizes = {k: len(v) for k, v in self.columns.items()}
            raise ValueError(f"table columns differ in length: {sizes}")

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, name: str) -> list[Any]:
        """The values of one column as a list."""
        values = self.columns[name]
        return values.tolist() if hasattr(values, "tolist") else list(values)

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (``object`` dtype for :attr:`object_columns`)."""
        import pandas as pd

        data = {
            name: pd.Series(list(values), dtype=object) if name in self.object_columns else values
            for name, values in self.columns.items()
        }
        return pd.DataFrame(data)


class TableField:
    """A dataclass field holding a DataFrame, or a :class:`TableSource` built on first access.

    Used as the default of a frozen dataclass's field (a descriptor-typed field): the value
    given to ``__init__`` goes through :meth:`__set__`, reading the attribute returns a
    DataFrame. :meth:`raw` gives what is stored without building anything.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = f"_{name}_table"  # (see raw)

    def __get__(self, obj: Any, objtype: type | None = None) -> pd.DataFrame:
        if obj is None:
            # no class-level default: the field is required
            raise AttributeError(self.name)
        value = obj.__dict__[self.slot]
        if isinstance(value, TableSource):
            value = value.frame()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = value

    @staticmethod
    def raw(obj: Any, name: str) -> Any:
        """What the field ``name`` of ``obj`` stores: a DataFrame or a :class:`TableSource`."""
        return obj.__dict__[f"_{name}_table"]


def column(table: Any, name: str) -> list[Any]:
    """One column of a DataFrame, a :class:`TableSource` or a mapping of columns, as a list."""
    if isinstance(table, TableSource):
        return table.column(name)
    values = table[name]
    return values.tolist() if hasattr(values, "tolist") else list(values)


def has_column(table: Any, name: str) -> bool:
    """Whether a DataFrame, a :class:`TableSource` or a mapping of columns has a column."""
    return name in (table.columns if hasattr(table, "columns") else table)

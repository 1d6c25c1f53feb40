"""Typed fields of parsed JSON documents: a wrong type is an error naming the file and field.

``bool("false")`` is True and ``float(True)`` is 1.0, so reading JSON-LD fields with plain
``bool()``/``float()`` silently changes results when a file holds a string or a boolean where
the schema has another type. These helpers accept exactly the JSON types of the schema.
"""

from __future__ import annotations

import math
from typing import Any

from lcasolve.errors import DataFileError

__all__ = [
    "field_flag",
    "field_list",
    "field_number",
    "field_object",
    "field_ref_id",
    "field_text",
]


def field_number(obj: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    """A finite JSON number (not a boolean, not a string); ``default`` when absent or null.

    Raises
    ------
    DataFileError
        The field is missing without a default, has another type, or is not finite.
    """
    value = obj.get(key)
    if value is None:
        if default is None:
            raise DataFileError(f"{where}: the field {key!r} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataFileError(f"{where}: the field {key!r} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise DataFileError(f"{where}: the field {key!r} is {value!r}, not a finite number")
    return number


def field_flag(obj: dict[str, Any], keys: tuple[str, ...], where: str) -> bool:
    """A JSON boolean under the first of ``keys`` present (schema v2 name, then v1); else False.

    Raises
    ------
    DataFileError
        The value is not ``true``/``false`` (e.g. the string ``"false"``, which ``bool()``
        would read as True).
    """
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise DataFileError(f"{where}: the field {key!r} must be true or false, not {value!r}")
        return value
    return False


def field_text(obj: dict[str, Any], key: str, where: str) -> str:
    """A JSON string, or ``""`` when absent or null.

    Raises
    ------
    DataFileError
        The value is another JSON type (a number, a boolean, an object).
    """
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataFileError(f"{where}: the field {key!r} must be a string, not {value!r:.60}")
    return value


def field_object(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """A JSON object, or ``{}`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataFileError(f"{where}: the field {key!r} must be an object, not {value!r:.60}")
    return value


def field_list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    """A JSON array of objects, or ``[]`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataFileError(f"{where}: the field {key!r} must be a list, not {value!r:.60}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise DataFileError(f"{where}: item {i} of {key!r} must be an object, not {item!r:.60}")
    return value


def field_ref_id(obj: dict[str, Any], key: str, where: str) -> str | None:
    """The ``@id`` of a reference object (``{"@id": ...}``), or None when absent."""
    ref = field_object(obj, key, where)
    rid = ref.get("@id")
    if rid is not None and not isinstance(rid, str):
        raise DataFileError(f"{where}: the @id of {key!r} must be a string, not {rid!r:.60}")
    return rid

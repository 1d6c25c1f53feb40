"""Strict JSON for everything lcasolve writes: NaN and infinities become ``null``.

``json.dumps`` writes bare ``NaN`` by default, which no strict JSON parser accepts. The CLI's
``--json`` output and the library's ``to_json`` methods all go through :func:`json_text`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["json_text"]


def json_text(payload: Any) -> str:
    """``payload`` as strict JSON: NaN and infinities become ``null``, never bare ``NaN``.

    Numpy scalars and arrays are converted; anything else unknown is written as its string.
    Every command's JSON and every ``to_json`` goes through here
    (``json.dumps(allow_nan=False)`` guards it).
    """
    return json.dumps(_finite(payload), indent=2, default=_json_default, allow_nan=False)


def _finite(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _finite(obj.tolist())
    return obj


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)

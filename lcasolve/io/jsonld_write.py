"""Write a :class:`~lcasolve.model.System` as an openLCA JSON-LD zip (olca-schema v2).

Every activity becomes a process whose quantitative reference is its product (one product flow
per activity); technosphere inputs carry their provider as ``defaultProvider``; biosphere entries
become elementary exchanges. Each unit in the activity and flow tables gets a unit group and a
flow property of its own. Uncertainty is written where openLCA has the distribution (lognormal,
normal, uniform, triangular); other stats_arrays types (gamma, Weibull, Student t, beta-PERT,
...) have no openLCA equivalent and are written without uncertainty, counted in the return value.
The zip is written to a temporary file and renamed, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import json
import math
import os
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve.io._atomic import atomic_path
from lcasolve.io.assembly import compartment_direction
from lcasolve.model import System

__all__ = ["write_jsonld"]

_NS = uuid.UUID("6f1c2a52-6c2e-4a43-9a57-3c0f3e3f5a10")


def _uid(kind: str, key: object) -> str:
    """A stable UUID for an object of the system (same system, same ids)."""
    return str(uuid.uuid5(_NS, f"{kind}:{key}"))


def _text(value: object, fallback: str = "") -> str:
    """A table cell as text; ``fallback`` for an empty, NaN or None cell.

    pandas 3 keeps NaN and None as they are through ``astype(str)``: test the cell, not the column.
    """
    text = str(value)
    return fallback if text in ("", "nan", "None") else text


def _uncertainty(rec: np.void) -> dict[str, Any] | None:
    kind = int(rec["uncertainty_type"])
    if kind == 2:
        return {
            "@type": "Uncertainty",
            "distributionType": "LOG_NORMAL_DISTRIBUTION",
            "geomMean": math.exp(float(rec["loc"])) * (-1 if rec["negative"] else 1),
            "geomSd": math.exp(float(rec["scale"])),
        }
    if kind == 3:
        return {
            "@type": "Uncertainty",
            "distributionType": "NORMAL_DISTRIBUTION",
            "mean": float(rec["loc"]),
            "sd": float(rec["scale"]),
        }
    if kind == 4:
        return {
            "@type": "Uncertainty",
            "distributionType": "UNIFORM_DISTRIBUTION",
            "minimum": float(rec["minimum"]),
            "maximum": float(rec["maximum"]),
        }
    if kind == 5:
        return {
            "@type": "Uncertainty",
            "distributionType": "TRIANGLE_DISTRIBUTION",
            "minimum": float(rec["minimum"]),
            "mode": float(rec["loc"]),
            "maximum": float(rec["maximum"]),
        }
    return None


def write_jsonld(system: System, path: str | os.PathLike[str]) -> Path:
    """Write ``system`` as an openLCA JSON-LD (v2) zip.

    Parameters
    ----------
    system : System
    path : path-like
        Target ``.zip``.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    target = Path(path)
    acts = system.activities
    ids = acts["id"].tolist()
    pid = [_uid("process", a) for a in ids]
    prod_flow = [_uid("product", p) for p in acts["product_id"].tolist()]
    act_units = [_text(u, "unit") for u in acts["unit"].tolist()]
    flow_units = [_text(u, "kg") for u in system.flows["unit"].tolist()]
    units = sorted(set(act_units) | set(flow_units))
    unit_id = {u: _uid("unit", u) for u in units}
    prop_id = {u: _uid("property", u) for u in units}
    group_id = {u: _uid("group", u) for u in units}

    def unit_refs(u: str) -> dict[str, Any]:
        return {
            "unit": {"@type": "Unit", "@id": unit_id[u], "name": u},
            "flowProperty": {"@type": "FlowProperty", "@id": prop_id[u]},
        }

    def flow_doc(
        fid: str, name: str, ftype: str, u: str, category: str = "", cas: str = ""
    ) -> dict:
        doc = {
            "@type": "Flow",
            "@id": fid,
            "name": name,
            "flowType": ftype,
            "flowProperties": [
                {
                    "@type": "FlowPropertyFactor",
                    "conversionFactor": 1.0,
                    "referenceFlowProperty": True,
                    "flowProperty": {"@type": "FlowProperty", "@id": prop_id[u]},
                }
            ],
        }
        if category:
            doc["category"] = category
        if cas:
            doc["cas"] = cas
        return doc

    A = system.technosphere  # noqa: N806
    B = system.biosphere  # noqa: N806
    a_by_col = np.argsort(A.col, kind="stable")
    a_ptr = np.searchsorted(A.col[a_by_col], np.arange(system.n_activities + 1))
    b_by_col = np.argsort(B.col, kind="stable")
    b_ptr = np.searchsorted(B.col[b_by_col], np.arange(system.n_activities + 1))
    flow_ids = [_uid("flow", f) for f in system.flows["id"].tolist()]
    flows_df = system.flows
    comp = [_text(c) for c in flows_df["compartment"].tolist()]
    # resources (by compartment) are inputs from nature, everything else an emission
    resource = [compartment_direction(c) == "input" for c in comp]
    cas = [_text(c) for c in flows_df["cas"]] if "cas" in flows_df else [""] * len(flows_df)

    with (
        atomic_path(target, suffix=".zip") as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z,
    ):
        put = lambda name, doc: z.writestr(name, json.dumps(doc, separators=(",", ":")))  # noqa: E731
        put("olca-schema.json", {"version": 2})
        for u in units:
            put(
                f"unit_groups/{group_id[u]}.json",
                {
                    "@type": "UnitGroup",
                    "@id": group_id[u],
                    "name": f"Units of {u}",
                    "defaultFlowProperty": {"@type": "FlowProperty", "@id": prop_id[u]},
                    "units": [
                        {
                            "@type": "Unit",
                            "@id": unit_id[u],
                            "name": u,
                            "conversionFactor": 1.0,
                            "isRefUnit": True,
                        }
                    ],
                },
            )
            put(
                f"flow_properties/{prop_id[u]}.json",
                {
                    "@type": "FlowProperty",
                    "@id": prop_id[u],
                    "name": f"Quantity in {u}",
                    "flowPropertyType": "PHYSICAL_QUANTITY",
                    "unitGroup": {"@type": "UnitGroup", "@id": group_id[u]},
                },
            )
        for j, fid in enumerate(prod_flow):
            put(
                f"flows/{fid}.json",
                flow_doc(fid, str(acts["product"].iloc[j]), "PRODUCT_FLOW", act_units[j]),
            )
        for i, fid in enumerate(flow_ids):
            category = "Elementary flows/" + comp[i] if comp[i] else ""
            put(
                f"flows/{fid}.json",
                flow_doc(
                    fid,
                    str(flows_df["name"].iloc[i]),
                    "ELEMENTARY_FLOW",
                    flow_units[i],
                    category,
                    cas[i],
                ),
            )
        names = acts["name"].astype(str).tolist()
        locs = acts["location"].astype(str).tolist()
        for j in range(system.n_activities):
            exchanges: list[dict[str, Any]] = []
            for k in a_by_col[a_ptr[j] : a_ptr[j + 1]]:
                i = int(A.row[k])
                value = float(A.value[k])
                ex: dict[str, Any] = {
                    "@type": "Exchange",
                    "internalId": len(exchanges) + 1,
                    "flow": {"@type": "Flow", "@id": prod_flow[i]},
                    **unit_refs(act_units[i]),
                }
                if i == j:
                    ex.update(amount=value, isInput=False, isQuantitativeReference=True)
                else:
                    ex.update(
                        amount=-value,
                        isInput=True,
                        defaultProvider={"@type": "Process", "@id": pid[i]},
                    )
                unc = _uncertainty(A.uncertainty[k])
                if unc is not None and i != j:
                    ex["uncertainty"] = unc
                exchanges.append(ex)
            for k in b_by_col[b_ptr[j] : b_ptr[j + 1]]:
                i = int(B.row[k])
                ex = {
                    "@type": "Exchange",
                    "internalId": len(exchanges) + 1,
                    "flow": {"@type": "Flow", "@id": flow_ids[i]},
                    "amount": float(B.value[k]),
                    "isInput": resource[i],
                    **unit_refs(flow_units[i]),
                }
                unc = _uncertainty(B.uncertainty[k])
                if unc is not None:
                    ex["uncertainty"] = unc
                exchanges.append(ex)
            put(
                f"processes/{pid[j]}.json",
                {
                    "@type": "Process",
                    "@id": pid[j],
                    "name": names[j],
                    "processType": "UNIT_PROCESS",
                    "location": {"@type": "Location", "name": locs[j]},
                    "description": f"lcasolve activity id {ids[j]}",
                    "exchanges": exchanges,
                },
            )
    return target

"""Write a :class:`~lcasolve.model.System` as a zip of EcoSpold2 ``.spold`` files.

One activity dataset per activity, named ``ACTIVITY_PRODUCT.spold`` as ecoinvent names its
files, in the layout :mod:`lcasolve.io.ecospold2` reads:

- the activity's product is its reference product (``intermediateExchange`` with
  ``outputGroup`` 0, the diagonal of ``A``);
- every other technosphere entry is a product input (``inputGroup`` 5) whose
  ``activityLinkId`` names the providing activity (a positive off-diagonal entry is an input
  with a negative amount);
- biosphere entries are ``elementaryExchange`` with ``inputGroup`` 4 for resource compartments
  (:func:`lcasolve.io.assembly.compartment_direction`) and ``outputGroup`` 4 otherwise, the
  compartment split into ``compartment/subcompartment`` at its first ``/``.

Activity, product and elementary flow ids are the UUIDs :mod:`lcasolve.io.jsonld_write` gives
them (the same system gets the same ids in both formats); each dataset's general comment names
the lcasolve activity id. Units are written by name; the reader converts them to the reference
unit of their dimension (:mod:`lcasolve.io.units`: a product in kWh reads back in MJ, its row of
``A`` times 3.6). Uncertainty is written where EcoSpold2 and the reader share the distribution
(lognormal, normal, uniform, triangular); other stats_arrays types are written without it.
Characterization factors are not part of EcoSpold2 activity datasets and are not written. The
zip is written to a temporary file and renamed (:func:`lcasolve.io._atomic.atomic_path`).
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from lcasolve.io._atomic import atomic_path
from lcasolve.io.assembly import compartment_direction
from lcasolve.io.distributions import scaled
from lcasolve.io.jsonld_write import _text, _uid
from lcasolve.model import Entries, System

__all__ = ["write_ecospold2"]

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<ecoSpold xmlns="http://www.EcoInvent.org/EcoSpold02">\n'


def _uncertainties(entries: Entries, mirror: np.ndarray) -> list[str]:
    """The ``<uncertainty>`` element of each entry, ``""`` where none is written.

    Records are in their entry's source sign; ``mirror`` marks the entries whose written amount
    has the other sign, whose distributions are mirrored first.
    """
    recs = entries.uncertainty.copy()
    for m in np.flatnonzero(mirror & (recs["uncertainty_type"] > 1)).tolist():
        recs[m] = scaled(recs[m], -1.0)
    out = [""] * len(recs)
    r = repr
    columns = (recs[n].tolist() for n in ("uncertainty_type", "loc", "scale", "minimum", "maximum"))
    negative = recs["negative"].tolist()
    for k, (kind, loc, scale, lo, hi) in enumerate(zip(*columns, strict=True)):
        if kind == 2:
            var = r(scale * scale)
            mean = r(-math.exp(loc) if negative[k] else math.exp(loc))
            body = (
                f'<lognormal meanValue="{mean}" mu="{r(loc)}" variance="{var}" '
                f'varianceWithPedigreeUncertainty="{var}"/>'
            )
        elif kind == 3:
            var = r(scale * scale)
            body = (
                f'<normal meanValue="{r(loc)}" variance="{var}" '
                f'varianceWithPedigreeUncertainty="{var}"/>'
            )
        elif kind == 4:
            body = f'<uniform minValue="{r(lo)}" maxValue="{r(hi)}"/>'
        elif kind == 5:
            body = f'<triangular minValue="{r(lo)}" mostLikelyValue="{r(loc)}" maxValue="{r(hi)}"/>'
        else:
            continue
        out[k] = f"<uncertainty>{body}</uncertainty>"
    return out


#: the classification of a waste treatment's reference product (negative), as ecoinvent writes it
_WASTE = (
    '<classification classificationId="39b0f0ab-1a2f-401b-9f4d-6e39400760a4">'
    '<classificationSystem xml:lang="en">By-product classification</classificationSystem>'
    '<classificationValue xml:lang="en">Waste</classificationValue></classification>'
)


def write_ecospold2(system: System, path: str | os.PathLike[str]) -> Path:
    """Write ``system`` as a zip of EcoSpold2 activity datasets.

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
    act_uid = [_uid("process", a) for a in ids]
    prod_uid = [_uid("product", p) for p in acts["product_id"].tolist()]
    prod_name = [escape(str(n)) for n in acts["product"].tolist()]
    act_unit = [escape(_text(u, "unit")) for u in acts["unit"].tolist()]
    flows = system.flows
    flow_uid = [_uid("flow", f) for f in flows["id"].tolist()]
    flow_name = [escape(str(n)) for n in flows["name"].tolist()]
    flow_unit = [escape(_text(u, "kg")) for u in flows["unit"].tolist()]
    comp = [_text(c) for c in flows["compartment"].tolist()]
    resource = [compartment_direction(c) == "input" for c in comp]
    # missing CAS numbers are NaN or None (a pandas column, tables joined to a background)
    cas = [_text(c) for c in flows["cas"].tolist()] if "cas" in flows else [""] * len(flows)
    flow_extra = [f" casNumber={quoteattr(c)}" if c else "" for c in cas]
    comp_xml = []
    for c in comp:
        top, _, sub = c.partition("/")
        comp_xml.append(
            f'<compartment subcompartmentId="{_uid("compartment", c)}">'
            f'<compartment xml:lang="en">{escape(top)}</compartment>'
            f'<subcompartment xml:lang="en">{escape(sub or "unspecified")}</subcompartment>'
            "</compartment>"
            if c
            else ""
        )

    A = system.technosphere  # noqa: N806
    B = system.biosphere  # noqa: N806
    a_rows, a_cols = A.row.tolist(), A.col.tolist()
    reference = A.row == A.col
    # written amounts: the production, and every other entry as an input (its negative)
    a_amount = list(map(repr, np.where(reference, A.value, -A.value).tolist()))
    # source sign (flip) differs from the written sign: inputs not flipped, references flipped
    a_unc = _uncertainties(A, A.flip == reference)
    b_amount = list(map(repr, B.value.tolist()))
    b_rows = B.row.tolist()
    b_unc = _uncertainties(B, B.flip)
    a_by_col = np.argsort(A.col, kind="stable").tolist()
    a_ptr = np.searchsorted(A.col[a_by_col], np.arange(system.n_activities + 1)).tolist()
    b_by_col = np.argsort(B.col, kind="stable").tolist()
    b_ptr = np.searchsorted(B.col[b_by_col], np.arange(system.n_activities + 1)).tolist()
    names = [escape(str(n)) for n in acts["name"].tolist()]
    locs = [_text(loc, "GLO") for loc in acts["location"].astype(str).tolist()]
    geo = {loc: _uid("geography", loc) for loc in set(locs)}
    groups = ("<inputGroup>5</inputGroup>", "<outputGroup>0</outputGroup>")
    b_groups = ("<outputGroup>4</outputGroup>", "<inputGroup>4</inputGroup>")

    with (
        atomic_path(target, suffix=".zip") as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z,
    ):
        for j in range(system.n_activities):
            # exchange ids: the activity's UUID with the exchange's number as its last group
            stem = act_uid[j][:24]
            parts = [
                _HEAD,
                "<activityDataset><activityDescription>",
                f'<activity id="{act_uid[j]}" activityNameId="{_uid("name", ids[j])}" '
                'type="1" specialActivityType="0">',
                f'<activityName xml:lang="en">{names[j]}</activityName>',
                f'<generalComment><text xml:lang="en" index="1">lcasolve activity id '
                f"{escape(str(ids[j]))}</text></generalComment></activity>",
                f'<geography geographyId="{geo[locs[j]]}">'
                f'<shortname xml:lang="en">{escape(locs[j])}</shortname></geography>',
                "</activityDescription><flowData>",
            ]
            n = 0
            for k in a_by_col[a_ptr[j] : a_ptr[j + 1]]:
                i = a_rows[k]
                ref = i == a_cols[k]
                link = "" if ref else f' activityLinkId="{act_uid[i]}"'
                parts.append(
                    f'<intermediateExchange id="{stem}{n:012x}" '
                    f'intermediateExchangeId="{prod_uid[i]}"{link} amount="{a_amount[k]}">'
                    f'<name xml:lang="en">{prod_name[i]}</name>'
                    f'<unitName xml:lang="en">{act_unit[i]}</unitName>'
                    f"{a_unc[k]}{_WASTE if ref and A.value[k] < 0 else ''}{groups[ref]}"
                    "</intermediateExchange>"
                )
                n += 1
            for k in b_by_col[b_ptr[j] : b_ptr[j + 1]]:
                i = b_rows[k]
                parts.append(
                    f'<elementaryExchange id="{stem}{n:012x}" '
                    f'elementaryExchangeId="{flow_uid[i]}"{flow_extra[i]} amount="{b_amount[k]}">'
                    f'<name xml:lang="en">{flow_name[i]}</name>'
                    f'<unitName xml:lang="en">{flow_unit[i]}</unitName>'
                    f"{b_unc[k]}{comp_xml[i]}{b_groups[resource[i]]}</elementaryExchange>"
                )
                n += 1
            parts.append("</flowData></activityDataset>\n</ecoSpold>\n")
            z.writestr(f"{act_uid[j]}_{prod_uid[j]}.spold", "".join(parts).encode("utf-8"))
    return target

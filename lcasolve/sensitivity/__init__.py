"""Sensitivity analysis: local (adjoint) sensitivities, screening and global indices.

- :func:`local_sensitivities`: ``∂h/∂x`` and elasticities of every score to every A, B and C
  entry from one adjoint solve, as a ranked table.
- :func:`screen`: keep the entries whose first-order variance share can matter, for Monte Carlo
  ``record=``.
- :func:`spearman`, :func:`src`, :func:`delta`, :func:`sobol`: global indices on sampled inputs
  ``X`` and outputs ``y`` (SALib for delta and Sobol); :func:`global_sensitivities` ties them to a
  Monte Carlo result.
- :mod:`lcasolve.sensitivity.plots`: tornado and ranked-bar charts.
"""

from lcasolve.sensitivity.gsa import (
    GlobalSensitivity,
    delta,
    global_sensitivities,
    sobol,
    sobol_design,
    spearman,
    src,
)
from lcasolve.sensitivity.local import LocalSensitivity, local_sensitivities
from lcasolve.sensitivity.screening import Screening, screen

__all__ = [
    "GlobalSensitivity",
    "LocalSensitivity",
    "Screening",
    "delta",
    "global_sensitivities",
    "local_sensitivities",
    "screen",
    "sobol",
    "sobol_design",
    "spearman",
    "src",
]

"""The numeric room: symbolic equations turned into fast code, and running it.

``codegen`` (NumPy/numba right-hand-side modules, written into ``generated/``),
``integrators`` (per-system ensemble integrators), ``thermal`` (the stochastic LLG),
``simulate`` (loading generated modules and integrating them) and ``sweep`` (parameter sweeps
on Dask).

May import: the algebra room (codegen) and the shared modules; the generated modules themselves
import NumPy, and the numba ones numba and :mod:`symmag.numeric.thermal` (their NumPy fallback).
"""

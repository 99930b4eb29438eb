"""The statuses of a step, the check methods and the gate: plain data, standard library only.

Kept apart from :mod:`symmag.checking.derivation` (which imports SymPy) so that the CLI can print a
table and decide its exit status from cached records without importing SymPy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

STATUSES = ("verified", "erratum", "mismatch", "failed", "definition", "unchecked")
#: statuses that make ``symmag check`` exit 1 (``unchecked`` too under ``--strict``)
GATE_FAILURES = ("failed", "mismatch")

METHODS: dict[str, str] = {
    "operator-algebra": "canonical operator form: the difference has no monomial left "
    "(c-number coefficients cancelled exactly by sympy.cancel)",
    "sympy": "exact SymPy simplification of the difference to zero",
    "numeric-points": "numeric evaluation at random points with a stated tolerance "
    "(only where SymPy cannot decide)",
    "numeric-matrices": "numeric evaluation on explicit spin matrices with a stated tolerance",
    "definition": "introduces a symbol; nothing to check",
    "none": "not checked; the reason is in detail",
}


def gate(records: Sequence[Mapping], strict: bool = False) -> int:
    """The exit status of a check: 1 when a step failed or is a mismatch (or, ``strict``,
    is unchecked), else 0."""
    bad = GATE_FAILURES + (("unchecked",) if strict else ())
    return 1 if any(r["status"] in bad for r in records) else 0


def summarize_records(records: Sequence[Mapping]) -> dict:
    """Counts per status and the summed step time of records (``StepResult.as_dict``)."""
    counts = {s: 0 for s in STATUSES}
    for r in records:
        counts[r["status"]] += 1
    return {"total": len(records), **counts,
            "seconds": round(sum(r["seconds"] for r in records), 3)}

"""Shared test set-up: the result cache is off unless a test turns it on; one BLAS thread.

Several tests change a derivation in memory (monkeypatch) and call ``symmag.cli.main.main``; the
cache keys on files, so it would serve them stale records -- and the tests must never touch
the user's own cache folder.  ``tests/test_cache.py`` turns it on, in a temporary folder.
"""

from __future__ import annotations

import os
import tempfile

import pytest

# before NumPy is imported: the exact solvers' skinny matrix-vector products run ~12x slower
# with OpenBLAS's second thread on a 2-core machine (speed only; results do not depend on it)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# module- and session-scoped fixtures run before the per-test folder below is set: they too must
# never write into the user's cache (e.g. closures generated on first use by symmag.exact.compare)
os.environ["SYMMAG_CACHE_DIR"] = tempfile.mkdtemp(prefix="symmag-test-cache-")
os.environ["SYMMAG_NO_CACHE"] = "1"


@pytest.fixture(autouse=True)
def _no_result_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("SYMMAG_NO_CACHE", "1")
    monkeypatch.setenv("SYMMAG_CACHE_DIR", str(tmp_path_factory.mktemp("symmag-cache")))

"""Shared test set-up: the result cache is off unless a test turns it on.

Several tests change a derivation in memory (monkeypatch) and call ``symmag.cli.main``; the
cache keys on files, so it would serve them stale records -- and the tests must never touch
the user's own cache folder.  ``tests/test_cache.py`` turns it on, in a temporary folder.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_result_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("SYMMAG_NO_CACHE", "1")
    monkeypatch.setenv("SYMMAG_CACHE_DIR", str(tmp_path_factory.mktemp("symmag-cache")))

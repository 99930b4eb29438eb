"""A progress line on stderr for the commands that run longer than a moment.

Drawn only when stderr is a terminal (never into a pipe, a log file or a test's capture) and
not ``quiet``; one line rewritten in place, cleared when the work is done.  Standard library
only: about forty lines do what the commands need, which did not earn a dependency (tqdm).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``done/total`` steps, or named stages, of one piece of work."""

    def __init__(self, label: str, total: int = 0, quiet: bool = False, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.label, self.total = label, total
        self.enabled = not quiet and _is_terminal(self.stream)
        self.start = time.perf_counter()
        self._width = 0
        self._last = -1.0

    def _draw(self, text: str, throttle: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if throttle and now - self._last < 0.1:  # a callback from an integrator: ten lines a second
            return
        self._last = now
        line = f"{self.label}: {text}  {time.perf_counter() - self.start:.0f} s"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` (default: the total given at construction) finished."""
        total = self.total if total is None else total
        self._draw(f"{done}/{total}" if total else str(done))

    def time(self, t: float, t_end: float) -> None:
        """An integration has reached time ``t`` of ``t_end`` (called often: throttled)."""
        self._draw(f"t = {t:.4g} of {t_end:.4g}", throttle=True)

    def stage(self, name: str) -> None:
        """A named stage begins (e.g. ``pdflatex``)."""
        self._draw(name)

    def close(self) -> None:
        """Clear the line."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

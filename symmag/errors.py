"""Errors a user can cause.  The CLI prints them as one line and exits 2."""


class SymmagInputError(ValueError):
    """Bad input: unknown operator, non-polynomial dependence, malformed file, ..."""

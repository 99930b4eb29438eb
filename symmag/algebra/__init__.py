"""The algebra room: exact SU(2) operator algebras and what is built directly on them.

``su2`` (canonical PBW polynomials, commutators), ``operators`` and ``parsing`` (SymPy-level
symbols and a strict text grammar into canonical form), ``fields`` (the functional derivative
that defines moment operators), ``expectation`` (the map to correlation symbols),
``representation`` (spin-length identities), ``matrices`` and ``numeric`` (explicit matrices for
N sites), ``printing`` and ``display`` (LaTeX and text of what is shown).

May import: SymPy, NumPy, and ``symmag.errors`` / ``symmag.conventions``; nothing from the
other rooms.
"""

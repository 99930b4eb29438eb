"""The exact room: exact quantum dynamics and its comparison with the derived equations.

``dynamics`` (the Liouville-von Neumann equation (1) on matrices), ``collective`` (total-spin
sectors, large N), ``solve`` (one symbolic Hamiltonian into those solvers), ``compare`` and
``accuracy`` (exact dynamics against the derived equations and the closures).

May import: the algebra, theory and numeric rooms, the checking room's cache folder, and the
shared modules.
"""

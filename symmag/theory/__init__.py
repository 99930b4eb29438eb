"""The theory room: the paper's general results as functions of any Hamiltonian.

``dterm`` (the D-term of Sec. II B, eqs. (21)-(30)), ``hierarchy`` (equations of motion of
correlation functions, Sec. IV), ``closures`` (mean field and cumulant truncations of it).

May import: the algebra room, ``symmag.errors`` / ``symmag.conventions``.
"""

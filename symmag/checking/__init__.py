"""The checking room: derivation records and the machinery that decides their statuses.

``derivation`` (steps, claims, printed forms, checks that can fail), ``statuses`` (the
statuses and the gate, standard library only), ``assumptions`` (removable assumptions),
``dimensions`` (an abstract dimension check), ``runner`` (running derivations in watched
worker processes), ``cache`` (results keyed by content hash), ``teeth`` (perturbation of
shown results), ``mutation`` (``symmag mutate``) and ``notebook`` (the records' rich display in
Jupyter, called by their ``_repr_*_`` methods).

May import: the algebra room and the shared modules; never output, numeric, exact or cli.
"""

"""Paper-specific derivations, one module per section, built from symmag.

Each module defines ``DERIVATION`` (a :class:`symmag.derivation.Derivation`)
or ``DERIVATIONS`` (a sequence of them); ``symmag check`` runs them in module
name order.  The paper's printed equations live apart, in :mod:`.printed`.
"""

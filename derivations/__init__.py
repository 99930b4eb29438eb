"""Paper-specific derivations, one module per section, built from symmag.

Each module defines ``DERIVATION`` (a :class:`symmag.checking.derivation.Derivation`)
or ``DERIVATIONS`` (a sequence of them); ``symmag check`` runs them in module
name order.  The paper's printed equations live apart, in :mod:`.printed`.
``DOCUMENT`` is the paper's metadata for ``symmag report`` (title page, opening
paragraph); every module of the package shares it.
"""

from symmag.output.report import Document

DOCUMENT = Document(
    title="Magnetization damping, re-derived by machine",
    authors="Saradzhev, Khanna, Kim, de Montigny",
    source="Phys. Rev. B $\\mathbf{75}$, 024406 (2007)",
    abstract="Every numbered equation of the paper, and the claims of its prose, re-derived with "
    "SymPy by the symmag toolkit.",
    readings="The text is a PDF extraction; where it leaves a reading open, the derivation "
    "records the one it takes.",
)

"""The output room: what a person reads of checked derivations, beyond the terminal.

``report`` (the LaTeX/PDF report through Jinja2, with figures and a JSON record).  The
records' own displays (terminal lines, Jupyter) live with them in the checking room.

May import: the checking and algebra rooms and the shared modules.
"""

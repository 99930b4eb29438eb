"""The cli room: the ``symmag`` command.  ``main`` parses and dispatches (its ``main()`` is the
entry point); ``compare`` and ``sweep`` hold those commands' arguments.  Light to import --
SymPy loads only when a command needs it, so a rerun served from the result cache starts in a
fraction of a second.

May import: every room, lazily, inside the commands.
"""

"""Mutation testing of the pure core (the key scheme and the imaging package): ``make mutation``.

A small tool of our own: ``mutants`` makes the mutants from each module's syntax
tree, ``runner`` tries each against the unit tests that execute it, ``__main__``
reports. Equivalent mutants are listed, with the reason, in equivalent.toml.
"""

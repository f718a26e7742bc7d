"""Shared utilities, the bottom layer: errors, the CLI harness, atomic io, paths, hashing, protocol constants.

Imports nothing from the project's other packages (``tests/test_layers.py`` checks it).
"""

"""Lightweight baselines: plain torch networks and their factories ``f(scale, **kwargs)``.

They import nothing from ``models``; ``models/catalog.py`` registers them under their names.
"""

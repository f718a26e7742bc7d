"""Lightweight baselines; importing this package registers them all."""

"""Datasets: registry of HR sets, fetching/verification, the challenge degradation, training patches."""

"""Evaluation: metrics, colour, score, runtime, provenance and the evaluator.

Reporting (tables, page, gate) is ``eval/report/``, the GPU suite ``eval/gpu_suite/``.
"""

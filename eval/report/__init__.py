"""Reporting: what reads result JSONs (``eval.evaluate``'s output) and shows them.

The leaderboard tables (``leaderboard``), their figures (``plots``, ``crops``, ``chart_axes``), the web
page (``site`` and ``site_assets/``), the regression gate (``regress``), the ablation tables
(``ablations``, ``ablation_metrics``) and the reader they share (``resultfiles``). Users run
``python -m eval.leaderboard`` and ``python -m eval.regress``, the entry modules beside this package.
"""

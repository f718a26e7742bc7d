"""The GPU suite: every CUDA path of the project proven, timed and written down by one command.

``python -m eval.gpu_suite [--out leaderboard/gpu] [--budget-s 480] [--device cuda|cpu] [--quick]``

Steps (``steps.STEPS``), each run in its own Python process with a time box, each writing its result
as it goes, so a step that fails, hangs or poisons the CUDA context never loses the others' results:
environment, data, gpu_tests, protocol, variants, sweep, training, leaderboard. The report lands in
``<out>/<card>/`` (``report.json``, ``report.md``, ``sweep.png``, the GPU leaderboard files and its
``results/``), the card's name in every table. ``--device cpu --quick`` runs every step at toy size
on the CPU (CI does, to keep the suite working without a GPU).
"""

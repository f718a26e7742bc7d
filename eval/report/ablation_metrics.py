"""``python -m eval.report.ablation_metrics``: one ablation variant's numbers, as its experiment's DVC metrics file.

The last stage of ``ablation/dvc.yaml``: reads the variant's result JSONs (``python -m eval.evaluate``,
one per test set, the same model) and writes ``ablation/metrics/variant.json``, which ``dvc exp show`` lists
per experiment and ``python -m eval.report.ablations`` collects into the ablation table:

    {"params": int, "gflops_720p": float (1e9 FLOPs per 1280x720 LR frame),
     "psnr_rgb": {"<set>": dB}, "psnr_y": {"<set>": dB}, "ssim_rgb": {...}, "ssim_y": {...},
     "runtime_ms": float | null, "runtime_protocol": "cpu-fp32" | "ntire23-gpu-fp16" | null,
     "runtime_device": device name | null, "scale": int, "degradation": str}

PSNR/SSIM are the set means of ``eval.evaluate`` (RGB: challenge metric, uint8, no border crop; Y:
BT.601, ``scale`` px shaved). ``runtime_ms``: the median over the test sets' evaluations of their
protocol mean (each measures the same model on the same protocol tensor; the median resists a
noisy shared machine); null when evaluated with ``--runtime off``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from core.cli import cli_main
from core.io import write_atomic
from eval.report.columns import METRIC_KEYS
from eval.report.leaderboard import gflops_720p
from eval.report.resultfiles import ResultError, load_results


def variant_metrics(results_dir: str | Path) -> dict:
    """The metrics dict (module docstring) of the one model evaluated in ``results_dir``."""
    results = sorted(load_results(results_dir), key=lambda r: r.data["dataset"])
    models = {(r.data["model"], r.data.get("weights"), r.data["scale"], r.data["degradation"]) for r in results}
    if len(models) != 1:
        raise ResultError(f"{results_dir}: results of {len(models)} different models/weights/scales "
                          f"({sorted(map(str, models))}); an ablation variant is one model")
    runtimes = [r.runtime for r in results if r.runtime]
    platforms = {r.platform for r in results if r.runtime}
    if len(platforms) > 1:
        raise ResultError(f"{results_dir}: runtimes from {sorted(platforms)}; re-evaluate on one device")
    first = results[0]
    metrics = {"params": first.data["params"], "gflops_720p": gflops_720p(first),
               "scale": first.data["scale"], "degradation": first.data["degradation"]}
    for key in METRIC_KEYS:
        metrics[key] = {r.data["dataset"]: round(float(r.data[key]), 4) for r in results}
    metrics["runtime_ms"] = (round(statistics.median(rt["mean_ms"] for rt in runtimes), 3)
                             if runtimes else None)
    metrics["runtime_protocol"], metrics["runtime_device"] = platforms.pop() if platforms else (None, None)
    return metrics


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point (``core.cli``: unusable results are one line on stderr, exit status 2)."""
    parser = argparse.ArgumentParser(prog="python -m eval.report.ablation_metrics", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="folder of the variant's result JSONs (data/ablation/results)")
    parser.add_argument("--out", required=True, help="metrics file to write (ablation/metrics/variant.json)")
    args = parser.parse_args(argv)
    metrics = variant_metrics(args.results)
    write_atomic(Path(args.out), json.dumps(metrics, indent=2) + "\n")
    print(f"{args.out}: {metrics['params']} params, {metrics['gflops_720p']} GFLOPs, PSNR RGB {metrics['psnr_rgb']}")


if __name__ == "__main__":
    sys.exit(main())

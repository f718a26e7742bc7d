"""The layer order, read from the imports (``ast``; nothing is imported): imports only point down.

Bottom to top (README, "Layout"):
    core        shared utilities (errors, CLI harness, atomic io, paths, hashing, protocol, uint8)
    datasets    HR sets, fetching, degradation, training patches
    baselines   plain torch networks of the baselines (no registry)
    models      the registry, Bicubic++, the built-in table (zoo), checkpoint adapters, run helpers
    eval        evaluation (the folder eval/ less its two subfolders): colour, metrics, score, runtime,
                provenance, result schema, weights origin, evaluate, released-checkpoint runs (zoo)
    training | reporting   two independent tops: training/ (loop, config, throughput, pruning, ...)
                and eval/report/ (resultfiles, leaderboard, plots, crops, site, regress, ablations),
                with its two entry modules eval/leaderboard.py and eval/regress.py
    orchestration   the GPU suite (eval/gpu_suite/): runs evaluation, training and reporting
A module may import its own layer and the layers below; training and reporting never import each other.
"""
from __future__ import annotations

import pytest

from tests.importgraph import PACKAGES, direct_imports, module_files

ORCHESTRATION = "eval.gpu_suite"  # the folder eval/gpu_suite/: every module in it
REPORTING = "eval.report"  # the folder eval/report/: every module in it
ENTRY_MODULES = ("eval.leaderboard", "eval.regress")  # `python -m` entries of eval/report/ that users call
LAYERS = (("core",), ("datasets",), ("baselines",), ("models",), ("eval",), ("training", "reporting"),
          ("orchestration",))


def in_package(module: str, package: str) -> bool:
    """True for ``package`` itself and every module under its folder."""
    return module == package or module.startswith(package + ".")


def group_of(module: str) -> str:
    """The layer group of a project module, by its folder: eval/report/ and eval/gpu_suite/ are their own."""
    if in_package(module, ORCHESTRATION):
        return "orchestration"
    if in_package(module, REPORTING) or module in ENTRY_MODULES:
        return "reporting"
    return module.split(".")[0]


def layer_of(module: str) -> tuple[int, str]:
    """(level, group) of a project module; reporting and the GPU suite sit above the eval layer."""
    group = group_of(module)
    for level, groups in enumerate(LAYERS):
        if group in groups:
            return level, group
    raise AssertionError(f"{module} is in no layer; add its package to LAYERS")


def upward_imports() -> list[str]:
    """'a -> b (why)' for every import that points up or sideways between the two tops."""
    bad = []
    for module in module_files():
        level, group = layer_of(module)
        for target in direct_imports(module):
            t_level, t_group = layer_of(target)
            if t_level > level:
                bad.append(f"{module} ({group}) -> {target} ({t_group}): points up")
            elif t_level == level and t_group != group:
                bad.append(f"{module} ({group}) -> {target} ({t_group}): the two tops are independent")
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of a directed graph (one per strongly connected component larger than a node)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_module_is_in_a_layer():
    for module in module_files():
        layer_of(module)


def test_imports_only_point_down():
    bad = upward_imports()
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_no_module_cycle():
    assert cycles({m: set(direct_imports(m)) for m in module_files()}) == []


def test_no_package_cycle():
    """Packages form a DAG too (models must not import baselines' importers and back); eval/'s
    reporting modules and its GPU suite count as their own nodes, as in the layer order."""
    edges: dict[str, set[str]] = {g: set() for g in (*PACKAGES, "reporting", "orchestration")}
    for module in module_files():
        edges[group_of(module)].update(group_of(t) for t in direct_imports(module))
    for group, targets in edges.items():
        targets.discard(group)
    assert cycles(edges) == []


@pytest.mark.parametrize("module, target", [("core.io", "datasets.paths"), ("models.catalog", "eval.metrics"),
                                            ("eval.metrics", "training.config"),
                                            ("training.loop", "eval.report.leaderboard"),
                                            ("eval.report.site", "eval.gpu_suite.steps"),
                                            ("eval.evaluate", "eval.report.site")])
def test_the_check_catches_a_wrong_import(monkeypatch, module, target):
    """A planted upward (or sideways) import is reported: the layer test can fail."""
    real = direct_imports

    def planted(name):
        return real(name) | {target} if name == module else real(name)

    monkeypatch.setattr(__import__("tests.test_layers", fromlist=["x"]), "direct_imports", planted)
    assert any(f"{module} (" in line and f"-> {target} (" in line for line in upward_imports())


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

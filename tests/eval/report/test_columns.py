"""The one column table (``eval.report.columns``): every output shows its columns from it, and the README
holds its generated definitions."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.paths import REPO_ROOT
from core.quantize import OUTPUT_ROUNDING
from eval.report import columns as cols
from eval.report.columns import (
    COLUMNS,
    DVC_METRIC_KEYS,
    GATE_ENTRY_KEYS,
    GATED_KEYS,
    PAGE_KEYS,
    README_KEYS,
    ROW_KEYS,
    TABLE_KEYS,
    TERMS,
    page_definitions,
    plain,
    readme_table,
)

VIEWS = {"ROW_KEYS": ROW_KEYS, "TABLE_KEYS": TABLE_KEYS, "PAGE_KEYS": PAGE_KEYS, "DVC_METRIC_KEYS": DVC_METRIC_KEYS,
         "GATED_KEYS": GATED_KEYS, "GATE_ENTRY_KEYS": GATE_ENTRY_KEYS, "README_KEYS": README_KEYS}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_every_view_names_known_columns_once(view):
    keys = VIEWS[view]
    assert len(set(keys)) == len(keys)
    assert [k for k in keys if k not in COLUMNS] == []


def test_every_column_is_shown_somewhere_and_defined_in_the_readme():
    shown = set().union(*map(set, VIEWS.values()))
    assert sorted(set(COLUMNS) - shown) == []
    assert sorted(set(COLUMNS) - set(README_KEYS)) == []
    assert all(c.definition.endswith(".") and "\n" not in c.definition for c in COLUMNS.values())


def test_headers_and_names_are_unique():
    headers = [c.header for c in COLUMNS.values()] + [t.name for t in TERMS]
    assert len(set(headers)) == len(headers)


@pytest.mark.parametrize(("key", "value", "text"), [
    ("psnr_rgb", 27.71619, "27.716"), ("ssim_y", 0.870449, "0.8704"), ("gain_db", 0.1784, "+0.178"),
    ("runtime_ms", 9.87654, "9.877"), ("runtime_ms", 123.456, "123.5"), ("runtime_median_ms", 10.0, "10.0"),
    ("params", 52332, "52,332"), ("gflops_720p", 2.0, "2.00"), ("score", None, "-"), ("rank", 3, "3"),
    ("label", "my|net", "my|net"), ("score", 12.3456, "12.35"),
])
def test_cells_are_formatted_by_their_column(key, value, text):
    assert COLUMNS[key].format(value) == text


def test_sort_direction_follows_which_way_is_better():
    assert [k for k in PAGE_KEYS if COLUMNS[k].first_sort == "desc"] == [
        "score", "psnr_rgb", "gain_db", "psnr_y", "ssim_y", "ssim_rgb"]
    assert COLUMNS["runtime_ms"].better == "lower" and COLUMNS["label"].better is None


def test_the_readme_holds_the_generated_definitions():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(cols.README_BEGIN) == 1, "README.md lost the generated-numbers marker"
    block = readme[readme.index(cols.README_BEGIN):readme.index(cols.README_END) + len(cols.README_END)] + "\n"
    assert block == readme_table(), "README.md's numbers table is stale: paste `python -m eval.report.columns`"


def test_the_module_prints_the_readme_table():
    proc = subprocess.run([sys.executable, "-m", "eval.report.columns"], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True)
    assert proc.stdout == readme_table()
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| **")]
    assert len(rows) == len(README_KEYS) + len(TERMS)
    assert "| **PSNR RGB** | `psnr_rgb` | dB, higher is better | The **ranking metric**" in proc.stdout


def test_plain_text_drops_markup_but_keeps_code():
    assert plain("The **ranking metric**: `2 * 2**diff`, not `2**(2*diff)`.") == \
        "The ranking metric: 2 * 2**diff, not 2**(2*diff)."


def test_the_page_defines_every_column_it_shows_and_every_term():
    terms = dict(page_definitions())
    assert [t for t in (COLUMNS[k].header for k in PAGE_KEYS if k != "label") if t not in terms] == []
    assert [t.name for t in TERMS if t.name not in terms] == []
    assert "`" not in "".join(terms.values())


def test_definitions_state_the_constants_the_code_uses():
    from eval.report.chart_axes import OUTLIER_DB
    from eval.report.crops import BORDER_MARGIN_LR, BORDER_MARGIN_SHARE
    from eval.report.site import CROP_SIDE

    crops = next(t.definition for t in TERMS if t.name == "crops")
    assert f"{CROP_SIDE}x{CROP_SIDE} HR-pixel" in crops and f"{OUTLIER_DB:g} dB below" in crops
    assert f"{round(BORDER_MARGIN_SHARE * 100)}%" in crops and f"{BORDER_MARGIN_LR} LR pixels" in crops
    assert OUTPUT_ROUNDING == "clamp01_x255_round_half_even"
    assert next(t.definition for t in TERMS if t.name == "output to uint8") == \
        "Clamp to [0, 1], x255, round half to even."


def test_the_markdown_table_and_csv_follow_the_views(tmp_path):
    from eval.report.leaderboard import csv_text, markdown

    row = {k: None for k in ROW_KEYS} | {"dataset": "set5", "scale": 3, "label": "espcn", "model": "espcn",
                                         "provenance": "no weights", "psnr_rgb": 27.5, "ssim_rgb": 0.8,
                                         "psnr_y": 29.5, "ssim_y": 0.85}
    md = markdown([row], [], "ntire23")
    header = next(line for line in md.splitlines() if line.startswith("| #"))
    assert header == "| " + " | ".join(COLUMNS[k].header for k in TABLE_KEYS) + " |"
    assert csv_text([row]).splitlines()[0] == ",".join(ROW_KEYS)


def test_the_gate_writes_and_checks_the_table_keys():
    from eval.report import regress

    assert set(GATED_KEYS) <= set(GATE_ENTRY_KEYS)
    assert set(GATE_ENTRY_KEYS) <= set(regress.ReferenceEntry.model_fields)
    ref = json.loads((REPO_ROOT / "references" / "mirror.json").read_text())
    assert all(list(e)[:len(GATE_ENTRY_KEYS)] == list(GATE_ENTRY_KEYS) for e in ref["entries"])


def test_chart_axes_are_titled_by_their_column():
    assert COLUMNS["psnr_rgb"].axis_title() == "PSNR RGB (dB)" and COLUMNS["params"].axis_title() == "params"

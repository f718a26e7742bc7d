"""Issue 20: hostile inputs. Every case: its exit status, at most two stderr lines, no traceback,
nothing partial left, and the sha256 of every input the same before and after.

In-process ``main(argv)`` calls (``core.cli``), tiny images, the bicubic model: the module is fast.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from core.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, cli_main
from eval.evaluate import SR_MARKER
from eval.evaluate import main as evaluate_main
from eval.report.leaderboard import main as leaderboard_main
from eval.report.regress import main as regress_main
from eval.zoo import main as zoo_main
from models import create_model
from tests.eval.results_factory import make_result, write_result
from tests.training.tiny import BASE, write_images
from training.train import main as train_main


def tree_hashes(*roots: Path) -> dict[str, str]:
    """sha256 of every file under (or at) ``roots``, by path."""
    out = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def photos(folder: Path, n: int = 2, size=(30, 24)) -> Path:
    """``n`` tiny random RGB PNGs (a user's HR photos)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


def check(capsys, tmp_path, rc, want, inputs: dict[str, str]) -> str:
    """The contract of every case; returns stderr."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == want, err
    assert len(lines) <= 2 and "Traceback" not in err, err
    assert not [p for p in tmp_path.rglob(".tmp-*")] and not [p for p in tmp_path.rglob(".old-*")]
    assert tree_hashes(*map(Path, inputs)) == inputs
    return err


# -- 1. data loss and paths ----------------------------------------------------------------------------

def _evaluate_case(tmp_path, kind):
    """(argv, inputs to hash, expected fragment) of one eval.evaluate output-over-input case."""
    hr = photos(tmp_path / "P")
    base = ["--model", "bicubic", "--dataset", f"folder:{hr}", "--scale", "2"]
    weights = tmp_path / "W.pth"
    torch.save(create_model("bicubic_pp", scale=3).state_dict(), weights)
    user = photos(tmp_path / "album")
    cases = {
        "save_sr_is_dataset": (base + ["--save-sr", str(hr)], [hr], "overlaps the input --dataset folder"),
        "save_sr_inside_dataset": (base + ["--save-sr", str(hr / "sr")], [hr], "overlaps the input"),
        "save_sr_holds_dataset": (base + ["--save-sr", str(tmp_path)], [hr], "overlaps the input"),
        "save_sr_symlink_to_dataset": (base + ["--save-sr", str(_link(tmp_path / "ln", hr))], [hr],
                                       "overlaps the input"),
        "save_sr_user_photos": (base + ["--save-sr", str(user)], [hr, user], "did not write it"),
        "json_is_weights": (["--model", "bicubic_pp", "--weights", str(weights), "--dataset", f"folder:{hr}",
                             "--scale", "3", "--json", str(weights)], [hr, weights], "overlaps the input --weights"),
        "json_inside_dataset": (base + ["--json", str(hr / "r.json")], [hr], "overlaps the input"),
        "json_is_an_image": (base + ["--json", str(hr / "p0.png")], [hr], "overlaps the input"),
        "json_in_save_sr": (base + ["--save-sr", str(tmp_path / "sr"), "--json", str(tmp_path / "sr" / "r.json")],
                            [hr], "overlaps the input --save-sr"),
        "passes_1e20": (base + ["--runtime", "cpu", "--passes", "100000000000000000000"], [hr],
                        "--passes=100000000000000000000"),
        "warmup_huge": (base + ["--runtime", "cpu", "--warmup", str(10**9)], [hr], "--warmup="),
    }
    return cases[kind]


def _link(link: Path, target: Path) -> Path:
    """A symbolic link ``link`` -> ``target``."""
    link.symlink_to(target, target_is_directory=True)
    return link


EVALUATE_CASES = ("save_sr_is_dataset", "save_sr_inside_dataset", "save_sr_holds_dataset",
                  "save_sr_symlink_to_dataset", "save_sr_user_photos", "json_is_weights",
                  "json_inside_dataset", "json_is_an_image", "json_in_save_sr", "passes_1e20", "warmup_huge")


@pytest.mark.parametrize("kind", EVALUATE_CASES)
def test_evaluate_never_writes_over_an_input(tmp_path, capsys, kind):
    argv, roots, said = _evaluate_case(tmp_path, kind)
    inputs = tree_hashes(*roots)
    rc = evaluate_main(argv)
    err = check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert said in err


def test_save_sr_into_its_own_earlier_folder_still_works(tmp_path, capsys):
    hr = photos(tmp_path / "P")
    argv = ["--model", "bicubic", "--dataset", f"folder:{hr}", "--scale", "2", "--save-sr", str(tmp_path / "sr")]
    inputs = tree_hashes(hr)
    assert evaluate_main(argv) == EXIT_OK
    assert (tmp_path / "sr" / SR_MARKER).is_file()
    assert evaluate_main(argv) == EXIT_OK  # the marker proves it is ours
    check(capsys, tmp_path, EXIT_OK, EXIT_OK, inputs)


def test_two_folder_sets_with_the_same_name_never_share_data(tmp_path):
    from datasets.degrade import degrade_dataset
    from datasets.paths import gt_dir, hr_dir

    a, b = photos(tmp_path / "x" / "photos", 2), photos(tmp_path / "y" / "photos", 3)
    inputs = tree_hashes(a, b)
    assert hr_dir(f"folder:{a}") != hr_dir(f"folder:{b}")
    assert hr_dir(f"folder:{a}").name.startswith("folder-photos-")
    _, gt_a = degrade_dataset(f"folder:{a}", 2, "classic", progress=False)
    _, gt_b = degrade_dataset(f"folder:{b}", 2, "classic", progress=False)
    assert gt_a == gt_dir(f"folder:{a}", 2, "classic") and gt_a != gt_b
    assert len(list(gt_a.glob("*.png"))) == 2 and len(list(gt_b.glob("*.png"))) == 3
    assert tree_hashes(a, b) == inputs


def _train_yaml(tmp_path: Path, **over) -> Path:
    """A params file with one complete section ``run`` training 1 epoch on a tiny folder set."""
    dataset = write_images(tmp_path / "tiny", [(48, 48), (48, 48)])
    section = {**BASE, "epochs": 1, "train_sets": [dataset], "val_sets": [dataset],
               "out": str(tmp_path / "RUN"), **over}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"run": section}))
    return path


def test_training_into_a_finished_run_with_other_settings_is_refused(tmp_path, capsys):
    params = _train_yaml(tmp_path)
    assert train_main(["--config", str(params), "--section", "run"]) == EXIT_OK
    capsys.readouterr()
    run = tmp_path / "RUN"
    inputs = tree_hashes(run, params)
    rc = train_main(["--config", str(params), "--section", "run", "--lr", "0.01"])
    err = check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert "made with other settings (lr)" in err and "--out" in err and "--force" in err
    assert train_main(["--config", str(params), "--section", "run"]) == EXIT_OK  # same config: resumes
    capsys.readouterr()
    assert tree_hashes(run / "best.pt") == {k: v for k, v in inputs.items() if k.endswith("best.pt")}


@pytest.mark.parametrize("flag, value", [("--out", "{tmp}/params.yaml"), ("--out", "{tmp}"),
                                         ("--seed", str(2**70)), ("--epochs", str(10**20)),
                                         ("--batch", str(10**12)), ("--threads", str(10**6))])
def test_training_options_refused_before_any_work(tmp_path, capsys, flag, value):
    params = _train_yaml(tmp_path)
    inputs = tree_hashes(params)
    rc = train_main(["--config", str(params), "--section", "run", flag, value.format(tmp=tmp_path)])
    check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert not (tmp_path / "RUN").exists()


def test_yaml_with_a_duplicated_key_is_an_error(tmp_path, capsys):
    params = _train_yaml(tmp_path)
    params.write_text(params.read_text() + "  lr: 0.5\n")
    inputs = tree_hashes(params)
    rc = train_main(["--config", str(params), "--section", "run"])
    assert "duplicate key 'lr'" in check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)


HOSTILE_NAMES = ["/tmp/rtsr-hostile-abs", "../../rtsr-hostile-up", "a/../../../rtsr-hostile", "..", ".",
                 "x\nrtsr", "C:\\rtsr", "nul\0byte"]


@pytest.mark.parametrize("field", ["dataset", "label", "model"])
@pytest.mark.parametrize("value", HOSTILE_NAMES)
def test_names_from_result_files_never_lead_outside_out(tmp_path, capsys, field, value):
    res, out = tmp_path / "work" / "results", tmp_path / "work" / "out"
    std = make_result("bicubic")
    data = make_result("espcn")
    for d in ((std, data) if field == "dataset" else (data,)):
        d[field] = value
        if field == "model":
            d["label"] = value
    write_result(res, std, "bicubic.json")
    write_result(res, data, "espcn.json")
    inputs = tree_hashes(res)
    before = set(tmp_path.parent.iterdir())
    rc = leaderboard_main(["--results", str(res), "--out", str(out), "--no-site", "--no-figures"])
    check(capsys, tmp_path, rc, EXIT_OK, inputs)
    assert set(tmp_path.parent.iterdir()) == before and not Path("/tmp/rtsr-hostile-abs").exists()
    written = [p.resolve() for p in (tmp_path / "work").rglob("*") if p.is_file()]
    assert all(out.resolve() in p.parents or res.resolve() in p.parents for p in written)


def test_a_label_with_a_pipe_or_newline_keeps_leaderboard_md_a_table(tmp_path, capsys):
    res, out = tmp_path / "results", tmp_path / "out"
    write_result(res, make_result("bicubic"), "bicubic.json")
    data = make_result("espcn")
    data["label"] = "evil | col\nnext"
    write_result(res, data, "espcn.json")
    assert leaderboard_main(["--results", str(res), "--out", str(out), "--no-site", "--no-figures"]) == 0
    capsys.readouterr()
    rows = [line for line in (out / "leaderboard.md").read_text().splitlines() if line.startswith("| ")]
    header = rows[0].count(" | ")
    assert all(line.replace("\\|", "").count(" | ") == header for line in rows)
    assert any("evil \\| col next" in line for line in rows)


# -- 2. typed result and reference files -----------------------------------------------------------------

RESULT_FIELDS = [
    ("conventions", "x"), ("conventions", [1]), ("provenance", "x"), ("external", "x"), ("contract", 3),
    ("weights", 5), ("label", ["x"]), ("dataset", {"a": 1}), ("scale", "3"), ("scale", 10**20),
    ("psnr_rgb", "30"), ("fp16_check", "ok"), ("flops", {"flops": 1, "input": [1, 3, 0, 0]}),
    ("flops", {"flops": "many"}), ("runtime", "fast"), ("per_image", {"a": 1}), ("params", -1),
]


@pytest.mark.parametrize("field, value", RESULT_FIELDS)
@pytest.mark.parametrize("command", ["leaderboard", "regress"])
def test_a_wrong_type_in_a_result_is_one_line_naming_file_and_field(tmp_path, capsys, command, field, value):
    res = tmp_path / "results"
    write_result(res, make_result("bicubic"), "bicubic.json")
    data = make_result("espcn")
    data[field] = value
    path = write_result(res, data, "espcn.json")
    inputs = tree_hashes(res)
    if command == "leaderboard":
        rc = leaderboard_main(["--results", str(res), "--out", str(tmp_path / "out"), "--no-site"])
    else:
        rc = regress_main(["--results", str(res), "--reference", str(tmp_path / "ref.json"), "--update"])
    err = check(capsys, tmp_path, rc, EXIT_FAILURE, inputs)
    assert str(path) in err and field in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "ref.json").exists()


@pytest.mark.parametrize("field, value", [("psnr_rgb", "30"), ("scale", [3]), ("model", 5),
                                          ("runtime_ms", 0), ("dataset", None)])
def test_a_wrong_type_in_a_reference_is_one_line(tmp_path, capsys, field, value):
    res = tmp_path / "results"
    write_result(res, make_result("bicubic"), "bicubic.json")
    ref = tmp_path / "ref.json"
    assert regress_main(["--results", str(res), "--reference", str(ref), "--update"]) == EXIT_OK
    capsys.readouterr()
    data = json.loads(ref.read_text())
    data["entries"][0][field] = value
    ref.write_text(json.dumps(data))
    inputs = tree_hashes(res, ref)
    rc = regress_main(["--results", str(res), "--reference", str(ref)])
    err = check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert str(ref) in err and field in err


# -- 5/6. interrupts, full disks, silently wrong inputs --------------------------------------------------

def test_ctrl_c_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch):
    import eval.evaluate

    hr = photos(tmp_path / "P")
    inputs = tree_hashes(hr)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(eval.evaluate, "evaluate_images", interrupted)
    rc = evaluate_main(["--model", "bicubic", "--dataset", f"folder:{hr}", "--scale", "2",
                        "--save-sr", str(tmp_path / "sr"), "--json", str(tmp_path / "r.json")])
    err = check(capsys, tmp_path, rc, EXIT_INTERRUPTED, inputs)
    assert err.startswith("interrupted; ") and not (tmp_path / "sr").exists() and not (tmp_path / "r.json").exists()


def test_full_disk_is_one_line_naming_the_path(tmp_path, capsys, monkeypatch):
    import errno

    import eval.evaluate

    hr = photos(tmp_path / "P")
    inputs = tree_hashes(hr)

    def full(result, path):
        with eval.evaluate.write_atomic.__globals__["atomic_path"](path):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(eval.evaluate, "write_result", full)
    out = tmp_path / "r.json"
    rc = evaluate_main(["--model", "bicubic", "--dataset", f"folder:{hr}", "--scale", "2", "--json", str(out)])
    err = check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert f"{out}: No space left on device" in err and not out.exists()


def _animated_png(folder: Path) -> None:
    frames = [Image.new("RGB", (30, 24), c) for c in ((10, 20, 30), (200, 100, 0))]
    frames[0].save(folder / "anim.png", save_all=True, append_images=frames[1:])


def _multipage_tiff(folder: Path) -> None:
    frames = [Image.new("RGB", (30, 24), c) for c in ((10, 20, 30), (200, 100, 0))]
    frames[0].save(folder / "pages.tiff", save_all=True, append_images=frames[1:])


def _broken_link(folder: Path) -> None:
    (folder / "gone.png").symlink_to(folder / "nowhere.png")


@pytest.mark.parametrize("make, said", [(_animated_png, "2 frames"), (_multipage_tiff, "2 frames"),
                                        (_broken_link, "broken symbolic link")])
def test_silently_wrong_images_are_refused(tmp_path, capsys, make, said):
    hr = photos(tmp_path / "P")
    make(hr)
    inputs = tree_hashes(hr)
    rc = evaluate_main(["--model", "bicubic", "--dataset", f"folder:{hr}", "--scale", "2"])
    assert said in check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)


def test_empty_data_root_is_an_error(tmp_path, capsys, monkeypatch):
    hr = photos(tmp_path / "P")
    inputs = tree_hashes(hr)
    monkeypatch.setenv("RTSR_DATA_ROOT", "")
    monkeypatch.chdir(tmp_path)
    rc = evaluate_main(["--model", "bicubic", "--dataset", f"folder:{hr}", "--scale", "2"])
    assert "RTSR_DATA_ROOT is set but empty" in check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P"]


def test_named_zoo_entry_in_a_missing_folder_is_an_error(tmp_path, capsys):
    rc = zoo_main(["--entries", "rfdn_aim2020", "--official-dir", str(tmp_path / "none"),
                   "--out", str(tmp_path / "out")])
    assert "does not exist" in check(capsys, tmp_path, rc, EXIT_BAD_INPUT, {})
    assert not (tmp_path / "out").exists()


def test_every_harnessed_command_turns_ctrl_c_into_one_line():
    assert cli_main(lambda argv=None: (_ for _ in ()).throw(KeyboardInterrupt()))([]) == EXIT_INTERRUPTED


# -- 3. plug-in attributes and checkpoint dtypes ---------------------------------------------------------

PLUGIN = '''
import torch.nn.functional as F
from torch import nn


class Up(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)


def factory(scale=2, **kwargs):
    return Up(scale)


factory.{attr} = {value}
'''


@pytest.mark.parametrize("attr, value", [("scales", "'3'"), ("scales", "3"), ("scales", "(0,)"),
                                         ("scales", "(True,)"), ("multiple", "'8'"), ("multiple", "0"),
                                         ("multiple", "2.5"), ("min_size", "-1"), ("value_range", "255"),
                                         ("value_range", "'0-1'"), ("channel_order", "'RGB'"),
                                         ("channel_order", "['rgb']"), ("layouts", "'x'")])
def test_plugin_attributes_of_a_wrong_type_name_the_attribute(tmp_path, capsys, attr, value):
    plugin = tmp_path / "plug.py"
    plugin.write_text(PLUGIN.replace("{attr}", attr).replace("{value}", value))
    hr = photos(tmp_path / "P")
    inputs = tree_hashes(hr, plugin)
    rc = evaluate_main(["--model", f"{plugin}:factory", "--dataset", f"folder:{hr}", "--scale", "3"])
    err = check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert f"attribute {attr}=" in err and "forward" not in err and "supported: 3" not in err


def _espcn_state(change):
    """An espcn x2 state dict with its first weight changed by ``change``."""
    state = create_model("espcn", scale=2).state_dict()
    key = next(k for k in state if k.endswith("weight"))
    state[key] = change(state[key])
    return {"arch": {"name": "espcn", "scale": 2, "kwargs": {}}, "state_dict": state}


@pytest.mark.parametrize("change, said", [
    (lambda w: w.to(torch.complex64), "complex tensor"),
    (lambda w: w.to(torch.int64), "dtype torch.int64"),
    (lambda w: w.to(torch.int8), "dtype torch.int8"),
    (lambda w: w.to_sparse(), "sparse"),
    (lambda w: torch.empty_like(w, device="meta"), "meta"),
])
def test_checkpoint_tensors_that_are_not_float_weights_are_refused_by_key(tmp_path, capsys, change, said):
    weights = tmp_path / "w.pt"
    torch.save(_espcn_state(change), weights)
    hr = photos(tmp_path / "P")
    inputs = tree_hashes(hr, weights)
    rc = evaluate_main(["--model", "espcn", "--weights", str(weights), "--dataset", f"folder:{hr}",
                        "--scale", "2"])
    err = check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert said in err and "weight" in err and "value range" not in err


# -- the general rule in the other commands ------------------------------------------------------------

def test_data_root_inside_the_users_folder_is_refused(tmp_path, capsys, monkeypatch):
    hr = photos(tmp_path / "P")
    inputs = tree_hashes(hr)
    monkeypatch.setenv("RTSR_DATA_ROOT", str(hr / "data"))
    rc = evaluate_main(["--model", "bicubic", "--dataset", f"folder:{hr}", "--scale", "2"])
    assert "overlaps the input" in check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert not (hr / "data").exists()


@pytest.mark.parametrize("out", ["{res}", "{res}/lb"])
def test_leaderboard_out_over_its_results_is_refused(tmp_path, capsys, out):
    res = tmp_path / "results"
    write_result(res, make_result("bicubic"), "bicubic.json")
    inputs = tree_hashes(res)
    rc = leaderboard_main(["--results", str(res), "--out", out.format(res=res, tmp=tmp_path), "--no-site"])
    assert "overlaps the input --results" in check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)
    assert sorted(p.name for p in res.iterdir()) == ["bicubic.json"]


def test_regress_reference_among_its_results_is_refused(tmp_path, capsys):
    res = tmp_path / "results"
    write_result(res, make_result("bicubic"), "bicubic.json")
    inputs = tree_hashes(res)
    rc = regress_main(["--results", str(res), "--reference", str(res / "ref.json"), "--update"])
    assert "overlaps the input --results" in check(capsys, tmp_path, rc, EXIT_BAD_INPUT, inputs)

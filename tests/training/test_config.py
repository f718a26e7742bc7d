"""The training params against one typed schema: every bad value one line naming file, key and value, before work."""
from __future__ import annotations

import pytest
import torch
import yaml

from core.paths import REPO_ROOT
from training.config import (
    ConfigError,
    PipelineParams,
    check_params,
    load_train_config,
    read_params,
)
from training.train import main as train_main

SECTIONS = ["--section", "train.base", "train.bicubic_pp_stage1"]


def params_with(tmp_path, **changes):
    """The committed params.yaml with ``changes`` (dotted key -> raw YAML text, written as is)."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    for key in changes:
        *sections, name = key.split(".")
        node = params
        for part in sections:
            node = node[part]
        node[name] = f"@@{key}@@"
    text = yaml.safe_dump(params, sort_keys=False)
    for key, raw in changes.items():
        text = text.replace(f"'@@{key}@@'", raw)
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def run_train(tmp_path, capsys, config, *extra) -> tuple[int, str]:
    rc = train_main(["--config", str(config), *SECTIONS, "--out", str(tmp_path / "run"), "--no-progress",
                     *extra])
    return rc, capsys.readouterr().err


# Each row of issue 13's training table, plus more of the same kinds: (key, raw YAML, message after "<file>: ").
BAD_VALUES = [
    ("train.bicubic_pp_stage1.lr", '"fast"', "train.bicubic_pp_stage1.lr='fast': Input should be a valid number"),
    ("train.bicubic_pp_stage1.lr", ".inf", "train.bicubic_pp_stage1.lr=inf: Input should be a finite number"),
    ("train.bicubic_pp_stage1.lr", ".nan", "train.bicubic_pp_stage1.lr=nan: Input should be a finite number"),
    ("train.bicubic_pp_stage1.lr", "-1e-3", "train.bicubic_pp_stage1.lr='-1e-3': Input should be greater than 0"),
    ("train.bicubic_pp_stage1.lr", "true", "train.bicubic_pp_stage1.lr=True: Input should be a valid number"),
    ("train.bicubic_pp_stage1.epochs", "2.7", "train.bicubic_pp_stage1.epochs=2.7: Input should be a valid integer"),
    ("train.bicubic_pp_stage1.epochs", '"ten"',
     "train.bicubic_pp_stage1.epochs='ten': Input should be a valid integer"),
    ("train.bicubic_pp_stage1.epochs", "true", "train.bicubic_pp_stage1.epochs=True: Input should be a valid integer"),
    ("train.bicubic_pp_stage1.epochs", "0",
     "train.bicubic_pp_stage1.epochs=0: Input should be greater than or equal to 1"),
    ("train.base.batch", "8.5", "train.base.batch=8.5: Input should be a valid integer"),
    ("train.base.val_crop", "-3", "train.base.val_crop=-3: Input should be greater than or equal to 0"),
    ("train.base.threads", "-2", "train.base.threads=-2: Input should be greater than or equal to 0"),
    ("train.base.train_sets", "demo_train", "train.base.train_sets='demo_train': Input should be a valid list"),
    ("train.base.val_sets", "[]", "train.base.val_sets=[]: List should have at least 1 item"),
    ("train.base.val_sets", "[demo_vlaid]", "train.base.val_sets=['demo_vlaid']: unknown dataset 'demo_vlaid'"),
    ("train.base.beta1", "1.0", "train.base.beta1=1.0: Input should be less than 1"),
    ("train.base.augment", '"yes please"', "train.base.augment='yes please': Input should be a valid boolean"),
    ("train.base.loss", "l3", "train.base.loss='l3': Input should be 'mse' or 'l1'"),
    ("train.base.schedule", "cosine", "train.base.schedule='cosine': Input should be 'paper', 'public' or 'constant'"),
    ("train.base.device", "gpu", "train.base.device='gpu': not a device: use auto, cpu, cuda or cuda:N"),
    ("train.base.model_kwargs", "channels", "train.base.model_kwargs='channels': Input should be a valid dictionary"),
    ("train.base.quality", "0", "train.base.quality=0: Input should be greater than or equal to 1"),
    # keys other stages read are checked by the first stage that reads the file
    ("evaluate.passes", "0", "evaluate.passes=0: Input should be greater than or equal to 1"),
    ("evaluate.external", "ckpt.pth", "evaluate.external='ckpt.pth': Input should be a valid list"),
    ("scale", "1.5", "scale=1.5: Input should be a valid integer"),
    ("prune.target", "-32", "prune.target=-32: Input should be greater than or equal to 1"),
    ("test_sets", "set5", "test_sets='set5': Input should be a valid list"),
]


@pytest.mark.parametrize("key, raw, said", BAD_VALUES, ids=[f"{k}={r}" for k, r, _ in BAD_VALUES])
def test_bad_value_is_one_line_naming_file_key_value(tmp_path, capsys, key, raw, said):
    config = params_with(tmp_path, **{key: raw})
    rc, err = run_train(tmp_path, capsys, config)
    assert rc == 2
    assert err == f"error: {config}: {said}\n" or (err.startswith(f"error: {config}: {said}")
                                                   and err.count("\n") == 1), err
    assert not (tmp_path / "run").exists()  # nothing trained, nothing written


def test_yaml_exponent_float_is_the_float_it_means(tmp_path):
    """PyYAML reads ``5e-3`` as the string '5e-3'; the schema takes it as 0.005 (was a TypeError)."""
    config = params_with(tmp_path, **{"train.bicubic_pp_stage1.lr": "5e-3", "train.base.beta1": "9e-1"})
    assert yaml.safe_load(config.read_text())["train"]["bicubic_pp_stage1"]["lr"] == "5e-3"
    cfg = load_train_config(config, ["train.base", "train.bicubic_pp_stage1"], {"out": str(tmp_path / "r")})
    assert (cfg.lr, cfg.beta1) == (0.005, 0.9)


def test_malformed_yaml_names_the_line(tmp_path, capsys):
    bad = tmp_path / "params.yaml"
    bad.write_text("train:\n  base: {epochs: 3\n  x: [\n")
    rc, err = run_train(tmp_path, capsys, bad)
    assert rc == 2 and err == (f"error: {bad}: not valid YAML at line 3, column 4 (expected ',' or '}}', "
                               "but got ':')\n")


def test_unknown_key_suggests_the_known_one(tmp_path, capsys):
    config = params_with(tmp_path, **{"train.base.epoch": "3"})
    rc, err = run_train(tmp_path, capsys, config)
    assert rc == 2 and err.count("\n") == 1
    assert f"{config}: section 'train.base' has unknown keys ['epoch']; did you mean 'epochs'?" in err


def test_every_profile_and_the_committed_params_fit_the_schema():
    from core.params import composed_params

    check_params(read_params(REPO_ROOT / "params.yaml"), "params.yaml")
    for profile in ("embedded", "mirror", "paper"):
        params = composed_params([f"profile={profile}"])
        check_params(params, profile)
        assert PipelineParams.model_validate(params).train["bicubic_pp_stage1"].model == "bicubic_pp"


def test_flags_are_checked_by_the_same_schema(tmp_path, capsys):
    rc, err = run_train(tmp_path, capsys, REPO_ROOT / "params.yaml", "--lr", "inf")
    assert rc == 2 and err == ("error: params.yaml [train.base + train.bicubic_pp_stage1] and flags: "
                               "lr=inf: Input should be a finite number\n").replace(
        "params.yaml", str(REPO_ROOT / "params.yaml"), 1)
    rc, err = run_train(tmp_path, capsys, REPO_ROOT / "params.yaml", "--threads", "-2")
    assert rc == 2 and "threads=-2: Input should be greater than or equal to 0" in err


def test_params_file_that_is_a_folder_or_a_list(tmp_path, capsys):
    rc, err = run_train(tmp_path, capsys, tmp_path)
    assert rc == 2 and err == f"error: {tmp_path}: is a folder; --config needs a params file (params.yaml)\n"
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level is not a mapping"):
        read_params(listing)


# -- checkpoints for --init and resume: one line naming the file (issue 13) ----------------------------
@pytest.mark.parametrize("content, said", [
    (b"", "empty file (0 bytes), not a checkpoint"),
    ("lists", "state dict entry 'head.weight' is a list, expected a tensor"),
    ("string", "the state dict is a str, expected a mapping"),
])
def test_bad_init_checkpoint(tmp_path, capsys, content, said):
    init = tmp_path / "init.pt"
    if content == b"":
        init.write_bytes(b"")
    else:
        from models.registry import create_model

        state = create_model("bicubic_pp").state_dict()
        torch.save({"arch": {"name": "bicubic_pp", "scale": 3, "kwargs": {}},
                    "state_dict": {k: v.tolist() for k, v in state.items()} if content == "lists" else "acid"},
                   init)
    rc = train_main(["--config", str(REPO_ROOT / "params.yaml"), "--section", "train.base",
                     "train.bicubic_pp_stage3", "--init", str(init), "--out", str(tmp_path / "run"),
                     "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"error: {init}: {said}") and err.count("\n") == 1, err


@pytest.mark.parametrize("state, said", [
    (None, "empty file (0 bytes), not a checkpoint"),
    ({"arch": 1}, "not a resume state (arch is of type int, expected dict)"),
    ([1, 2], "expected a state dict, found list"),
])
def test_bad_last_pt_on_resume(tmp_path, capsys, state, said):
    run = tmp_path / "run"
    run.mkdir()
    if state is None:
        (run / "last.pt").write_bytes(b"")
    else:
        torch.save(state, run / "last.pt")
    rc = train_main(["--config", str(REPO_ROOT / "params.yaml"), *SECTIONS, "--out", str(run), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"error: {run / 'last.pt'}: {said}") and err.count("\n") == 1, err

"""The lean training step's choices: precision (fp32, tf32, bf16, fp16 + loss scaling), Adam kernels, capture.

Defaults keep today's results: ``precision: auto`` is FP16 autocast + loss scaling on CUDA when
``amp`` is set and FP32 on the CPU; ``optimizer_impl: auto`` is the fused Adam kernel on CUDA and
torch's per-parameter loop on the CPU (the kernel CPU references were trained with); ``compile``
is off. ``tf32`` lets CUDA matmuls and convolutions use TF32 (FP32 leaves torch's own defaults).
``compile`` wraps the model's forward in ``torch.compile`` (CUDA graphs via ``reduce-overhead`` on
CUDA) and the Adam update in a compiled function; the captured step's losses match eager's to
floating-point tolerance (``tests/training/test_step.py`` states it), not bit for bit.
"""
from __future__ import annotations

import torch
from torch import nn

from training.config import LOSSES, TrainConfig, TrainError

AUTOCAST = {"fp32": None, "tf32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_precision(cfg: TrainConfig, cuda: bool) -> str:
    """The step's precision name: ``cfg.precision``, with auto -> fp16 on CUDA when ``cfg.amp``, else fp32."""
    if cfg.precision == "auto":
        return "fp16" if cuda and cfg.amp else "fp32"
    if not cuda and cfg.precision in ("fp16", "tf32"):
        raise TrainError(f"precision {cfg.precision!r} needs CUDA; the CPU trains in fp32 or bf16")
    return cfg.precision


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of ``precision`` (None: no autocast)."""
    return AUTOCAST[precision]


def uses_scaler(precision: str) -> bool:
    """True for fp16, the one precision that needs loss scaling."""
    return precision == "fp16"


def set_matmul_precision(precision: str) -> None:
    """Allow TF32 in CUDA matmuls and cuDNN convolutions for ``tf32`` (other precisions: torch's defaults)."""
    if precision == "tf32":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def uses_channels_last(cfg: TrainConfig, cuda: bool) -> bool:
    """True when the model and LR batches are kept channels_last (``memory_format``; auto: on CUDA only)."""
    if cfg.memory_format == "auto":
        return cuda
    return cfg.memory_format == "channels_last"


def adam_kwargs(cfg: TrainConfig, cuda: bool) -> dict:
    """Keyword arguments choosing Adam's kernels: auto -> fused on CUDA, torch's own default on the CPU (loop)."""
    impl = cfg.optimizer_impl
    if impl == "auto":
        impl = "fused" if cuda else "torch"
    return {"torch": {}, "loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[impl]


def make_adam(model: nn.Module, cfg: TrainConfig, cuda: bool) -> torch.optim.Adam:
    """Adam over ``model``'s parameters with the config's lr, betas and kernel choice."""
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), **adam_kwargs(cfg, cuda))


def train_step(model: nn.Module, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler, loss_fn,
               inputs: torch.Tensor, targets: torch.Tensor, dtype: torch.dtype | None = None,
               update=None) -> torch.Tensor:
    """One optimisation step on a float NCHW [0, 1] LR/HR batch; returns the detached loss (FP32).

    ``dtype``: autocast dtype of the forward (None: none); ``update``: a compiled ``opt.step`` used
    instead of the scaler's step when loss scaling is off. Shared by the loop and ``training.throughput``.
    """
    with torch.autocast(inputs.device.type, dtype=dtype or torch.float16, enabled=dtype is not None):
        pred = model(inputs)
    loss = loss_fn(pred.float(), targets)
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if update is not None and not scaler.is_enabled():
        update()
    else:
        scaler.step(opt)
        scaler.update()
    return loss.detach()


def make_step(model: nn.Module, opt, scaler, cfg: TrainConfig, cuda: bool):
    """``step(inputs, targets) -> detached loss`` per the config's precision and capture choices."""
    dtype = autocast_dtype(resolve_precision(cfg, cuda))
    forward, update = captured(model, opt, cuda) if cfg.compile else (model, None)
    loss_fn = LOSSES[cfg.loss]

    def step(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return train_step(forward, opt, scaler, loss_fn, inputs, targets, dtype, update)

    return step


def captured(model: nn.Module, opt: torch.optim.Optimizer, cuda: bool):
    """(compiled forward, compiled Adam update) for the captured step; CUDA graphs on CUDA."""
    forward = torch.compile(model, mode="reduce-overhead" if cuda else None, dynamic=False)

    @torch.compile(fullgraph=False)
    def update() -> None:
        opt.step()

    return forward, update

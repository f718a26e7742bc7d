"""A run's images on the training device: training pairs and validation items (uint8 RGB from ``datasets.degrade``)."""
from __future__ import annotations

import torch

from datasets.patches import load_pairs, to_chw_tensor
from training.config import TrainConfig


def load_split(names: list, cfg: TrainConfig, device: torch.device):
    """(lr uint8 CHW tensors, hr uint8 CHW tensors, names) of datasets ``names`` on ``device``."""
    pairs = load_pairs(list(names), cfg.scale, cfg.degradation, cfg.quality)
    lrs = [to_chw_tensor(lr, device) for lr, _ in pairs]
    hrs = [to_chw_tensor(hr, device) for _, hr in pairs]
    return lrs, hrs, [getattr(p, "name", f"image #{i}") for i, p in enumerate(pairs)]


def centre_crop_pair(lr: torch.Tensor, hr: torch.Tensor, size: int, scale: int):
    """Centre crop of an LR CHW tensor to at most ``size`` px per side, and the aligned HR crop."""
    h, w = lr.shape[-2:]
    ch, cw = min(h, size), min(w, size)
    top, left = (h - ch) // 2, (w - cw) // 2
    return (lr[:, top:top + ch, left:left + cw],
            hr[:, top * scale:(top + ch) * scale, left * scale:(left + cw) * scale])


def load_validation(cfg: TrainConfig, device: torch.device) -> list:
    """Validation items: (lr float 1x3xhxw in [0, 1] on device, gt uint8 HxWx3 RGB numpy)."""
    lrs, hrs, _ = load_split(cfg.val_sets, cfg, device)
    items = []
    for lr, hr in zip(lrs, hrs):
        if cfg.val_crop:
            lr, hr = centre_crop_pair(lr, hr, cfg.val_crop, cfg.scale)
        items.append((lr[None].float().div(255), hr.permute(1, 2, 0).cpu().numpy()))
    return items

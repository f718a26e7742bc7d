"""A synthetic leaderboard for the web page: result JSONs, ground truth and SR PNGs, no pipeline.

Ground truth: photographs embedded in scikit-image, cut to ``size``. "bicubic" is a real x3 Pillow
bicubic down- and up-scale of it; every model's output is bicubic moved towards the ground truth by
its own share (plus a little deterministic noise), so models differ from bicubic where bicubic errs
(edges and texture), as real models do. The PSNRs in the JSONs are the README's measured Set5 figures.
"""
from __future__ import annotations

import numpy as np
import skimage.data
from PIL import Image

from datasets.imageio import save_png
from datasets.paths import gt_dir, sr_dir
from tests.eval.results_factory import H200, SET5, make_result, write_result

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")  # one per SET5 name

# label -> (params, GMACs at 720p, psnr_rgb, psnr_y, ssim_y, mean runtime ms, share of GT detail)
MODELS = {
    "bicubic": (0, 0.0, 27.205, 30.154, 0.8425, 219.9, 0.0),
    "bicubic_pp": (50_400, 11.61, 27.711, 30.659, 0.8552, 321.4, 0.35),
    "abpn": (42_539, 39.03, 27.976, 31.274, 0.8681, 1824.8, 0.5),
    "rfdn": (143_451, 129.6, 27.496, 30.498, 0.8508, 2710.3, 0.25),
    "espcn": (31_131, 28.68, 27.180, 30.102, 0.8402, 1021.7, 0.1),
    "fsrcnn": (24_683, 22.74, 27.150, 30.066, 0.8397, 1530.2, 0.08),
}
GPU_MS = {"bicubic": 0.52, "bicubic_pp": 1.17, "abpn": 4.9, "rfdn": 11.8, "espcn": 1.6, "fsrcnn": 2.3}


def result(label: str, dataset: str = "set5", device: dict | None = None,
           images: list[str] = SET5) -> dict:
    """A result JSON of ``MODELS[label]`` on ``dataset`` x3 (CPU runtime unless ``device``)."""
    params, gmacs, rgb, y, ssim, ms, _ = MODELS[label]
    base = "bicubic" if label == "bicubic" else "bicubic_pp"
    kwargs = {} if device is None else {"device": device}
    runtime = GPU_MS[label] if device is not None else ms
    data = make_result(label, model=base, dataset=dataset, psnr_rgb=rgb, psnr_y=y,
                       runtime_ms=runtime, images=images, **kwargs)
    macs = int(gmacs * 1e9)
    data.update(model=label, ssim_y=ssim, params=params,
                flops={"macs": macs, "flops": 2 * macs, "input": [1, 3, 720, 1280]})
    for row in data["per_image"]:  # the set mean is recomputed from these (eval.report.resultfiles)
        row["ssim_y"] = ssim
    if label != "bicubic":  # simulated outputs: no weights of this pipeline's or the authors'
        data["weights_origin"] = {"kind": "user"}
    return data


def photo(name: str, size: tuple[int, int]) -> np.ndarray:
    """An embedded scikit-image photograph, centre-cropped to ``size`` (H, W), uint8 RGB."""
    img = getattr(skimage.data, name)()
    h, w = size
    top, left = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return np.ascontiguousarray(img[top:top + h, left:left + w, :3])


def bicubic_x3(gt: np.ndarray) -> np.ndarray:
    """Pillow bicubic x3 down then up: the bicubic baseline's output for this ground truth."""
    h, w = gt.shape[:2]
    lr = Image.fromarray(gt).resize((w // 3, h // 3), Image.BICUBIC)
    return np.asarray(lr.resize((w, h), Image.BICUBIC))


def write_images(sr_root, dataset: str, labels, size: tuple[int, int], seed: int = 0) -> None:
    """Ground truth under ``gt_dir`` and every label's SR PNGs under ``sr_dir`` (x3, ntire23)."""
    rng = np.random.default_rng(seed)
    for stem, name in zip(SET5, PHOTOS):
        gt = photo(name, size)
        save_png(gt_dir(dataset, 3, "ntire23") / f"{stem}.png", gt)
        bic = bicubic_x3(gt).astype(np.float64)
        for label in labels:
            share = MODELS[label][-1]
            noise = 0 if share == 0 else rng.normal(0, 1.5, gt.shape)
            out = np.clip(np.rint(bic + share * (gt - bic) + noise), 0, 255).astype(np.uint8)
            save_png(sr_dir(sr_root, label, dataset, 3, "ntire23") / f"{stem}.png", out)


def build_inputs(root, size: tuple[int, int] = (96, 120), gpu_set: bool = True) -> tuple:
    """Results and images for set5 (CPU FP32) and, with ``gpu_set``, set14 (GPU FP16 on an H200).

    Set14 has no saved images for fsrcnn (a model missing from the crops). Returns
    (results folder, SR root, {dataset: [labels]}).
    """
    results, sr_root = root / "results", root / "sr"
    labels = {"set5": list(MODELS)}
    if gpu_set:
        labels["set14"] = list(MODELS)
    for dataset, names in labels.items():
        device = H200 if dataset == "set14" else None
        for label in names:
            write_result(results, result(label, dataset, device))
        with_images = [lb for lb in names if not (dataset == "set14" and lb == "fsrcnn")]
        write_images(sr_root, dataset, with_images, size, seed=len(dataset))
    return results, sr_root, labels

"""Protocol constants, defined once: the NTIRE 2023 RTSR facts and this project's fixed names.

Facts and sources: ``../shared/PROTOCOL.md``; what each number means: README "What every number means".
"""
from __future__ import annotations

SCALES = (2, 3, 4)  # scales the built-in models support; x3 (720p -> 4K, track 2) is the primary one
DEGRADATIONS = ("ntire23", "classic")  # LR-making recipes (datasets.degrade): challenge / published tables
JPEG_QUALITY = 90  # ntire23 degradation: Pillow JPEG quality, 4:2:0
# HR -> GT crop to a multiple of the scale: ntire23 centre-crops as the challenge's prepare_data.py
# (torchvision: offset int(round((H - h) / 2.0)), half to even); classic as MATLAB's modcrop (offset 0)
CROP_CENTER = "center_torchvision"
CROP_TOP_LEFT = "top_left_modcrop"
BICUBIC = "bicubic"  # the reference upscaler's model name: P_bic of the score comes from its result

GPU_PROTOCOL = "ntire23-gpu-fp16"  # the challenge's runtime procedure (eval.runtime), the only scored one
CPU_PROTOCOL = "cpu-fp32"  # the labelled CPU fallback; never comparable with GPU figures
OUTPUT_HW = {"portrait": (3840, 2160), "landscape": (2160, 3840)}  # (H, W) of 4K out; input: // S
ORIENTATION = "portrait"  # runtime_demo.py's tensor: randn(1, 3, 3840 // S, 2160 // S)
GPU_WARMUP, GPU_PASSES = 50, 244
FP16_TOLERANCE_DB = 0.05  # dB RGB PSNR drop of FP16 vs FP32 output that is flagged (evaluator, runtime variants)
CPU_WARMUP, CPU_PASSES = 1, 5
LR_720P = (720, 1280)  # (H, W) of the LR frame GFLOPs are quoted for

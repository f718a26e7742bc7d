"""Runtime block schema (CPU fallback), variant refusals, and the CUDA protocol on a GPU."""

import pytest
import torch

from eval.errors import EvalError
from eval.gpu_suite.runtime_variants import build_runner
from eval.runtime import RuntimeUnavailable, input_shape, measure_runtime, summarize
from models import create_model


def test_input_shapes_are_protocol():
    assert input_shape(3) == [1, 3, 1280, 720]  # official: portrait, H x W = 1280 x 720
    assert input_shape(2) == [1, 3, 1920, 1080]
    assert input_shape(4) == [1, 3, 960, 540]
    assert input_shape(3, "landscape") == [1, 3, 720, 1280]
    with pytest.raises(EvalError, match="orientation 'square' unknown"):
        input_shape(3, "square")


def test_direct_call_unless_padding_needed():
    rt = measure_runtime(create_model("bicubic_pp", scale=3), 3, "cpu", warmup=0, passes=1,
                         lr_hw=(16, 24))
    assert (rt["call"], rt["padded"], rt["toy_input"], rt["orientation"]) == ("direct", False, True, None)
    odd = measure_runtime(create_model("bicubic_pp", scale=3), 3, "cpu", warmup=0, passes=1, lr_hw=(15, 24))
    assert (odd["call"], odd["padded"]) == ("pad_and_crop", True)
    assert odd["input_shape"] == [1, 3, 15, 24] and odd["grad_mode"] == "no_grad"


def test_summarize_exact():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert (s["mean_ms"], s["median_ms"], s["std_ms"]) == (2.5, 2.5, pytest.approx(1.118034, abs=1e-6))
    assert s["p10_ms"] == pytest.approx(1.3) and s["p90_ms"] == pytest.approx(3.7)


def test_cpu_fallback_block_and_model_untouched():
    model = create_model("bicubic_pp", scale=4)
    rt = measure_runtime(model, 4, "cpu", warmup=0, passes=1)
    assert rt["protocol"] == "cpu-fp32" and rt["device_type"] == "cpu"
    assert rt["input_shape"] == [1, 3, 960, 540] and rt["passes"] == 1 and rt["warmup"] == 0
    assert rt["orientation"] == "portrait" and rt["call"] == "direct" and not rt["toy_input"]
    assert rt["mean_ms"] > 0 and rt["peak_mem_mb"] is None and rt["device"]["cuda"] is None
    assert next(model.parameters()).dtype == torch.float32


def test_unknown_variant_and_cuda_only_variants_on_cpu():
    model = create_model("bicubic", scale=3)
    with pytest.raises(EvalError, match="unknown variant 'fastest'"):
        build_runner("fastest", model, "cpu", torch.randn(1, 3, 8, 8))
    with pytest.raises(RuntimeUnavailable, match="cuda_graphs needs CUDA"):
        build_runner("cuda_graphs", model, "cpu", torch.randn(1, 3, 8, 8))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_protocol_block():
    rt = measure_runtime(create_model("bicubic_pp", scale=3), 3, "cuda", warmup=2, passes=3)
    assert rt["protocol"] == "ntire23-gpu-fp16" and rt["input_shape"] == [1, 3, 1280, 720]
    assert rt["peak_mem_mb"] > 0 and rt["device"]["name"]

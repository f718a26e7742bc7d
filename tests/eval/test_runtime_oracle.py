"""The protocol input tensor equals the one the challenge's own ``runtime_demo.py`` builds.

The script cannot be imported (it needs torch_tensorrt and the challenge repository's packages), so
the oracle reads its source (the ``ntire23_official`` fixture's folder): the ``--crop-size`` default
and the ``torch.randn`` call's shape.
"""
import ast

import pytest

from eval.runtime import input_shape


def crop_size_default(tree: ast.Module) -> list[int]:
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
                and node.args and getattr(node.args[0], "value", None) == "--crop-size"):
            return next(ast.literal_eval(k.value) for k in node.keywords if k.arg == "default")
    raise AssertionError("--crop-size not found in runtime_demo.py")


def randn_shape(tree: ast.Module, scale: int, crop: list[int]) -> list[int]:
    """Evaluate the shape tuple of the script's ``torch.randn((...))`` with args.crop_size/args.scale bound."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "randn":
            expr = ast.Expression(node.args[0])
            args = type("Args", (), {"crop_size": crop, "scale": scale})
            return list(eval(compile(expr, "runtime_demo.py", "eval"), {"args": args}))
    raise AssertionError("torch.randn not found in runtime_demo.py")


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_protocol_tensor_is_the_official_one(ntire23_official, scale):
    tree = ast.parse((ntire23_official / "runtime_demo.py").read_text())
    crop = crop_size_default(tree)
    assert crop == [3840, 2160]
    assert input_shape(scale) == randn_shape(tree, scale, crop)
    assert input_shape(3) == [1, 3, 1280, 720]

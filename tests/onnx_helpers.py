"""Tiny ONNX models written on the fly for the provider tests (needs ``onnx``)."""

from __future__ import annotations

from pathlib import Path

from onnx import TensorProto, helper


def sigmoid_model(path: Path) -> Path:
    """An (N, 3, 8, 8) -> (N, 3, 8, 8) Sigmoid model written to ``path``; returns ``path``."""
    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["input"], ["prob"])],
        "s",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 3, 8, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path

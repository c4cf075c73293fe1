"""Export a trained checkpoint to ONNX, check it against PyTorch, write the model spec (and card).

The ONNX graph: input ``input`` float32 ``(N, 3, S, S)`` RGB in [0, 1] (normalisation inside),
output ``output`` float32 ``(N, 1, S, S)``, already a probability (sigmoid inside); opset 17,
dynamic batch, TorchScript exporter (``dynamo=False``: works offline with onnx 1.17).

Example::

    from streamseg.train.export import export_checkpoint
    report = export_checkpoint("runs/dlmv-256/best.pt", "models/dlmv-256.onnx", name="dlmv", size=256)
    report.max_abs_diff   # ONNX Runtime vs PyTorch on real images
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from streamseg.errors import OutputError
from streamseg.train.models import Probability

OPSET = 17


@dataclass
class ExportReport:
    """What :func:`export_model` did: files written, PyTorch/ONNX agreement and CPU latency."""

    onnx_path: Path
    spec_path: Path | None
    max_abs_diff: float
    check_images: int
    latency_ms: float | None = None
    extra: dict = field(default_factory=dict)


def export_onnx(model: torch.nn.Module, path: str | Path, size: int) -> Path:
    """Write ``Probability(model)`` as ONNX (see module docstring). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapped = Probability(model).eval()
    dummy = torch.rand(1, 3, size, size)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is chosen on purpose
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # imported graphs read shapes while traced: sizes are fixed
            warnings.simplefilter("ignore", UserWarning)  # shape-inference notes from the exporter
            torch.onnx.export(
                wrapped, (dummy,), str(path), opset_version=OPSET, input_names=["input"], output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True, dynamo=False,
            )
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
    import onnx

    onnx.checker.check_model(str(path))
    return path


def compare(model: torch.nn.Module, onnx_path: str | Path, batch: np.ndarray) -> float:
    """Max abs difference between PyTorch and ONNX Runtime probabilities on ``batch`` (RGB float32 (N, 3, S, S) in [0, 1])."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(["output"], {"input": batch.astype(np.float32)})[0]
    with torch.no_grad():
        want = Probability(model).eval()(torch.from_numpy(batch.astype(np.float32))).numpy()
    return float(np.abs(got - want).max())


def latency_ms(onnx_path: str | Path, size: int, threads: int = 0, runs: int = 20) -> float:
    """Median ONNX Runtime CPU latency (ms) of one ``size`` x ``size`` frame, batch 1."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    for _ in range(3):
        sess.run(None, {"input": x})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, {"input": x})
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def spec_dict(name: str, description: str, onnx_file: str, size: int, card: str | None) -> dict:
    """The model spec the ONNX runtime reads (JSON beside the ``.onnx`` file)."""
    return {
        "name": name,
        "description": description,
        "file": onnx_file,
        "input_name": "input",
        "input_size": [size, size],
        "color_order": "RGB",
        "scale": 255.0,
        "mean": None,
        "std": None,
        "output_index": 0,
        "output_channel": 0,
        "output": "probability",
        "dynamic_batch": True,
        "card": card,
    }


def write_spec(path: str | Path, spec: dict) -> Path:
    """Write ``spec`` as indented JSON."""
    path = Path(path)
    try:
        path.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
    return path


def check_batch(images_bgr: list[np.ndarray], size: int) -> np.ndarray:
    """BGR uint8 frames of any size -> RGB float32 (N, 3, size, size) in [0, 1] (squashed like the runtime)."""
    from streamseg.train.validate import squash, to_batch

    return to_batch([squash(im, size) for im in images_bgr])


def export_model(
    model: torch.nn.Module,
    onnx_path: str | Path,
    size: int,
    check_images: list[np.ndarray],
    name: str | None = None,
    description: str = "",
    card: str | None = None,
    measure_latency: bool = True,
) -> ExportReport:
    """Export ``model``, compare with PyTorch on ``check_images`` (BGR uint8), write the spec when ``name`` is given."""
    onnx_path = Path(onnx_path)
    model = model.eval()
    export_onnx(model, onnx_path, size)
    batch = check_batch(check_images, size)
    diff = max(compare(model, onnx_path, batch[i : i + 4]) for i in range(0, len(batch), 4))
    lat = latency_ms(onnx_path, size) if measure_latency else None
    spec_path = None
    if name:
        spec_path = write_spec(onnx_path.with_suffix(".json"), spec_dict(name, description, onnx_path.name, size, card))
    return ExportReport(onnx_path, spec_path, diff, len(check_images), lat)

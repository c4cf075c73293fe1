"""MediaPipe's bundled TFLite models as trainable PyTorch modules.

The mediapipe wheel ships person-segmentation models (Apache-2.0) whose features see a person in
a scene, which a model trained from scratch on a few thousand skin images cannot. This module
reads such a ``.tflite`` flatbuffer with the ``tflite`` package and builds an equivalent PyTorch
graph, every weight an ``nn.Parameter``, so it can be fine-tuned for skin and exported to ONNX.
Nothing is downloaded: the files come from the installed ``mediapipe`` package.

What the translation has to get right (and the parity tests check):

* TFLite is NHWC, PyTorch NCHW: convolution weights ``OHWI`` -> ``OIHW``, depthwise ``1HWC`` ->
  ``C1HW``, paddings and axes moved accordingly.
* TF ``SAME`` padding is asymmetric for stride 2 on even sizes (the extra row/column goes
  after), so it is an explicit ``F.pad`` before the convolution, never PyTorch's ``padding=``.
* fp16 weights stored behind ``DEQUANTIZE`` ops become float32 parameters.
* MediaPipe's custom op ``Convolution2DTransposeBias`` is a transposed convolution with bias.

Inputs are RGB float32 ``(N, 3, 256, 256)`` in ``[0, 1]`` (what MediaPipe feeds these models);
:class:`TfliteGraph` returns the chosen output tensor in NCHW, for the segmentation models a
logit ``(N, 1, 256, 256)``.

Example:
    >>> import torch
    >>> g = TfliteGraph.from_file(bundled_model_path("selfie"))  # doctest: +SKIP
    >>> g(torch.rand(1, 3, 256, 256)).shape                       # doctest: +SKIP
    torch.Size([1, 1, 256, 256])
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: bundled models: name -> (path under mediapipe/modules, output to keep; None = the only one)
BUNDLED = {
    "selfie": ("selfie_segmentation/selfie_segmentation.tflite", None),
    "selfie-landscape": ("selfie_segmentation/selfie_segmentation_landscape.tflite", None),
    # BlazePose GHUM full: its 256x256x1 output is the person-segmentation logit
    "pose": ("pose_landmark/pose_landmark_full.tflite", (1, 256, 256, 1)),
}

_FLOAT32, _FLOAT16, _INT32 = 0, 1, 2
_ACT_NONE, _ACT_RELU, _ACT_RELU_N1_TO_1, _ACT_RELU6 = 0, 1, 2, 3
_SAME, _VALID = 0, 1


class TfliteImportError(RuntimeError):
    """The model uses something this importer does not translate."""


def bundled_model_path(name: str) -> Path:
    """Path of a model bundled in the installed mediapipe wheel (``BUNDLED`` names).

    Raises:
        TfliteImportError: mediapipe is not installed or does not bundle the file.
    """
    if name not in BUNDLED:
        raise TfliteImportError(f"unknown bundled model {name!r}; known: {', '.join(BUNDLED)}")
    try:
        import importlib.util

        spec = importlib.util.find_spec("mediapipe")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise TfliteImportError("mediapipe is not installed (pip install 'mediapipe==0.10.21')")
    path = Path(list(spec.submodule_search_locations)[0]) / "modules" / BUNDLED[name][0]
    if not path.is_file():
        raise TfliteImportError(f"this mediapipe does not bundle {BUNDLED[name][0]} (0.10.21 does)")
    return path


@dataclass
class Op:
    """One TFLite operator, reduced to what the PyTorch graph needs."""

    kind: str
    inputs: list[int]
    output: int
    options: dict = field(default_factory=dict)


def _op_name(model, op, names: dict[int, str]) -> str:
    """``CONV_2D``, ``CUSTOM:<code>``, ...; ``names``: builtin code -> name (built once per parse)."""
    oc = model.OperatorCodes(op.OpcodeIndex())
    code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
    name = names.get(code, str(code))
    if name == "CUSTOM":
        name = "CUSTOM:" + oc.CustomCode().decode()
    return name


def _options(kind: str, op) -> dict:
    import tflite

    table = op.BuiltinOptions()

    def load(cls):
        o = cls()
        o.Init(table.Bytes, table.Pos)
        return o

    if kind == "CONV_2D":
        o = load(tflite.Conv2DOptions)
        return dict(padding=o.Padding(), stride=(o.StrideH(), o.StrideW()),
                    dilation=(o.DilationHFactor(), o.DilationWFactor()), act=o.FusedActivationFunction())
    if kind == "DEPTHWISE_CONV_2D":
        o = load(tflite.DepthwiseConv2DOptions)
        return dict(padding=o.Padding(), stride=(o.StrideH(), o.StrideW()),
                    dilation=(o.DilationHFactor(), o.DilationWFactor()), act=o.FusedActivationFunction())
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = load(tflite.Pool2DOptions)
        return dict(padding=o.Padding(), stride=(o.StrideH(), o.StrideW()),
                    kernel=(o.FilterHeight(), o.FilterWidth()), act=o.FusedActivationFunction())
    if kind in ("ADD", "MUL"):
        if table is None:
            return dict(act=_ACT_NONE)
        o = load(tflite.AddOptions if kind == "ADD" else tflite.MulOptions)
        return dict(act=o.FusedActivationFunction())
    if kind == "RESIZE_BILINEAR":
        o = load(tflite.ResizeBilinearOptions)
        return dict(align_corners=bool(o.AlignCorners()), half_pixel=bool(o.HalfPixelCenters()))
    if kind == "RESHAPE":
        if table is None:
            return {}
        o = load(tflite.ReshapeOptions)
        return dict(new_shape=o.NewShapeAsNumpy().tolist() if o.NewShapeLength() else None)
    if kind == "CONCATENATION":
        o = load(tflite.ConcatenationOptions)
        return dict(axis=o.Axis(), act=o.FusedActivationFunction())
    if kind == "MEAN":
        o = load(tflite.ReducerOptions)
        return dict(keep_dims=bool(o.KeepDims()))
    if kind == "FULLY_CONNECTED":
        o = load(tflite.FullyConnectedOptions)
        return dict(act=o.FusedActivationFunction(), keep_num_dims=bool(o.KeepNumDims()))
    if kind == "DEPTH_TO_SPACE":
        o = load(tflite.DepthToSpaceOptions)
        return dict(block=o.BlockSize())
    if kind == "CUSTOM:Convolution2DTransposeBias":
        # custom_initial_data is a raw TfLiteTransposeConvParams: {padding, stride_w, stride_h}
        raw = op.CustomOptionsAsNumpy().tobytes()
        padding, sw, sh = struct.unpack("<iii", raw[:12])
        return dict(padding=_VALID if padding == 2 else _SAME, stride=(sh, sw))
    return {}


_SUPPORTED = {
    "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL", "RELU",
    "RELU6", "HARD_SWISH", "LOGISTIC", "RESIZE_BILINEAR", "PAD", "DEQUANTIZE",
    "CUSTOM:Convolution2DTransposeBias",
    # the face, palm and hand-landmark detectors (parse_graph / TfliteMultiGraph)
    "RESHAPE", "CONCATENATION", "MEAN", "FULLY_CONNECTED", "PRELU", "DEPTH_TO_SPACE",
}


def _read_tensors(path: str | Path, densify: bool) -> tuple[Any, Any, dict[int, tuple], dict[int, np.ndarray]]:
    """Read a ``.tflite`` file's first subgraph: its tensors' shapes and constant buffers.

    Args:
        path: the ``.tflite`` file.
        densify: expand sparse constants (``DENSIFY`` inputs) to dense arrays; :func:`parse`
            leaves them as stored.

    Returns:
        ``(model, subgraph, shapes, constants)``: the flatbuffer model and subgraph, NHWC shapes
        per tensor index, and float32 (int32 for int32 tensors) constants in TFLite layout.
    """
    import tflite

    buf = Path(path).read_bytes()
    model = tflite.Model.GetRootAsModel(buf, 0)
    g = model.Subgraphs(0)
    shapes: dict[int, tuple] = {}
    consts: dict[int, np.ndarray] = {}
    for t in range(g.TensorsLength()):
        tensor = g.Tensors(t)
        shapes[t] = tuple(tensor.ShapeAsNumpy().tolist()) if tensor.ShapeLength() else ()
        data = model.Buffers(tensor.Buffer()).DataAsNumpy() if tensor.Buffer() else 0
        if isinstance(data, np.ndarray) and data.size:
            dtype = {_FLOAT32: np.float32, _FLOAT16: np.float16, _INT32: np.int32}.get(tensor.Type())
            if dtype is None:
                raise TfliteImportError(f"tensor {t} has unsupported type {tensor.Type()}")
            values = data.view(dtype)
            if densify and tensor.Sparsity() is not None:
                values = _densify(tensor.Sparsity(), values, shapes[t])
            consts[t] = values.reshape(shapes[t]).astype(np.float32 if dtype != np.int32 else np.int32)
    return model, g, shapes, consts


def _read_ops(model: Any, g: Any, consts: dict[int, np.ndarray], passthrough: tuple[str, ...]) -> list[Op]:
    """The subgraph's operators in order, as :class:`Op`.

    Ops whose kind is in ``passthrough`` (``DEQUANTIZE``, ``DENSIFY``) are folded away: their
    output becomes an alias of their constant input in ``consts`` (updated in place).
    """
    import tflite

    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    ops: list[Op] = []
    for i in range(g.OperatorsLength()):
        op = g.Operators(i)
        kind = _op_name(model, op, names)
        ins = [op.Inputs(j) for j in range(op.InputsLength())]
        if kind in passthrough:
            consts[op.Outputs(0)] = consts[ins[0]]
            continue
        ops.append(Op(kind, ins, op.Outputs(0), _options(kind, op) if kind in _SUPPORTED else {}))
    return ops


def parse(path: str | Path, output_shape: tuple[int, ...] | None = None) -> tuple[list[Op], dict[int, np.ndarray], int, int, dict[int, tuple]]:
    """Parse a ``.tflite`` file into ops, float32 constants, the input and the kept output.

    Only the ops the chosen output depends on are kept (the pose model's landmark heads go).

    Args:
        path: the ``.tflite`` file.
        output_shape: NHWC shape of the output to keep; ``None`` takes the graph's only output.

    Returns:
        ``(ops, constants, input_index, output_index, shapes)``; constants are float32 or int32
        arrays in TFLite layout keyed by tensor index; shapes are NHWC per tensor index.
    """
    model, g, shapes, consts = _read_tensors(path, densify=False)
    outputs = [g.Outputs(i) for i in range(g.OutputsLength())]
    if output_shape is None:
        if len(outputs) != 1:
            raise TfliteImportError(f"{Path(path).name} has {len(outputs)} outputs; name one by shape")
        out = outputs[0]
    else:
        matches = [o for o in outputs if shapes[o] == tuple(output_shape)]
        if len(matches) != 1:
            raise TfliteImportError(f"no single output of shape {output_shape} in {Path(path).name}")
        out = matches[0]
    ops = _read_ops(model, g, consts, ("DEQUANTIZE",))
    # keep only what the output needs
    producer = {o.output: o for o in ops}
    needed, stack, keep = set(), [out], set()
    while stack:
        t = stack.pop()
        if t in needed:
            continue
        needed.add(t)
        if t in producer:
            keep.add(id(producer[t]))
            stack.extend(i for i in producer[t].inputs if i >= 0 and i not in consts)
    ops = [o for o in ops if id(o) in keep]
    unknown = sorted({o.kind for o in ops} - _SUPPORTED)
    if unknown:
        raise TfliteImportError(f"unsupported TFLite ops: {', '.join(unknown)}")
    return ops, consts, g.Inputs(0), out, shapes


def _same_pad(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TF 'SAME' padding (before, after) for one axis: the odd pixel goes after."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _activation(x: torch.Tensor, act: int) -> torch.Tensor:
    if act == _ACT_NONE:
        return x
    if act == _ACT_RELU:
        return F.relu(x)
    if act == _ACT_RELU6:
        return F.relu6(x)
    if act == _ACT_RELU_N1_TO_1:
        return x.clamp(-1.0, 1.0)
    raise TfliteImportError(f"unsupported fused activation {act}")


def _resize_asymmetric(x: torch.Tensor, oh: int, ow: int) -> torch.Tensor:
    """TF's legacy bilinear resize (no half-pixel centres, no corner alignment)."""
    _, _, h, w = x.shape

    def axis(n_in: int, n_out: int):
        src = torch.arange(n_out, dtype=torch.float32) * (n_in / n_out)
        i0 = src.floor().long().clamp(max=n_in - 1)
        i1 = (i0 + 1).clamp(max=n_in - 1)
        return i0, i1, (src - i0.float())

    y0, y1, fy = axis(h, oh)
    x0, x1, fx = axis(w, ow)
    rows = x[:, :, y0] * (1 - fy).view(1, 1, -1, 1) + x[:, :, y1] * fy.view(1, 1, -1, 1)
    return rows[..., x0] * (1 - fx) + rows[..., x1] * fx


class TfliteGraph(nn.Module):
    """A parsed TFLite graph run in PyTorch (NCHW), every weight trainable.

    Args:
        ops, consts, input_index, output_index, shapes: what :func:`parse` returns.
    """

    def __init__(self, ops: list[Op], consts: dict[int, np.ndarray], input_index: int,
                 output_index: int, shapes: dict[int, tuple]) -> None:
        super().__init__()
        self.ops = ops
        self.input_index = input_index
        self.output_index = output_index
        self.shapes = shapes
        self.params = nn.ParameterDict()
        self.ints: dict[int, list[int]] = {}
        for op in ops:
            for j, t in enumerate(op.inputs):
                if t < 0 or t not in consts:
                    continue
                c = consts[t]
                if c.dtype == np.int32:
                    self.ints[t] = c.reshape(-1).tolist()
                    continue
                if op.kind == "CONV_2D" and j == 1:
                    w = c.transpose(0, 3, 1, 2)  # OHWI -> OIHW
                elif op.kind == "DEPTHWISE_CONV_2D" and j == 1:
                    w = c.transpose(3, 0, 1, 2)  # 1HWC -> C1HW
                elif op.kind == "CUSTOM:Convolution2DTransposeBias" and j == 1:
                    w = c.transpose(3, 0, 1, 2)  # OHWI -> IOHW (ConvTranspose layout)
                elif c.ndim == 4:
                    w = c.transpose(0, 3, 1, 2)  # an NHWC constant operand
                else:
                    w = c
                self.params[str(t)] = nn.Parameter(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)))

    @classmethod
    def from_file(cls, path: str | Path, output_shape: tuple[int, ...] | None = None) -> "TfliteGraph":
        """Build from a ``.tflite`` file (see :func:`parse`)."""
        return cls(*parse(path, output_shape))

    @classmethod
    def bundled(cls, name: str) -> "TfliteGraph":
        """Build one of mediapipe's bundled models by :data:`BUNDLED` name."""
        return cls.from_file(bundled_model_path(name), BUNDLED[name][1])

    def _w(self, t: int) -> torch.Tensor:
        return self.params[str(t)]

    def _pads(self, x: torch.Tensor, opt: dict, k: tuple[int, int]) -> tuple[int, int, int, int]:
        """TF padding (left, right, top, bottom) of ``x`` for a window ``k``."""
        if opt["padding"] != _SAME:
            return 0, 0, 0, 0
        (sh, sw), (dh, dw) = opt["stride"], opt.get("dilation", (1, 1))
        # int(): spatial sizes are fixed per graph, so the exported ONNX has constant pads, not shape arithmetic
        top, bottom = _same_pad(int(x.shape[2]), k[0], sh, dh)
        left, right = _same_pad(int(x.shape[3]), k[1], sw, dw)
        return left, right, top, bottom

    def _conv_pad(self, x: torch.Tensor, opt: dict, k: tuple[int, int], value: float = 0.0) -> torch.Tensor:
        pads = self._pads(x, opt, k)
        return F.pad(x, pads, value=value) if any(pads) else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` RGB in [0, 1] -> the kept output in NCHW (a logit for segmentation)."""
        return self._run(x)[self.output_index]

    def _run(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        """Every op on ``x``; returns tensor index -> value (4-D ones NCHW, others in TFLite layout)."""
        env: dict[int, torch.Tensor] = {self.input_index: x}

        def arg(t: int) -> torch.Tensor:
            return env[t] if t in env else self._w(t)

        for op in self.ops:
            o, ins = op.options, op.inputs
            if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                w = self._w(ins[1])
                b = self._w(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
                h = arg(ins[0])
                left, right, top, bottom = self._pads(h, o, (w.shape[2], w.shape[3]))
                if left == right and top == bottom:  # symmetric: the convolution pads (one ONNX Conv)
                    pad = (top, left)
                else:  # TF's stride-2 'SAME' puts the extra row/column after
                    h, pad = F.pad(h, (left, right, top, bottom)), (0, 0)
                groups = h.shape[1] if op.kind == "DEPTHWISE_CONV_2D" else 1
                y = F.conv2d(h, w, b, stride=o["stride"], padding=pad, dilation=o["dilation"], groups=groups)
                y = _activation(y, o["act"])
            elif op.kind == "CUSTOM:Convolution2DTransposeBias":
                w, b = self._w(ins[1]), self._w(ins[2])
                y = F.conv_transpose2d(arg(ins[0]), w, b, stride=o["stride"])
                if o["padding"] == _SAME:  # crop to in * stride, TF style (extra goes after)
                    ih, iw = (int(v) for v in arg(ins[0]).shape[2:])
                    th, tw = y.shape[2] - ih * o["stride"][0], y.shape[3] - iw * o["stride"][1]
                    y = y[:, :, th // 2: y.shape[2] - (th - th // 2), tw // 2: y.shape[3] - (tw - tw // 2)]
            elif op.kind == "AVERAGE_POOL_2D":
                h = arg(ins[0])
                parsed = self.shapes.get(ins[0], ())
                if len(parsed) == 4 and o["kernel"] == tuple(parsed[1:3]):  # global pool (at any input size)
                    y = h.mean(dim=(2, 3), keepdim=True)
                else:
                    ones = torch.ones_like(h[:, :1])
                    hp, op1 = self._conv_pad(h, o, o["kernel"]), self._conv_pad(ones, o, o["kernel"])
                    y = F.avg_pool2d(hp, o["kernel"], o["stride"]) / F.avg_pool2d(op1, o["kernel"], o["stride"])
                y = _activation(y, o["act"])
            elif op.kind == "MAX_POOL_2D":
                h = self._conv_pad(arg(ins[0]), o, o["kernel"], value=float("-inf"))
                y = _activation(F.max_pool2d(h, o["kernel"], o["stride"]), o["act"])
            elif op.kind == "ADD":
                y = _activation(arg(ins[0]) + arg(ins[1]), o["act"])
            elif op.kind == "MUL":
                y = _activation(arg(ins[0]) * arg(ins[1]), o["act"])
            elif op.kind == "RELU":
                y = F.relu(arg(ins[0]))
            elif op.kind == "RELU6":
                y = F.relu6(arg(ins[0]))
            elif op.kind == "HARD_SWISH":
                y = F.hardswish(arg(ins[0]))
            elif op.kind == "LOGISTIC":
                y = torch.sigmoid(arg(ins[0]))
            elif op.kind == "RESIZE_BILINEAR":
                oh, ow = self.ints[ins[1]]
                h = arg(ins[0])
                parsed = self.shapes.get(ins[0], ())
                if len(parsed) == 4 and tuple(int(v) for v in h.shape[2:]) != tuple(parsed[1:3]):
                    # another input size than the file's: keep the file's scale factor
                    oh, ow = int(h.shape[2]) * oh // parsed[1], int(h.shape[3]) * ow // parsed[2]
                if o["align_corners"]:
                    y = F.interpolate(h, size=(oh, ow), mode="bilinear", align_corners=True)
                elif o["half_pixel"]:
                    y = F.interpolate(h, size=(oh, ow), mode="bilinear", align_corners=False)
                else:
                    y = _resize_asymmetric(h, oh, ow)
            elif op.kind == "PAD":
                p = self.ints[ins[1]]  # NHWC pairs: [n0, n1, h0, h1, w0, w1, c0, c1]
                y = F.pad(arg(ins[0]), (p[4], p[5], p[2], p[3], p[6], p[7]))
            elif op.kind == "RESHAPE":
                h = _nhwc(arg(ins[0]))
                shape = o.get("new_shape") or self.ints[ins[1]]
                y = h.reshape(h.shape[0], *shape[1:])  # the batch stays dynamic
                y = y.permute(0, 3, 1, 2) if y.dim() == 4 else y
            elif op.kind == "CONCATENATION":
                parts = [arg(t) for t in ins]
                axis = o["axis"] % parts[0].dim()
                y = _activation(torch.cat(parts, dim=_nchw_axis(axis, parts[0].dim())), o["act"])
            elif op.kind == "MEAN":
                h = arg(ins[0])
                axes = [_nchw_axis(a % h.dim(), h.dim()) for a in self.ints[ins[1]]]
                y = h.mean(dim=axes, keepdim=o["keep_dims"])
            elif op.kind == "FULLY_CONNECTED":
                h = _nhwc(arg(ins[0]))
                h = h.reshape(h.shape[0], -1) if h.dim() != 2 else h
                b = self._w(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
                y = _activation(F.linear(h, self._w(ins[1]), b), o["act"])
            elif op.kind == "PRELU":
                h, alpha = arg(ins[0]), self._w(ins[1])
                if h.dim() == 4 and alpha.numel() == h.shape[1]:
                    y = F.prelu(h, alpha.reshape(-1))
                else:
                    a = alpha.permute(0, 3, 1, 2) if alpha.dim() == 4 else alpha
                    y = F.relu(h) - a * F.relu(-h)
            elif op.kind == "DEPTH_TO_SPACE":
                h, b = arg(ins[0]), o["block"]
                n, c, hh, ww = h.shape
                # TF's order is depth-column-row (ONNX "DCR"): channel (i * b + j) * C' + c
                y = h.reshape(n, b, b, c // (b * b), hh, ww).permute(0, 3, 4, 1, 5, 2)
                y = y.reshape(n, c // (b * b), hh * b, ww * b)
            else:  # pragma: no cover - parse() refuses unknown ops
                raise TfliteImportError(op.kind)
            env[op.output] = y
        return env


class SegmentationLogit(nn.Module):
    """Wraps an imported segmentation graph so it returns trainable logits ``(N, 1, H, W)``.

    The selfie model ends in a sigmoid; training wants the logit before it, so the last op is
    dropped when it is a ``LOGISTIC``. ``temperature`` divides the final convolution's weights and
    bias once, at construction: the pose branch's logits reach +-1000 on ordinary pictures, where
    the sigmoid is flat and fine-tuning barely moves (val mIoU 0.24 after 2,000 images at T=1).
    """

    def __init__(self, graph: TfliteGraph, temperature: float = 1.0) -> None:
        super().__init__()
        if graph.ops and graph.ops[-1].kind == "LOGISTIC":
            last = graph.ops.pop()
            graph.output_index = last.inputs[0]
        if temperature != 1.0:
            final = graph.ops[-1]
            if final.kind not in ("CONV_2D", "CUSTOM:Convolution2DTransposeBias"):
                raise TfliteImportError(f"temperature needs a final convolution, got {final.kind}")
            with torch.no_grad():
                for t in final.inputs[1:]:
                    if str(t) in graph.params:
                        graph.params[str(t)].div_(temperature)
        self.graph = graph

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.graph(x)


# --------------------------------------------------------------------------- graphs with several outputs

def _nhwc(x: torch.Tensor) -> torch.Tensor:
    """A 4-D NCHW tensor in TFLite's NHWC order (before a reshape or a dense layer); others as they are."""
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def _nchw_axis(axis: int, rank: int) -> int:
    """A TFLite (NHWC) axis of a rank-``rank`` tensor as the axis of the tensor held here."""
    return (0, 2, 3, 1)[axis] if rank == 4 else axis


def _index_vector(dm, which: str) -> np.ndarray:
    """``ArraySegments`` / ``ArrayIndices`` of a TFLite ``DimensionMetadata`` as an int array."""
    import tflite

    kind = getattr(dm, which + "Type")()
    table = getattr(dm, which)()
    cls = {1: tflite.Int32Vector, 2: tflite.Uint16Vector, 3: tflite.Uint8Vector}.get(kind)
    if cls is None or table is None:
        raise TfliteImportError(f"unsupported sparse index vector type {kind}")
    v = cls()
    v.Init(table.Bytes, table.Pos)
    return v.ValuesAsNumpy().astype(np.int64)


def _densify(sparsity, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A sparse TFLite constant (dense and CSR dimensions, no blocks) -> dense array of ``shape``."""
    order = sparsity.TraversalOrderAsNumpy().tolist() if sparsity.TraversalOrderLength() else list(range(len(shape)))
    if sparsity.BlockMapLength() or order != list(range(len(shape))):
        raise TfliteImportError("block-sparse or reordered sparse tensors are not supported")
    dims = [sparsity.DimMetadata(i) for i in range(sparsity.DimMetadataLength())]
    if len(dims) != len(shape):
        raise TfliteImportError("sparse tensor metadata does not match its shape")
    # walk the dimensions: a dense one multiplies the positions, a CSR one picks its stored indices
    pos = np.zeros(1, np.int64)  # position in the compressed structure, per partial index
    flat = np.zeros(1, np.int64)  # flat dense index so far
    for level, dm in enumerate(dims):
        if dm.Format() == 0:  # DENSE
            n = dm.DenseSize()
            pos = (pos[:, None] * n + np.arange(n)).reshape(-1)
            flat = (flat[:, None] * shape[level] + np.arange(n)).reshape(-1)
        else:  # SPARSE_CSR
            seg, idx = _index_vector(dm, "ArraySegments"), _index_vector(dm, "ArrayIndices")
            counts = seg[pos + 1] - seg[pos]
            starts = np.repeat(seg[pos], counts)
            within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            pos = starts + within
            flat = np.repeat(flat, counts) * shape[level] + idx[pos]
    if len(flat) != values.size:
        raise TfliteImportError(f"sparse tensor has {values.size} values for {len(flat)} positions")
    dense = np.zeros(int(np.prod(shape)), values.dtype)
    dense[flat] = values.reshape(-1)
    return dense.reshape(shape)


def parse_graph(path: str | Path) -> tuple[list[Op], dict[int, np.ndarray], int, list[int], dict[int, tuple]]:
    """Parse a ``.tflite`` file keeping every output (MediaPipe's detectors: boxes and scores;
    landmarks, presence and handedness), sparse constants densified (``DENSIFY``).

    Returns:
        ``(ops, constants, input_index, output_indices, shapes)``, as :func:`parse` with the
        graph's outputs in their order.
    """
    model, g, shapes, consts = _read_tensors(path, densify=True)
    outputs = [g.Outputs(i) for i in range(g.OutputsLength())]
    ops = _read_ops(model, g, consts, ("DEQUANTIZE", "DENSIFY"))
    unknown = sorted({o.kind for o in ops} - _SUPPORTED)
    if unknown:
        raise TfliteImportError(f"unsupported TFLite ops: {', '.join(unknown)}")
    return ops, consts, g.Inputs(0), outputs, shapes


class TfliteMultiGraph(TfliteGraph):
    """A parsed TFLite graph returning every output, as a tuple in the file's order.

    4-D outputs come back NCHW, the others (the detectors' ``(N, anchors, values)`` boxes and
    scores, the landmark model's ``(N, 63)`` vectors) in TFLite's layout.
    """

    def __init__(self, ops: list[Op], consts: dict[int, np.ndarray], input_index: int,
                 output_indices: list[int], shapes: dict[int, tuple]) -> None:
        super().__init__(ops, consts, input_index, output_indices[0], shapes)
        self.output_indices = list(output_indices)

    @classmethod
    def from_file(cls, path: str | Path, output_shape: tuple[int, ...] | None = None) -> "TfliteMultiGraph":
        """Build from a ``.tflite`` file (see :func:`parse_graph`); ``output_shape`` must be ``None``."""
        if output_shape is not None:
            raise TfliteImportError("TfliteMultiGraph keeps every output; use TfliteGraph for one")
        return cls(*parse_graph(path))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:  # type: ignore[override]
        """``(N, 3, H, W)`` RGB -> every output of the graph."""
        env = self._run(x)
        return tuple(env[i] for i in self.output_indices)

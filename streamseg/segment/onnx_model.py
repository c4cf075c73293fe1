"""ONNX models run with ONNX Runtime: model specs, discovery, pre/post-processing, batching.

A model is an ``.onnx`` file plus, optionally, a JSON *spec* beside it (``models/dlmv-256.json``)
that says how to feed it::

    {"name": "dlmv", "file": "dlmv-256.onnx", "input_name": "input", "input_size": [256, 256],
     "color_order": "RGB", "scale": 255.0, "mean": null, "std": null,
     "output_index": 0, "output_channel": 0, "output": "probability", "dynamic_batch": true}

``input_size`` is ``[height, width]`` (``null`` = read it from the graph, or ``--size`` when the
graph's size is dynamic). The value fed for a pixel is ``(rgb / scale - mean) / std``.
``output`` is ``"probability"`` (clipped to [0, 1]), ``"logits"`` (sigmoid) or ``"auto"``
(sigmoid once any output leaves [0, 1], then for the rest of the run). A bare ``.onnx`` file
without a spec gets the defaults of the original skin_segmentation project's exports: input
``input`` (or the graph's only input), 1x3xHxW float32 RGB / 255, no mean/std, channel 0 of
output 0, ``output="auto"``. An output is never stretched to its own min/max (that makes a
frame without skin look full of skin, and flickers in video). A spec whose ``"task"`` is not
``"skin"`` (the default; e.g. ``"person"``) belongs to a model the run time uses for something
else and is not registered as a method.

Loading a model parses a protobuf graph; no code from the file is executed (no custom-op
libraries are registered).

Example:
    >>> import numpy as np
    >>> from streamseg.segment.onnx_model import OnnxSegmenter
    >>> seg = OnnxSegmenter.from_file("models/dlmv-256.onnx")        # doctest: +SKIP
    >>> seg(np.zeros((480, 640, 3), np.uint8)).shape                  # doctest: +SKIP
    (480, 640)
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from streamseg import log
from streamseg.errors import MethodError
from streamseg.segment import providers
from streamseg.segment.base import MethodOptions, Segmenter, check_frame, check_tta

OUTPUT_MODES = ("probability", "logits", "auto")
COLOR_ORDERS = ("RGB", "BGR")
_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}

_warned: set[str] = set()


def _warn_once(msg: str) -> None:
    if msg not in _warned:
        _warned.add(msg)
        log.warn(msg)


def _one_line(exc: BaseException, limit: int = 240) -> str:
    """An exception as one short line (ORT messages are long and multi-line)."""
    text = str(exc).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    line = re.sub(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*", "", line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --------------------------------------------------------------------------- model specs


@dataclass(frozen=True)
class ModelSpec:
    """How to feed one ONNX model and read its output (parsed from a spec file, or defaults).

    ``path`` is the resolved ``.onnx`` file; ``spec_path`` the JSON it came from (``None`` for
    defaults). ``input_size`` is ``(height, width)`` or ``None`` (from the graph / ``--size``).
    ``input_name`` ``None`` means "the graph's only input". ``dynamic_batch`` ``None`` means
    "as the graph says".
    """

    name: str
    path: Path
    file: str = ""
    description: str = ""
    input_name: str | None = "input"
    input_size: tuple[int, int] | None = None
    color_order: str = "RGB"
    scale: float = 255.0
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    output_index: int = 0
    output_channel: int = 0
    output: str = "auto"
    dynamic_batch: bool | None = None
    card: str | None = None
    spec_path: Path | None = None

    @classmethod
    def defaults_for(cls, onnx_path: str | Path) -> "ModelSpec":
        """The spec of a bare ``.onnx`` file: the original project's export conventions."""
        p = Path(onnx_path).expanduser()
        return cls(name=p.stem, path=p, file=p.name, description=f"ONNX model {p.name}", input_name=None)

    @classmethod
    def load(cls, spec_path: str | Path) -> "ModelSpec":
        """Parse a JSON spec file.

        Raises:
            MethodError: unreadable file, invalid JSON, or a bad value (the message names the key).
        """
        sp = Path(spec_path).expanduser()
        try:
            data = json.loads(sp.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MethodError(f"model spec {sp}: cannot read it ({exc.strerror or exc})") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MethodError(f"model spec {sp}: not valid JSON ({_one_line(exc)})") from exc
        return cls.from_dict(data, sp)

    @classmethod
    def from_dict(cls, data: Any, spec_path: Path) -> "ModelSpec":
        """Build a spec from the parsed JSON ``data`` of ``spec_path`` (relative ``file`` resolves beside it).

        Raises:
            MethodError: a missing or invalid key, named in the message.
        """
        where = f"model spec {spec_path}"
        if not isinstance(data, dict):
            raise MethodError(f"{where}: expected a JSON object, got {type(data).__name__}")

        def bad(key: str, want: str) -> MethodError:
            return MethodError(f"{where}: {key!r} must be {want}, got {data.get(key)!r}")

        file = data.get("file")
        if not isinstance(file, str) or not file.strip():
            raise bad("file", "the ONNX file name (a string)")
        path = Path(file).expanduser()
        if not path.is_absolute():
            path = spec_path.parent / path
        name = data.get("name", spec_path.stem)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name):
            raise bad("name", "a method name (letters, digits, '_.+-')")

        def opt_str(key: str, default: str | None) -> str | None:
            v = data.get(key, default)
            if v is not None and not isinstance(v, str):
                raise bad(key, "a string or null")
            return v

        def nonneg_int(key: str) -> int:
            v = data.get(key, 0)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise bad(key, "an integer >= 0")
            return v

        def triple(key: str) -> tuple[float, float, float] | None:
            v = data.get(key)
            if v is None:
                return None
            if _is_number(v):
                v = [v] * 3
            if not isinstance(v, list) or len(v) != 3 or not all(_is_number(x) for x in v):
                raise bad(key, "null, a number or a list of 3 numbers")
            return tuple(float(x) for x in v)  # type: ignore[return-value]

        size = data.get("input_size")
        if size is not None:
            if isinstance(size, int) and not isinstance(size, bool):
                size = [size, size]
            if (
                not isinstance(size, list)
                or len(size) != 2
                or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
            ):
                raise bad("input_size", "null or [height, width] with positive integers")
            size = (size[0], size[1])
        color = data.get("color_order", "RGB")
        if not isinstance(color, str) or color.upper() not in COLOR_ORDERS:
            raise bad("color_order", '"RGB" or "BGR"')
        scale = data.get("scale", 255.0)
        if not _is_number(scale) or not scale > 0 or not math.isfinite(scale):
            raise bad("scale", "a positive number")
        mean, std = triple("mean"), triple("std")
        if std is not None and any(s == 0 for s in std):
            raise bad("std", "non-zero")
        output = data.get("output", "auto")
        if output not in OUTPUT_MODES:
            raise bad("output", " or ".join(f'"{m}"' for m in OUTPUT_MODES))
        dyn = data.get("dynamic_batch")
        if dyn is not None and not isinstance(dyn, bool):
            raise bad("dynamic_batch", "true, false or null")
        return cls(
            name=name,
            path=path,
            file=file,
            description=opt_str("description", "") or f"ONNX model {Path(file).name}",
            input_name=opt_str("input_name", "input"),
            input_size=size,
            color_order=color.upper(),
            scale=float(scale),
            mean=mean,
            std=std,
            output_index=nonneg_int("output_index"),
            output_channel=nonneg_int("output_channel"),
            output=output,
            dynamic_batch=dyn,
            card=opt_str("card", None),
            spec_path=spec_path,
        )

    @property
    def card_path(self) -> Path | None:
        """The model card (Markdown) beside the spec, if named."""
        if not self.card:
            return None
        base = self.spec_path.parent if self.spec_path else self.path.parent
        return base / self.card


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def discover_models(dirs: Sequence[Path] | None = None) -> dict[str, ModelSpec]:
    """Scan the model directories for ``*.json`` spec files.

    Args:
        dirs: directories in search order; default :func:`streamseg.paths.model_dirs`.

    Returns:
        name -> spec. The first directory wins on a name clash; a broken spec is skipped with a
        one-line warning (once per process). JSON files that are clearly not specs (an object
        with neither ``file`` nor ``input_name``) are ignored silently, and so are the specs of
        models that are not skin methods (``"task"`` other than ``"skin"``, e.g. ``"person"``).
    """
    if dirs is None:
        from streamseg.paths import model_dirs

        dirs = model_dirs()
    found: dict[str, ModelSpec] = {}
    for d in dirs:
        for sp in sorted(Path(d).glob("*.json")):
            try:
                data = json.loads(sp.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                _warn_once(f"skipping model spec {sp}: not valid JSON ({_one_line(exc)})")
                continue
            if isinstance(data, dict) and "file" not in data and "input_name" not in data:
                continue  # some other JSON (metrics, history...)
            if isinstance(data, dict) and data.get("task", "skin") != "skin":
                continue  # a person or detector model the run time uses, not a skin method
            try:
                spec = ModelSpec.from_dict(data, sp)
            except MethodError as exc:
                _warn_once(f"skipping {exc}")
                continue
            found.setdefault(spec.name, spec)
    return found


def _sibling_spec(onnx_path: Path) -> ModelSpec | None:
    """The spec beside ``x.onnx`` (``x.json`` naming that file), if any."""
    sp = onnx_path.with_suffix(".json")
    if not sp.is_file():
        return None
    try:
        spec = ModelSpec.load(sp)
    except MethodError as exc:
        _warn_once(f"ignoring {exc}; using the default settings for {onnx_path.name}")
        return None
    try:
        same = spec.path.resolve() == onnx_path.resolve()
    except OSError:
        same = False
    return replace(spec, path=onnx_path) if same else None


# --------------------------------------------------------------------------- pre/post-processing


def resize_interpolation(src_hw: tuple[int, int], dst_hw: tuple[int, int]) -> int:
    """cv2 flag for resizing ``src_hw`` to ``dst_hw``: ``INTER_AREA`` when shrinking both sides (as training does), else ``INTER_LINEAR``."""
    if dst_hw[0] < src_hw[0] and dst_hw[1] < src_hw[1]:
        return cv2.INTER_AREA
    return cv2.INTER_LINEAR


def to_model_size(frame: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> (h, w, 3) for the model: exact 2x2 block means while the frame
    stays at least 3/4 of the model size in both directions, then one ``cv2.resize``
    (:func:`resize_interpolation`).

    OpenCV's INTER_AREA is fast only for integer ratios: 1280x720 -> 384x384 in one step took
    8.6 ms on one core here, halving to 640x360 first and then resizing 0.85 ms (the pixels
    differ from the one-step result by 0.3 grey levels on average; val mIoU in docs/speed.md).
    """
    h, w = size_hw
    while frame.shape[0] // 2 >= 0.75 * h and frame.shape[1] // 2 >= 0.75 * w:
        fh, fw = frame.shape[0] // 2, frame.shape[1] // 2
        frame = cv2.resize(frame[: 2 * fh, : 2 * fw], (fw, fh), interpolation=cv2.INTER_AREA)
    if frame.shape[:2] == (h, w):
        return frame
    if not frame.flags.c_contiguous:
        frame = np.ascontiguousarray(frame)
    return cv2.resize(frame, (w, h), interpolation=resize_interpolation(frame.shape[:2], (h, w)))


def sigmoid_(x: np.ndarray) -> np.ndarray:
    """In-place logistic sigmoid of a float array; returns ``x``."""
    with np.errstate(over="ignore"):
        np.negative(x, out=x)
        np.exp(x, out=x)
        x += 1.0
        np.reciprocal(x, out=x)
    return x


class Preprocessor:
    """BGR uint8 frames -> the model's NCHW input, written into one reused buffer.

    One ``cv2.resize`` to ``(height, width)`` (``INTER_AREA`` down / ``INTER_LINEAR`` up), then
    per channel ``value = pixel * gain[c] - offset[c]`` with ``gain = 1 / (scale * std)`` and
    ``offset = mean / std``, i.e. ``(rgb / scale - mean) / std``.
    """

    def __init__(self, spec: ModelSpec, size_hw: tuple[int, int], dtype: type = np.float32) -> None:
        self.size_hw = size_hw
        self.dtype = np.dtype(dtype)
        mean = np.asarray(spec.mean if spec.mean is not None else (0.0, 0.0, 0.0), np.float64)
        std = np.asarray(spec.std if spec.std is not None else (1.0, 1.0, 1.0), np.float64)
        self.gain = (1.0 / (spec.scale * std)).astype(np.float32)
        self.offset = (mean / std).astype(np.float32)
        # model channel c reads frame channel src[c] (frames are BGR)
        self.src = (2, 1, 0) if spec.color_order == "RGB" else (0, 1, 2)
        self._buf = np.empty((0, 3, *size_hw), self.dtype)

    def resize(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> BGR uint8 at model size (:func:`to_model_size`)."""
        return to_model_size(frame, self.size_hw)

    def __call__(self, frames: Sequence[np.ndarray], mirror: bool = False) -> np.ndarray:
        """BGR uint8 frames -> (N, 3, h, w) array of the model's dtype (a view of the reused buffer).

        With ``mirror``, (2N, 3, h, w): the N inputs, then each of them flipped left to right.
        """
        n = len(frames)
        total = 2 * n if mirror else n
        if self._buf.shape[0] < total:
            self._buf = np.empty((total, 3, *self.size_hw), self.dtype)
        blob = self._buf[:n]
        for i, frame in enumerate(frames):
            small = self.resize(check_frame(frame))
            for c in range(3):
                np.multiply(small[:, :, self.src[c]], self.gain[c], out=blob[i, c], dtype=np.float32, casting="unsafe")
                if self.offset[c]:
                    blob[i, c] -= self.offset[c]
        if mirror:
            np.copyto(self._buf[n:total], blob[..., ::-1])
        return self._buf[:total]


# --------------------------------------------------------------------------- the segmenter


class OnnxSegmenter(Segmenter):
    """A skin model run by ONNX Runtime (CUDA, TensorRT or CPU).

    ``segment`` takes a BGR uint8 (H, W, 3) frame and returns float32 (H, W) probabilities in
    [0, 1]; ``segment_batch`` runs several frames per inference when the graph's batch dimension
    is dynamic. ``segment_native`` / ``segment_native_batch`` return the model's output map at
    its own size (no resize to the frame; the pipeline smooths it and upsamples once).
    ``provider`` is the ORT provider the session really uses
    (``session.get_providers()[0]``). Not thread-safe: buffers are reused between calls.

    With ``options.tta == "flip"`` each frame is run twice, as it is and mirrored, and the two
    probability maps are averaged (the mirrored one flipped back): on the 791 val images that
    raised ``selfie-skin-hq`` from 0.812 to 0.822 mIoU at twice the inference time
    (docs/eval.md).

    If inference fails at run time (GPU error, out of memory, a graph that cannot handle the
    input), it raises :class:`~streamseg.errors.MethodError` (one line) and drops its session;
    :func:`streamseg.segment.create` wraps models in a
    :class:`~streamseg.segment.fallback.FallbackSegmenter`, which then continues with a
    classical method unless ``options.strict``.
    """

    kind = "model"
    description = "ONNX model"

    def __init__(self, spec: ModelSpec, options: MethodOptions | None = None) -> None:
        self.spec = spec
        self.options = options or MethodOptions()
        self.flip = check_tta(self.options.tta) == "flip"
        self.name = spec.name  # type: ignore[misc]
        self.description = spec.description  # type: ignore[misc]
        self.session: Any = None
        self._logits_seen = spec.output == "logits"
        self._nonfinite_warned = False
        self._binding: Any = None
        self._bound_input: Any = None
        _check_file(spec.path, spec.name)
        self._ort = providers.import_onnxruntime()
        self._open()

    # ----- construction

    @classmethod
    def from_spec(cls, spec: ModelSpec, options: MethodOptions | None = None) -> "OnnxSegmenter":
        """Create from a registered spec (see :func:`discover_models`).

        Raises:
            MethodError: the file is missing or broken, or the model cannot run here.
            ConfigError: an explicit ``--provider cuda|tensorrt`` that cannot run here.
        """
        return cls(spec, options)

    @classmethod
    def from_file(cls, path: str | Path, options: MethodOptions | None = None) -> "OnnxSegmenter":
        """Create from an ``.onnx`` file (its ``.json`` spec beside it is used if present, else the
        original project's defaults) or from a ``.json`` spec file.

        Raises:
            MethodError: the file is missing or broken, or the model cannot run here.
        """
        p = Path(path).expanduser()
        if p.suffix.lower() == ".json":
            return cls(ModelSpec.load(p), options)
        _check_file(p, p.name)
        return cls(_sibling_spec(p) or ModelSpec.defaults_for(p), options)

    @staticmethod
    def spec_unavailable_reason(spec: ModelSpec, options: MethodOptions | None = None) -> str | None:
        """Cheap check (no model load): ``None`` if the spec's model can probably run here, else why not."""
        options = options or MethodOptions()
        try:
            _check_file(spec.path, spec.name)
            providers.import_onnxruntime()
        except MethodError as exc:
            return str(exc)
        return providers.unavailable_reason(options.provider)

    def _open(self) -> None:
        """Build the session on the first provider that really runs this model."""
        ort = self._ort
        cands = providers.candidates(self.options.provider)  # ConfigError for an explicit provider that cannot run
        for i, (kind, dev) in enumerate(cands):
            last = i == len(cands) - 1
            wanted = providers.ORT_NAMES[kind]
            so = providers.session_options(self.options.threads, kind)
            try:
                with providers.quiet_ort():
                    sess = ort.InferenceSession(
                        str(self.spec.path), so, providers=providers.provider_args(kind, dev), enable_fallback=0
                    )
            except Exception as exc:  # noqa: BLE001 - ORT raises several pybind types
                if last:
                    raise MethodError(f"cannot load model {self.name!r} ({self.spec.path}): {_load_error(exc)}") from exc
                log.info(f"model {self.name!r}: {wanted} cannot load it ({_one_line(exc)}); trying the next provider")
                continue
            actual = sess.get_providers()[0]
            if actual != wanted:
                if last:
                    raise MethodError(f"model {self.name!r}: {wanted} was requested but the session runs on {actual}")
                continue
            self.session = sess
            self.provider = actual
            self.device_id = dev
            self._inspect()
            try:
                raw = self._infer(self.preprocess([np.zeros((*self.input_size, 3), np.uint8)]))
                self._check_output_shape(list(np.shape(raw)), self.output_name)
            except MethodError:
                raise
            except Exception as exc:  # noqa: BLE001
                if last:
                    raise MethodError(f"model {self.name!r} does not run on {actual}: {_one_line(exc)}") from exc
                log.warn(f"model {self.name!r} does not run on {actual} ({_one_line(exc)}); using the CPU")
                self.session = None
                continue
            if self.spec.output == "probability" and (np.min(raw) < -0.01 or np.max(raw) > 1.01):
                _warn_once(
                    f"model {self.name!r}: its spec says output 'probability' but it gave values in "
                    f"[{float(np.min(raw)):.3g}, {float(np.max(raw)):.3g}]; set \"output\": \"logits\" if it emits logits"
                )
            return

    def _inspect(self) -> None:
        """Check the graph's input/output against the spec; set input size, dtype, batch, buffers."""
        spec, sess, name = self.spec, self.session, self.name
        inputs = sess.get_inputs()
        by_name = {i.name: i for i in inputs}
        if spec.input_name is not None and spec.input_name in by_name:
            inp = by_name[spec.input_name]
        elif len(inputs) == 1 and spec.input_name in (None, "input"):
            inp = inputs[0]
        else:
            names = ", ".join(repr(i.name) for i in inputs)
            want = repr(spec.input_name) if spec.input_name else "one image input"
            raise MethodError(f"model {name!r}: no input {want} (the graph's inputs: {names})")
        if len(inputs) > 1:
            raise MethodError(f"model {name!r} has {len(inputs)} inputs; streamseg feeds a single image tensor")
        shape = list(inp.shape)
        if len(shape) != 4:
            raise MethodError(f"model {name!r}: input {inp.name!r} has shape {shape}; expected rank 4 (N, 3, H, W)")
        if isinstance(shape[1], int) and shape[1] != 3:
            raise MethodError(
                f"model {name!r}: input {inp.name!r} has shape {shape}; expected 3 colour channels in dimension 1 (NCHW)"
            )
        if inp.type not in _FLOAT_TYPES:
            raise MethodError(f"model {name!r}: input {inp.name!r} is {inp.type}; expected a float tensor")
        batch = shape[0]
        if isinstance(batch, int) and batch != 1:
            raise MethodError(f"model {name!r}: input batch is fixed at {batch}; expected 1 or dynamic")
        self.input_name = inp.name
        self.input_size = self._input_hw(shape)
        graph_dyn = not isinstance(batch, int)
        if spec.dynamic_batch and not graph_dyn:
            _warn_once(f"model {name!r}: its spec says dynamic_batch but the graph's batch is fixed at 1")
        self.dynamic_batch = graph_dyn and spec.dynamic_batch is not False
        if self.options.batch > 1 and not self.dynamic_batch:
            _warn_once(f"model {name!r} has a fixed batch of 1; --batch {self.options.batch} runs one frame at a time")

        outputs = sess.get_outputs()
        if spec.output_index >= len(outputs):
            raise MethodError(f"model {name!r}: output_index {spec.output_index} but the graph has {len(outputs)} output(s)")
        out = outputs[spec.output_index]
        oshape = list(out.shape)
        if out.type not in _FLOAT_TYPES:
            raise MethodError(f"model {name!r}: output {out.name!r} is {out.type}; expected a float tensor")
        self._check_output_shape(oshape, out.name)
        self.output_name = out.name
        self.preprocess = Preprocessor(spec, self.input_size, _FLOAT_TYPES[inp.type])
        self._run_options = self._ort.RunOptions()
        if not os.environ.get("STREAMSEG_DEBUG"):
            self._run_options.log_severity_level = 4  # a failed run is reported once, by us
        self._bound_input = None
        self._binding = None
        self._out_bufs: dict[tuple, np.ndarray] = {}
        self._bound_out: np.ndarray | None = None
        use_binding = self.options.extra.get("io_binding")
        if use_binding is None:
            use_binding = True  # every provider: host buffers on CPU/CoreML/DirectML, device buffers on CUDA
        if use_binding:
            self._binding = sess.io_binding()
            self._binding_device = "cuda" if self.provider in providers.CUDA_MEMORY else "cpu"
            if self._binding_device != "cpu":
                self._binding.bind_output(self.output_name, self._binding_device, self.device_id)

    def _input_hw(self, shape: list) -> tuple[int, int]:
        spec, name = self.spec, self.name
        gh, gw = (d if isinstance(d, int) and d > 0 else None for d in shape[2:])
        if gh and gw:
            if spec.input_size and spec.input_size != (gh, gw):
                raise MethodError(
                    f"model {name!r}: spec input_size {list(spec.input_size)} but the graph's input is {gh}x{gw}"
                )
            if self.options.size and (self.options.size, self.options.size) != (gh, gw):
                _warn_once(f"model {name!r} has a fixed input size {gh}x{gw}; --size {self.options.size} is ignored")
            return gh, gw
        if self.options.size:
            want = (self.options.size, self.options.size)
        elif spec.input_size:
            want = spec.input_size
        else:
            raise MethodError(f"model {name!r} has a dynamic input size; give one with --size N")
        return gh or want[0], gw or want[1]

    def _check_output_shape(self, oshape: list, out_name: str) -> None:
        if len(oshape) not in (3, 4):
            raise MethodError(
                f"model {self.name!r}: output {out_name!r} has shape {oshape}; expected (N, C, H, W) or (N, H, W)"
            )
        if (
            len(oshape) == 4
            and all(isinstance(d, int) for d in oshape[1:])
            and oshape[1] > 4
            and oshape[3] <= 4
            and oshape[1] == self.input_size[0]
        ):
            raise MethodError(
                f"model {self.name!r}: output {out_name!r} has shape {oshape}, which looks channels-last "
                "(N, H, W, C); streamseg reads (N, C, H, W)"
            )
        if len(oshape) == 4 and isinstance(oshape[1], int) and oshape[1] <= self.spec.output_channel:
            raise MethodError(
                f"model {self.name!r}: output_channel {self.spec.output_channel} but output {out_name!r} "
                f"has {oshape[1]} channel(s)"
            )

    # ----- running

    @property
    def max_batch(self) -> int | None:
        """Frames per inference the graph accepts: ``None`` = any (dynamic batch), else 1."""
        return None if self.dynamic_batch else 1

    def infer(self, blob: np.ndarray) -> np.ndarray:
        """Run the graph on a pre-processed (N, 3, h, w) blob; returns the raw selected output."""
        return self._infer(blob)

    def _infer(self, blob: np.ndarray) -> np.ndarray:
        if self._binding is None:
            return self.session.run([self.output_name], {self.input_name: blob}, self._run_options)[0]
        if self._binding_device == "cpu":
            return self._infer_host(blob)
        # I/O binding: the input lives on the device, updated in place (one host->device copy);
        # the output is allocated on the device and copied back once.
        if self._bound_input is None or tuple(self._bound_input.shape()) != blob.shape:
            self._bound_input = self._ort.OrtValue.ortvalue_from_shape_and_type(
                blob.shape, blob.dtype, self._binding_device, self.device_id
            )
            self._binding.bind_ortvalue_input(self.input_name, self._bound_input)
            # the output's shape follows the input's: let ORT allocate it again (on the device)
            self._binding.bind_output(self.output_name, self._binding_device, self.device_id)
        self._bound_input.update_inplace(np.ascontiguousarray(blob))
        self._binding.synchronize_inputs()
        self.session.run_with_iobinding(self._binding, self._run_options)
        self._binding.synchronize_outputs()
        return self._binding.copy_outputs_to_cpu()[0]

    def _infer_host(self, blob: np.ndarray) -> np.ndarray:
        """I/O binding in host memory: ORT reads the preprocessor's buffer and writes into one
        output array per input shape, reused (valid until the next inference)."""
        b = self._binding
        b.bind_cpu_input(self.input_name, np.ascontiguousarray(blob))
        out = self._out_bufs.get(blob.shape)
        if out is None:
            # first inference at this shape: let ORT allocate, then keep an array of that shape
            b.bind_output(self.output_name, "cpu")
            self.session.run_with_iobinding(b, self._run_options)
            raw = b.copy_outputs_to_cpu()[0]
            out = np.empty_like(raw)
            self._out_bufs[blob.shape] = out
            self._bound_out = None
            return raw
        if self._bound_out is not out:  # bind the output array of this shape (once per switch)
            b.bind_ortvalue_output(self.output_name, self._ort.OrtValue.ortvalue_from_numpy(out))
            self._bound_out = out
        self.session.run_with_iobinding(b, self._run_options)
        return out

    def postprocess(self, raw: np.ndarray, sizes: Sequence[tuple[int, int] | None]) -> list[np.ndarray]:
        """Raw output -> one float32 (H, W) probability in [0, 1] per frame, at each frame's ``(H, W)``.

        Takes ``output_channel``, applies a sigmoid for logits, clips, and resizes bilinearly.
        Values that are not finite (NaN, +-inf: a broken or overflowing model) become 0, no
        skin, with one warning per segmenter. A size of ``None`` keeps the model's own map
        size (:meth:`segment_native`). Every map
        returned is a new array (the inference output buffer is reused). With flip TTA ``raw``
        holds 2N maps (the inputs, then their mirror images) for N sizes.

        Raises:
            MethodError: the output's shape cannot be used.
        """
        raw = np.asarray(raw)
        self._check_output_shape(list(raw.shape), self.output_name)
        n = len(sizes)
        if raw.shape[0] != (2 * n if self.flip else n):
            raise MethodError(f"model {self.name!r} returned {raw.shape[0]} maps for {n} frame(s)")
        maps = raw[:, self.spec.output_channel] if raw.ndim == 4 else raw
        maps = maps.astype(np.float32, copy=False)
        bad = ~np.isfinite(maps)
        if bad.any():
            maps = np.where(bad, np.float32(0.0), maps)  # a new array: the output buffer is reused
            if not self._nonfinite_warned:
                self._nonfinite_warned = True
                log.warn(
                    f"model {self.name!r} output NaN or infinite values ({int(bad.sum())} of {bad.size} values in the first "
                    "such output); they are read as no skin (0) for the rest of the run"
                )
        else:
            bad = None
        if self.spec.output == "auto" and not self._logits_seen:
            lo, hi = float(maps.min()), float(maps.max())
            if lo < -1e-3 or hi > 1.0 + 1e-3:
                self._logits_seen = True  # sticky: switching per frame would flicker
        if self._logits_seen:
            if not maps.flags.writeable:
                maps = maps.copy()
            sigmoid_(maps)
            if bad is not None:
                maps[bad] = 0.0  # no skin, not the 0.5 of a zero logit
        if self.flip:  # probabilities, not logits, are averaged: a mirror view sure of skin counts as much as one sure of none
            maps = (maps[:n] + maps[n:, :, ::-1]) * np.float32(0.5)
        result = []
        for m, size in zip(maps, sizes):
            h, w = m.shape if size is None else size
            # clip the small map, then resize: bilinear weights are >= 0 and sum to 1, so only
            # the upper bound needs the guard below (np.minimum in place, cheaper than np.clip
            # into a new frame-size array)
            m = np.clip(m, 0.0, 1.0)
            if m.shape != (h, w):
                m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
                np.minimum(m, np.float32(1.0), out=m)  # float rounding of the weights, not the values
            result.append(m)
        return result

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (H, W) skin probability in [0, 1]."""
        return self.segment_batch([frame])[0]

    def segment_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """BGR uint8 frames (any sizes) -> one float32 (H, W) probability per frame.

        With a dynamic-batch graph all frames go through one inference; otherwise one at a time.
        """
        return self._run(frames, native=False)

    def segment_native(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> the model's float32 output map in [0, 1] (e.g. 256 x 256), not
        resized to the frame (:meth:`segment` resizes the same map bilinearly to ``(H, W)``)."""
        return self._run([frame], native=True)[0]

    def segment_native_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`segment_native` for several frames (one inference with a dynamic batch)."""
        return self._run(frames, native=True)

    def _run(self, frames: Sequence[np.ndarray], native: bool) -> list[np.ndarray]:
        if not frames:
            return []
        if len(frames) > 1 and not self.dynamic_batch:
            return [p for f in frames for p in self._run([f], native)]
        blob = self.preprocess(frames, mirror=self.flip)
        try:
            if self.flip and not self.dynamic_batch:  # a batch of 1: the frame, then its mirror image
                raw = np.concatenate([np.array(self._infer(blob[:1])), self._infer(blob[1:])])
            else:
                raw = self._infer(blob)
            return self.postprocess(raw, [None if native else f.shape[:2] for f in frames])
        except MethodError:
            raise
        except Exception as exc:  # noqa: BLE001 - any run-time failure is one line (the wrapper falls back)
            msg = f"model {self.name!r} failed on {self.provider}: {_one_line(exc)}"
            if not self.options.strict:
                self.close_session()
            raise MethodError(msg) from exc

    def reset(self) -> None:
        """No temporal state in the model itself."""

    def close_session(self) -> None:
        """Drop the ORT session and device buffers."""
        self._binding = None
        self._bound_input = None
        self._out_bufs = {}
        self._bound_out = None
        self.session = None

    def close(self) -> None:
        """Release the session."""
        self.close_session()

    def __repr__(self) -> str:
        h, w = self.input_size
        return f"<OnnxSegmenter {self.name!r} {h}x{w} on {self.provider}>"


def _load_error(exc: BaseException) -> str:
    """ORT's load failure as a short reason (it repeats the path and protobuf jargon)."""
    line = _one_line(exc)
    if "Protobuf parsing failed" in line or "INVALID_PROTOBUF" in str(exc):
        return "not a valid ONNX file (truncated or another format)"
    return re.sub(r"^Load model from .*? failed:\s*", "", line)


def _check_file(path: Path, name: str) -> None:
    """Raise :class:`MethodError` unless ``path`` is a non-empty file."""
    p = Path(path)
    if not p.exists():
        raise MethodError(f"model {name!r}: file not found: {p}")
    if not p.is_file():
        raise MethodError(f"model {name!r}: not a file: {p}")
    if p.stat().st_size == 0:
        raise MethodError(f"model {name!r}: file is empty: {p}")

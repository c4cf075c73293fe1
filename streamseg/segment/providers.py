"""ONNX Runtime execution providers: which one to use, and whether it really runs here.

``onnxruntime-gpu`` lists ``CUDAExecutionProvider`` as *available* even where its libraries
(CUDA, cuDNN) cannot be loaded, and a session asked for CUDA then silently runs on the CPU.
So a provider counts as usable only when a session built with it reports it in
``get_providers()`` and runs one inference (:func:`probe`, on a tiny built-in graph, cached).

User-facing names are ``auto``, ``cuda`` (or ``cuda:N`` for GPU N), ``tensorrt``, ``coreml``
(macOS: the CPU ``onnxruntime`` wheel has it), ``dml`` (or ``dml:N``; Windows DirectML, from the
``onnxruntime-directml`` wheel) and ``cpu``; ``auto`` = CUDA when it really works, else CPU.
An explicit provider that cannot run is a :class:`~streamseg.errors.ConfigError` (one line,
never a silent CPU run).

Example:
    >>> from streamseg.segment.providers import parse_provider
    >>> parse_provider("cuda:1")
    ('cuda', 1)
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

from streamseg.errors import ConfigError, MethodError

#: user-facing provider names
CHOICES = ("auto", "cuda", "tensorrt", "coreml", "dml", "cpu")

ORT_NAMES = {
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "dml": "DmlExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
#: kinds that take a device number (``cuda:1``, ``dml:1``)
_WITH_DEVICE = ("cuda", "tensorrt", "dml")
#: what to install for a kind this onnxruntime build lacks
_INSTALL_HINT = {
    "cuda": "install onnxruntime-gpu (Linux/Windows with an NVIDIA GPU)",
    "tensorrt": "install onnxruntime-gpu and TensorRT",
    "coreml": "CoreML comes with the onnxruntime wheel on macOS only",
    "dml": "DirectML needs Windows and the onnxruntime-directml wheel (instead of onnxruntime/onnxruntime-gpu)",
}
#: providers whose I/O binding buffers live in CUDA memory; the others bind host memory
CUDA_MEMORY = ("CUDAExecutionProvider", "TensorrtExecutionProvider")
_SHORT = {v: k for k, v in ORT_NAMES.items()}

# A serialized ONNX graph y = x + x on a float32 (1, 4) tensor, used to test a provider
# without needing the `onnx` package at run time.
_PROBE_MODEL = base64.b64decode(
    "CAgSCXN0cmVhbXNlZzpBCg4KAXgKAXgSAXkiA0FkZBIFcHJvYmVaEwoBeBIOCgwIARIICgIIAQoCCARiEwoBeRIO"
    "CgwIARIICgIIAQoCCARCBAoAEA0="
)

_DEFAULT_SEVERITY = 3  # ORT warnings (node placement etc.) are noise for users
_configured = False


def import_onnxruntime() -> ModuleType:
    """Import ``onnxruntime`` (quietened unless ``STREAMSEG_DEBUG`` is set).

    Raises:
        MethodError: onnxruntime is not installed or fails to import.
    """
    try:
        import onnxruntime as ort
    except ModuleNotFoundError as exc:
        if exc.name != "onnxruntime":
            raise MethodError(f"onnxruntime cannot be imported ({exc})") from exc
        raise MethodError(
            "ONNX Runtime is not installed: pip install onnxruntime (or onnxruntime-gpu for CUDA; never both)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - a broken install can raise anything
        raise MethodError(f"onnxruntime cannot be imported ({exc}); reinstall onnxruntime or onnxruntime-gpu (only one of them)") from exc
    global _configured
    if not _configured:
        if not os.environ.get("STREAMSEG_DEBUG"):
            ort.set_default_logger_severity(_DEFAULT_SEVERITY)
        _configured = True
    return ort


@contextlib.contextmanager
def quiet_ort() -> Iterator[None]:
    """Silence ONNX Runtime's own log lines and prints while building sessions.

    Failures to load a provider are logged by ORT as multi-line errors; streamseg reports them
    itself as one line, so they are hidden here (shown with ``STREAMSEG_DEBUG=1``).
    """
    ort = import_onnxruntime()
    if os.environ.get("STREAMSEG_DEBUG"):
        yield
        return
    ort.set_default_logger_severity(4)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        ort.set_default_logger_severity(_DEFAULT_SEVERITY)


def parse_provider(value: str) -> tuple[str, int]:
    """``"auto"|"cuda"|"cuda:N"|"tensorrt"|"coreml"|"dml"|"dml:N"|"cpu"`` (case-insensitive) -> ``(kind, device_id)``.

    Raises:
        ConfigError: anything else (the message names ``--provider``).
    """
    text = str(value).strip().lower()
    kind, _, dev = text.partition(":")
    kind = {"gpu": "cuda", "directml": "dml"}.get(kind, kind)
    if kind not in CHOICES or (dev and (kind not in _WITH_DEVICE or not dev.isdigit())):
        raise ConfigError(f"--provider must be one of {', '.join(CHOICES)} (or cuda:N, dml:N), got {value!r}")
    return kind, int(dev or 0)


def short_name(ort_provider: str) -> str:
    """``"CUDAExecutionProvider"`` -> ``"cuda"`` (unknown names are returned unchanged)."""
    return _SHORT.get(ort_provider, ort_provider)


def trt_cache_dir() -> Path:
    """Where TensorRT engines are cached (building one takes minutes; reuse it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "streamseg" / "tensorrt"


def provider_args(kind: str, device_id: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """The ``providers=`` argument of ``InferenceSession`` for one kind (no automatic CPU tail).

    ``tensorrt`` lists CUDA after TensorRT so nodes TensorRT cannot take still run on the GPU.
    """
    cuda = ("CUDAExecutionProvider", {"device_id": device_id})
    if kind == "cuda":
        return [cuda]
    if kind == "tensorrt":
        trt = {
            "device_id": device_id,
            "trt_engine_cache_enable": True,
            "trt_engine_cache_path": str(trt_cache_dir()),
        }
        return [("TensorrtExecutionProvider", trt), cuda]
    if kind == "coreml":
        return [("CoreMLExecutionProvider", {})]
    if kind == "dml":
        return [("DmlExecutionProvider", {"device_id": device_id})]
    if kind == "cpu":
        return [("CPUExecutionProvider", {})]
    raise ConfigError(f"--provider must be one of {', '.join(CHOICES)}, got {kind!r}")


def session_options(threads: int = 0, kind: str = "cpu") -> Any:
    """``SessionOptions`` with all graph optimisations, sequential execution and ``threads``
    intra-op threads.

    ``threads=0`` takes the inference share of :func:`streamseg.threads.plan` (half the cores)
    and turns off the pool's spin-waiting, so the decoder and encoder threads get the CPU
    between inferences; an explicit ``threads`` keeps ORT's spinning (lowest latency when
    nothing else runs). ``kind="dml"`` turns off memory patterns (DirectML needs that).
    """
    from streamseg.threads import plan

    ort = import_onnxruntime()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if not threads or threads <= 0:
        auto = plan().infer
        if auto > 0:
            so.intra_op_num_threads = auto
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.inter_op_num_threads = 1
    else:
        so.intra_op_num_threads = int(threads)
        so.inter_op_num_threads = 1
    if kind == "dml":
        so.enable_mem_pattern = False
    if not os.environ.get("STREAMSEG_DEBUG"):
        so.log_severity_level = 3
    return so


def _library_reason(kind: str) -> str:
    """Why a GPU provider's shared library does not load (e.g. ``libcublasLt.so.13: cannot open ...``)."""
    import ctypes

    ort = import_onnxruntime()
    capi = Path(ort.__file__).parent / "capi"
    libs = sorted(capi.glob(f"*onnxruntime_providers_{kind}.*"))
    if not libs:
        return f"this onnxruntime build has no {kind} provider library"
    try:
        ctypes.CDLL(str(libs[0]))
    except OSError as exc:
        return str(exc).splitlines()[0]
    return "its library loads, but no usable GPU or driver was found"


def _preload_cuda_libraries() -> None:
    """Let ORT find CUDA/cuDNN installed as pip wheels (nvidia-*); harmless when absent."""
    ort = import_onnxruntime()
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
        preload()


@lru_cache(maxsize=None)
def probe(kind: str, device_id: int = 0) -> str | None:
    """Build a tiny session on provider ``kind`` and run it once.

    Returns:
        ``None`` when the provider really runs here, else a one-line reason.
    """
    if kind == "cpu":
        return None
    try:
        ort = import_onnxruntime()
    except MethodError as exc:
        return str(exc)
    wanted = ORT_NAMES[kind]
    if wanted not in ort.get_available_providers():
        return f"this onnxruntime build ({ort.__version__}) has no {wanted}; {_INSTALL_HINT[kind]}"
    import numpy as np

    if kind in ("cuda", "tensorrt"):
        _preload_cuda_libraries()
    try:
        with quiet_ort():
            sess = ort.InferenceSession(
                _PROBE_MODEL, session_options(1, kind), providers=provider_args(kind, device_id), enable_fallback=0
            )
            if sess.get_providers()[0] != wanted:
                why = _library_reason(kind) if kind in ("cuda", "tensorrt") else "the session fell back to the CPU"
                return f"{wanted} failed to load: {why}"
            x = np.ones((1, 4), np.float32)
            y = sess.run(None, {"x": x})[0]
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot run here"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if kind == "tensorrt" and "TensorRT libraries" in str(exc):
            first = "TensorRT libraries (libnvinfer) not found"
        return f"{wanted} failed: {first[:200]}"
    if not np.allclose(y, 2.0):
        return f"{wanted} returned wrong results on a test graph"
    return None


def unavailable_reason(requested: str) -> str | None:
    """``None`` when provider ``requested`` can run here (``auto``/``cpu`` always can), else why not."""
    try:
        kind, dev = parse_provider(requested)
    except ConfigError as exc:
        return str(exc)
    if kind == "auto":
        try:
            import_onnxruntime()
        except MethodError as exc:
            return str(exc)
        return None
    return probe(kind, dev)


def candidates(requested: str) -> list[tuple[str, int]]:
    """Providers to try in order for ``requested``: ``auto`` -> CUDA (if :func:`probe` passes) then CPU.

    Raises:
        ConfigError: an explicit ``cuda``/``tensorrt`` that cannot run here, or an unknown name.
    """
    kind, dev = parse_provider(requested)
    if kind == "auto":
        return ([("cuda", dev)] if probe("cuda", dev) is None else []) + [("cpu", 0)]
    reason = probe(kind, dev)
    if reason:
        raise ConfigError(f"--provider {requested}: cannot run here: {reason} (use --provider auto or cpu)")
    return [(kind, dev)]


def describe(requested: str = "auto") -> str:
    """One line for ``streamseg methods``/logs: ORT version, what ``requested`` resolves to, and why GPUs are not used."""
    try:
        ort = import_onnxruntime()
    except MethodError as exc:
        return str(exc)
    try:
        kind, dev = parse_provider(requested)
    except ConfigError as exc:
        return str(exc)
    parts = [f"onnxruntime {ort.__version__}"]
    if kind == "auto":
        cuda = probe("cuda", dev)
        parts.append("auto -> " + ("cuda" if cuda is None else f"cpu (cuda: {cuda})"))
    else:
        reason = probe(kind, dev)
        parts.append(f"{requested}: " + ("runs" if reason is None else f"cannot run ({reason})"))
    return "; ".join(parts)

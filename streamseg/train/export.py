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


def latency_ms(onnx_path: str | Path, size: int | tuple[int, int], threads: int = 0, runs: int = 20,
               warmup: int = 3) -> float:
    """Median ONNX Runtime CPU latency (ms) of one frame, batch 1, input named ``input``.

    Args:
        onnx_path: the model.
        size: ``size`` x ``size``, or ``(height, width)``.
        threads: intra-op threads; 0 leaves ONNX Runtime's default.
        runs: timed runs (the median is returned).
        warmup: untimed runs first.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    size_hw = (size, size) if isinstance(size, int) else tuple(size)
    x = np.random.default_rng(0).random((1, 3, *size_hw), dtype=np.float32)
    for _ in range(warmup):
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


def export_checkpoint(
    checkpoint: str | Path,
    out: str | Path,
    *,
    name: str | None = None,
    size: int = 256,
    data: str | Path | None = None,
    description: str | None = None,
    card: bool = True,
    notes: list[str] | tuple[str, ...] = (),
    compare: str | Path | None = None,
    configs: list[str] | tuple[str, ...] = (),
    int8: bool = False,
    force: bool = False,
) -> ExportReport:
    """``streamseg export``: a checkpoint -> ONNX + spec (+ card), checked against PyTorch.

    The ONNX output is compared with PyTorch on real images (8 val images of ``data``, else
    frames of the demo clip). With ``data`` the model is also evaluated on the val split
    (``<out>.eval.json``) and, with ``int8``, a static int8 copy is tried. ``compare`` is the
    report.json of ``streamseg eval`` for the card's comparison; ``configs`` the train configs
    that reproduce the model; ``notes`` extra lines for the card.
    """
    from streamseg import log
    from streamseg.errors import ConfigError, InputError
    from streamseg.train import card as cardmod
    from streamseg.train.models import count_parameters
    from streamseg.train.checkpoint import model_from_checkpoint

    out = Path(out)
    data = Path(data) if data is not None else None
    if int8 and data is None:
        raise ConfigError("--int8 needs --data (calibration images and the val split to check accuracy)")
    if size < 32 or size % 32:
        raise ConfigError(f"--size: must be a positive multiple of 32, got {size}")
    if out.suffix.lower() != ".onnx":
        raise ConfigError(f"--out: expected a .onnx path, got {out}")
    targets = [out, out.with_suffix(".json")] + ([out.with_suffix(".md")] if card else [])
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise OutputError(f"{', '.join(existing)} already exist(s); use --force to overwrite")

    compare_report = None
    if compare is not None:
        compare = Path(compare)
        try:
            compare_report = json.loads(compare.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"--compare {compare}: cannot read it ({exc.strerror or exc})") from None
        except ValueError:
            raise InputError(f"--compare {compare}: not JSON (expected the report.json of streamseg eval)") from None
        if not isinstance(compare_report, dict) or not isinstance(compare_report.get("methods"), dict):
            raise InputError(f"--compare {compare}: no 'methods' table (expected the report.json of streamseg eval)")

    model, ckpt = model_from_checkpoint(checkpoint)
    arch = ckpt["arch"]
    name = name or arch
    history = ckpt.get("history", [])
    best = ckpt.get("best_epoch", ckpt.get("epoch"))
    desc = description or cardmod.ARCH_SUMMARY.get(arch, arch)

    vs = None
    if data is not None:
        from streamseg.train.validate import load_valset

        vs = load_valset(data, size)
        check = [vs.images[i] for i in np.linspace(0, len(vs.images) - 1, 8).round().astype(int)]
    else:
        check = _demo_frames(8)
    card_name = out.with_suffix(".md").name if card else None
    report = export_model(model, out, size, check, name=name, description=desc, card=card_name)
    log.info(f"wrote {report.onnx_path} and {report.spec_path}")
    log.info(f"ONNX Runtime vs PyTorch on {report.check_images} real images: max abs difference {report.max_abs_diff:.2e}")
    log.info(f"CPU latency (ONNX Runtime, batch 1, {size}x{size}): {report.latency_ms:.1f} ms")

    val = None
    if vs is not None:
        from streamseg.train.validate import evaluate, onnx_predictor

        res = evaluate(onnx_predictor(out), vs, batch=4)
        val = res.to_dict()
        val["worst"] = res.worst(10)
        log.info(f"val mIoU at {size}: {res.miou:.4f} " + " ".join(f"{k}={v:.3f}" for k, v in res.per_source.items()))
        out.with_suffix(".eval.json").write_text(json.dumps(dict(val, ious=dict(zip(res.ids, res.ious))), indent=1))
        report.extra["val"] = val
    int8_note = None
    if int8 and vs is not None and val is not None:
        int8_note = _try_int8(out, name, desc, size, data, vs, val["miou"], report.latency_ms)
    if card:
        info = {
            "name": name, "file": out.name, "arch": arch, "params": count_parameters(model), "size": size,
            "summary": desc + ".", "config": ckpt["config"], "history": history, "best_epoch": best, "val": val,
            "val_size": size, "sources": cardmod.data_sources(data) if data else [], "latency_ms": report.latency_ms,
            "max_abs_diff": report.max_abs_diff, "check_images": report.check_images,
            "notes": list(notes) + ([int8_note] if int8_note else []), "configs": list(configs),
            "compare": compare_report,
        }  # fmt: skip
        out.with_suffix(".md").write_text(cardmod.render_card(info), encoding="utf-8")
        log.info(f"wrote {out.with_suffix('.md')}")
    return report


def _try_int8(out: Path, name: str, desc: str, size: int, data: Path, vs, float_miou: float, float_ms: float) -> str:
    """Quantize, evaluate and time the int8 copy; keep it (with a spec) only if it is worth it. Returns a card note."""
    from streamseg import log
    from streamseg.dataset import SkinDataset
    from streamseg.train.quantize import quantize_qdq
    from streamseg.train.validate import evaluate, onnx_predictor

    ds = SkinDataset(data)
    train = ds.samples(split="train")
    pick = [train[int(i)] for i in np.linspace(0, len(train) - 1, 64).round().astype(int)]
    calib = [check_batch([ds.load_image(s)], size) for s in pick]
    q_path = out.with_name(out.stem + "-int8.onnx")
    quantize_qdq(out, q_path, calib)
    q_miou = evaluate(onnx_predictor(q_path), vs, batch=4).miou
    q_ms = latency_ms(q_path, size)
    verdict = (float_miou - q_miou) <= 0.005 and q_ms < float_ms
    msg = (
        f"int8 (static QDQ, 64 calibration images): val mIoU {q_miou:.4f} vs {float_miou:.4f} float, "
        f"{q_ms:.1f} ms vs {float_ms:.1f} ms"
    )
    if verdict:
        write_spec(q_path.with_suffix(".json"), spec_dict(name + "-int8", desc + " (int8)", q_path.name, size, out.with_suffix(".md").name))
        log.info(msg + f" -> kept as {q_path} (method {name}-int8)")
        return msg + f": shipped as `{q_path.name}` (method `{name}-int8`)."
    q_path.unlink(missing_ok=True)
    log.info(msg + " -> not kept (needs <= 0.5 point loss and a speed-up)")
    return msg + ": not shipped (the rule is at most 0.5 point lower and faster)."


def _demo_frames(n: int) -> list[np.ndarray]:
    """Up to ``n`` frames spread over the shipped demo clip (BGR uint8); random frames if it is missing."""
    import cv2

    from streamseg.paths import demo_clip

    cap = cv2.VideoCapture(str(demo_clip()))
    frames = []
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    for idx in np.linspace(0, max(total - 1, 0), n).round().astype(int) if total else []:
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(idx))
        ok, f = cap.read()
        if ok:
            frames.append(f)
    cap.release()
    if not frames:
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(n)]
    return frames

"""``streamseg export``: a training checkpoint -> ONNX model + spec (+ model card), checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    checkpoint: Path = typer.Argument(..., help="Checkpoint written by streamseg train (e.g. runs/dlmv-256/best.pt)."),
    out: Path = typer.Option(..., "--out", "-o", help="ONNX file to write (the spec goes beside it as .json)."),
    name: Optional[str] = typer.Option(None, "--name", help="Method name in the spec (default: the architecture)."),
    size: int = typer.Option(256, "--size", help="Square input size of the exported graph."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset: check on its val images, evaluate, write the model card."),
    description: Optional[str] = typer.Option(None, "--description", help="One-line description for the spec."),
    card: bool = typer.Option(True, "--card/--no-card", help="Write <out>.md (needs --data for the accuracy section)."),
    note: list[str] = typer.Option([], "--note", help="Extra line for the card's 'Notes and known gaps' (repeatable)."),
    compare: Optional[Path] = typer.Option(None, "--compare", help="report.json of `streamseg eval` (e.g. docs/eval/val/report.json): the card compares the model with its classical methods per source."),
    config_file: list[str] = typer.Option([], "--config-file", help="Train config(s) that reproduce the model, in the order they run (repeatable; default configs/<out stem>.toml)."),
    int8: bool = typer.Option(False, "--int8", help="Also try a static int8 (QDQ) copy; kept only if val mIoU stays within 0.5 point and it is faster (needs --data)."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite existing files."),
) -> None:
    """Export a checkpoint to ONNX (opset 17, input RGB [0, 1], output probability, dynamic batch).

    The ONNX output is compared with PyTorch on real images (val images with --data, else frames
    of the demo clip) and the max abs difference is printed. With --data the model is also
    evaluated on the val split (per-image IoU at 0.5, overall and per source) and the numbers go
    into the model card.

    Examples:

        streamseg export runs/dlmv-256/best.pt -o models/dlmv-256.onnx --name dlmv --size 256 --data ../shared/data/skin

        streamseg export runs/u2netp-512/best.pt -o models/u2netp-512.onnx --name u2netp --size 512
    """
    try:
        import torch  # noqa: F401
    except ImportError:
        from streamseg.errors import MethodError

        raise MethodError("export needs PyTorch and onnx: pip install 'streamseg[train]'") from None
    import json

    import numpy as np

    from streamseg import log
    from streamseg.errors import ConfigError, OutputError
    from streamseg.train import card as cardmod
    from streamseg.train.export import export_model
    from streamseg.train.models import count_parameters
    from streamseg.train.trainer import model_from_checkpoint

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
        from streamseg.errors import InputError

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
    int8_note = None
    if int8 and vs is not None and val is not None:
        int8_note = _try_int8(out, name, desc, size, data, vs, val["miou"], report.latency_ms)
    if card:
        info = {
            "name": name, "file": out.name, "arch": arch, "params": count_parameters(model), "size": size,
            "summary": desc + ".", "config": ckpt["config"], "history": history, "best_epoch": best, "val": val,
            "val_size": size, "sources": cardmod.data_sources(data) if data else [], "latency_ms": report.latency_ms,
            "max_abs_diff": report.max_abs_diff, "check_images": report.check_images,
            "notes": list(note) + ([int8_note] if int8_note else []), "configs": list(config_file),
            "compare": compare_report,
        }
        out.with_suffix(".md").write_text(cardmod.render_card(info), encoding="utf-8")
        log.info(f"wrote {out.with_suffix('.md')}")


def _try_int8(out: Path, name: str, desc: str, size: int, data: Path, vs, float_miou: float, float_ms: float) -> str:
    """Quantize, evaluate and time the int8 copy; keep it (with a spec) only if it is worth it. Returns a card note."""
    import numpy as np

    from streamseg import log
    from streamseg.dataset import SkinDataset
    from streamseg.train.export import check_batch, latency_ms, spec_dict, write_spec
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


def _demo_frames(n: int) -> list:
    """Up to ``n`` frames spread over the shipped demo clip (BGR uint8); random frames if it is missing."""
    import cv2
    import numpy as np

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

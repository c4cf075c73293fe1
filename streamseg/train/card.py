"""Model cards (``models/<name>.md``): what a shipped model is, what it was trained on, how well it does.

:func:`render_card` turns the facts gathered by ``streamseg export`` (checkpoint history and
config, val results, latency, data licences) into Markdown.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

ARCH_TEXT = {
    "dlmv": (
        "DeepLabV3 head (ASPP, 256 channels, atrous rates 12/24/36 and image pooling, then a 3x3 conv "
        "and a 1x1 classifier) on a MobileNetV3-Large backbone whose last stage is dilated (output "
        "stride 16); one output channel, bilinear upsampling to the input size, sigmoid in the graph. "
        "ImageNet mean/std normalisation is inside the graph."
    ),
    "u2netp": (
        "U²-NetP (Qin et al. 2020): six encoder stages of residual U-blocks (RSU-7/6/5/4/4F/4F, 16 mid / "
        "64 out channels), five decoder stages, six side outputs fused by a 1x1 conv; trained with deep "
        "supervision on the fused and all side outputs; the graph returns sigmoid(fused). "
        "ImageNet mean/std normalisation is inside the graph."
    ),
}

ARCH_TEXT["selfie"] = (
    "MediaPipe selfie segmentation (the 256x256 general model bundled in the mediapipe 0.10.21 wheel, "
    "Apache-2.0): a MobileNetV3-style encoder with squeeze-excite blocks and hard-swish, a light decoder "
    "with skip connections and attention gates, and a 2x2 transposed-conv head. Imported op by op from "
    "the TFLite flatbuffer (`streamseg.train.tflite_import`; parity with MediaPipe's own output < 2e-3) "
    "and fine-tuned for skin with every layer trainable; sigmoid in the graph, input RGB in [0, 1]."
)
ARCH_TEXT["pose"] = (
    "The person-segmentation branch of MediaPipe's BlazePose GHUM full (pose_landmark_full.tflite, "
    "bundled in the mediapipe 0.10.21 wheel, Apache-2.0): the shared encoder and the segmentation "
    "decoder, 1.6M of the model's 3.17M parameters; the landmark heads are dropped. Imported op by op "
    "from the TFLite flatbuffer (`streamseg.train.tflite_import`; parity with the TFLite interpreter "
    "< 5e-3 in probability) and fine-tuned for skin with every layer trainable; sigmoid in the graph, "
    "input RGB in [0, 1]."
)

#: architectures that start from MediaPipe's bundled weights (streamseg.train.tflite_import)
TRANSFERRED = ("selfie", "pose")

#: one-line description per architecture (model specs and the first line of a card)
ARCH_SUMMARY = {
    "dlmv": "DeepLabV3 + MobileNetV3-Large (11.0M), trained from scratch on the streamseg skin pool",
    "u2netp": "U²-NetP (1.1M), trained from scratch on the streamseg skin pool",
    "selfie": "MediaPipe's bundled selfie segmentation (106k parameters) fine-tuned for skin on the streamseg skin pool",
    "pose": "MediaPipe's bundled BlazePose GHUM segmentation branch (1.6M) fine-tuned for skin on the streamseg skin pool",
}

AUGMENT_TEXT = (
    "random scale and crop with aspect jitter (crop side {crop_scale[0]}-{crop_scale[1]} of the image), "
    "rotation up to ±{rotate_deg}°, horizontal flip (p {p_flip}); hue rotation (p {p_hue}, any angle), "
    "desaturation (p {p_desaturate}) and greyscale (p {p_grey}), contrast {contrast[0]}-{contrast[1]} and "
    "brightness ±{brightness} (p {p_contrast}; low contrast included), sepia (p {p_sepia}) / channel swap "
    "(p {p_channel_swap}), a rotated lattice or band laid over part of the image with the mask cleared "
    "under it (fishnets, bracelets, watches; p {p_lattice}), blur (p {p_blur}), Gaussian noise "
    "(p {p_noise}) and JPEG re-compression at quality {jpeg_quality[0]}-{jpeg_quality[1]} (p {p_jpeg}); "
    "a skinless wall (flat colour or gradient, mostly greys) in place of the view with an empty mask "
    "(p {p_blank}); mosaics of 2x2 or 3x3 views, so faces are small and several (p {p_mosaic}); a "
    "subject pasted at {small_subject_area[0]}-{small_subject_area[1]} of the frame onto another view "
    "(p {p_small_subject}); the skin pixels shifted darker or lighter in Lab (p {p_skin_tone}, "
    "{skin_tone_dark} of them darker); warm (tungsten) or cool white balance (p {p_white_balance})."
)


def _augment_defaults() -> dict:
    """Every augmentation key at its default (older checkpoints lack the newer keys)."""
    import dataclasses

    from streamseg.train.augment import AugmentConfig

    return dataclasses.asdict(AugmentConfig())


def data_sources(data: str | Path) -> list[dict]:
    """Per source of a dataset's ``manifest.csv``: name, train/val counts, quality, licence."""
    manifest = Path(data) / "manifest.csv"
    if not manifest.is_file():
        return []
    rows = list(csv.DictReader(manifest.open(newline="", encoding="utf-8")))
    out = []
    for src in sorted({r["source"] for r in rows}):
        rs = [r for r in rows if r["source"] == src]
        splits = Counter(r["split"] for r in rs)
        out.append({
            "source": src, "train": splits.get("train", 0), "val": splits.get("val", 0),
            "quality": ", ".join(sorted({r.get("quality", "") for r in rs})),
            "license": "; ".join(sorted({r.get("license", "") for r in rs})),
        })
    return out


def render_card(info: dict) -> str:
    """Markdown model card from ``info`` (keys: name, file, arch, params, size, config, history,
    best_epoch, val (ValResult.to_dict + worst), val_size, sources, latency_ms, max_abs_diff, notes)."""
    cfg = info["config"]
    hist = info.get("history", [])
    lines = [
        f"# {info['name']} — `{info['file']}`",
        "",
        info.get("summary", ""),
        "",
        "## Architecture",
        "",
        ARCH_TEXT.get(info["arch"], info["arch"]),
        "",
        f"- Parameters: {info['params']:,} ({info['params'] / 1e6:.2f}M)",
        f"- Input: `input`, float32 (N, 3, {info['size']}, {info['size']}), RGB in [0, 1] (the frame squashed to a square); "
        f"output: `output`, float32 (N, 1, {info['size']}, {info['size']}), skin probability. ONNX opset 17, dynamic batch.",
        f"- Export check: max abs difference ONNX Runtime vs PyTorch on {info.get('check_images', 0)} real images: "
        f"{info.get('max_abs_diff', float('nan')):.2e}",
        "",
        "## Training",
        "",
        (
            "Fine-tuned with `streamseg train` from MediaPipe's bundled weights (read from the installed "
            "mediapipe wheel, never downloaded); "
            if info["arch"] in TRANSFERRED
            else "Trained from scratch (no pretrained weights) with `streamseg train`; "
        )
        + _reproduce(info.get("configs") or [f"configs/{Path(info['file']).stem}.toml"])
        + " The numbers below describe the last run.",
        "",
        f"- Data: the `train` split of `../shared/data/skin` ({sum(s['train'] for s in info.get('sources', []))} images); "
        "`val` for model selection and the numbers below.",
        f"- Weak masks: `quality=weak` samples (tdp_fullbody50: hair often marked as skin, sometimes clothing) "
        f"have loss weight {cfg.get('weak_weight')}; the full-body masks that also mark some garments are kept "
        "at weight 1 (they cannot be told apart automatically, and they are a minority).",
        f"- Loss: BCE + soft IoU (weights {cfg.get('bce_weight')} / {cfg.get('iou_weight')})"
        + (", summed over the fused and the six side outputs (deep supervision)" if info["arch"] == "u2netp" else "")
        + (
            f"; plus {cfg['distill_weight']} x the same loss against the soft masks of `{cfg.get('teacher')}` "
            "on the same augmented views (distillation)"
            if cfg.get("distill_weight")
            else ""
        )
        + ".",
        f"- Optimiser: AdamW, lr {cfg.get('lr')}, weight decay {cfg.get('weight_decay')} (none on norms/biases), "
        f"batch {cfg.get('batch')}, linear warm-up {cfg.get('warmup_epochs')} epoch then cosine to "
        f"{cfg.get('min_lr_ratio')} x lr.",
        f"- Schedule: {len(hist)} epochs of {cfg.get('epoch_size') or 'all'} images "
        f"(progressive resizing: {_stages(hist)}); selected checkpoint: epoch {info.get('best_epoch')}.",
        "- Augmentation: " + AUGMENT_TEXT.format(**{**_augment_defaults(), **cfg["augment"]}),
        "",
        "## Data sources and licences",
        "",
        "| source | train | val | quality | licence / terms |",
        "|---|---|---|---|---|",
    ]
    for s in info.get("sources", []):
        lines.append(f"| {s['source']} | {s['train']} | {s['val']} | {s['quality']} | {s['license']} |")
    lines += [
        "",
        "Licences differ per source and several carry only the original dataset's terms: check them before "
        "redistributing the weights or using them commercially.",
        "",
        f"## Accuracy (val split, {info['val_size']}x{info['val_size']} input, per-image IoU at 0.5, mean)",
        "",
    ]
    val = info.get("val")
    if val:
        lines += [f"**Overall mIoU: {val['miou']:.4f}** ({val['n']} images)", "", "| source | mIoU |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" for k, v in val["per_source"].items()]
        if val.get("worst"):
            lines += ["", "Worst images: " + ", ".join(f"`{i}` {v:.3f}" for i, v in val["worst"])]
    else:
        lines.append("Not evaluated.")
    if info.get("compare") and val:
        lines += ["", *comparison_lines(info["name"], val, info["compare"])]
    lines += ["", "## Speed", ""]
    if info.get("latency_ms") is not None:
        lines.append(
            f"ONNX Runtime CPU, batch 1, {info['size']}x{info['size']}: median {info['latency_ms']:.1f} ms per frame "
            f"({info.get('latency_note', 'measured on the 2-core development machine')})."
        )
    if info.get("notes"):
        lines += ["", "## Notes and known gaps", ""] + [f"- {n}" for n in info["notes"]]
    return "\n".join(lines) + "\n"


def comparison_lines(name: str, val: dict, report: dict, margin: float = 0.05) -> list[str]:
    """Markdown section: the model's val mIoU per source next to every classical method of an
    ``streamseg eval`` report (``report.json``), and per source its lead over the best of them."""
    classical = {m: r for m, r in report.get("methods", {}).items() if r.get("kind") == "classical"}
    sources = list(val["per_source"])
    lines = [
        "## Compared with the classical methods (same val split, threshold 0.5)",
        "",
        "| method | overall | " + " | ".join(sources) + " |",
        "|---|---:|" + "---:|" * len(sources),
        f"| **{name}** | **{val['miou']:.3f}** | " + " | ".join(f"**{val['per_source'][s]:.3f}**" for s in sources) + " |",
    ]
    for m, r in classical.items():
        ps = r.get("per_source", {})
        cells = [f"{ps[s]['miou']:.3f}" if s in ps else "-" for s in sources]
        lines.append(f"| `{m}` | {r['miou']:.3f} | " + " | ".join(cells) + " |")
    leads = {}
    for s in sources:  # a source no classical method was scored on has no lead
        scored = [(r["per_source"][s]["miou"], m) for m, r in classical.items() if s in r.get("per_source", {})]
        if scored:
            best = max(scored)
            leads[s] = (val["per_source"][s] - best[0], best[1])
    behind = [f"{s} ({d:+.3f} vs `{m}`)" for s, (d, m) in leads.items() if d < margin]
    cmd = report.get("command", "streamseg eval")
    if not leads:
        return lines + ["", f"No classical method in `{cmd}` was scored on these sources."]
    lines += [
        "",
        f"Classical numbers from `{cmd}` (full-resolution images). Lead over the best classical method per "
        "source: " + ", ".join(f"{s} {d:+.3f}" for s, (d, _) in leads.items()) + ". "
        + (f"Not ahead by {margin:.2f} or more on: " + ", ".join(behind) + "." if behind
           else f"Ahead by {margin:.2f} or more on every source scored."),
    ]
    return lines


def _reproduce(configs: list[str]) -> str:
    if len(configs) == 1:
        return f"the config that reproduces it is `{configs[0]}`."
    steps = " then ".join(f"`{c}`" for c in configs)
    return f"the configs that reproduce it run in this order, each starting from the previous one's weights: {steps}."


def _stages(hist: list[dict]) -> str:
    if not hist:
        return "-"
    parts, cur, n = [], hist[0]["size"], 0
    for h in hist:
        if h["size"] != cur:
            parts.append(f"{n} at {cur} px")
            cur, n = h["size"], 0
        n += 1
    parts.append(f"{n} at {cur} px")
    return ", ".join(parts)

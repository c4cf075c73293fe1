#!/usr/bin/env python
"""Convert the models bundled in the mediapipe 0.10.21 wheel (Apache-2.0) to the ONNX files that
streamseg ships in ``streamseg/data/models``, with their JSON specs and Markdown cards.

Run once, by a maintainer, in the development venv (``scripts/env.sh dev,train``: torch, onnx and
tflite) with ``mediapipe==0.10.21`` installed; nothing is downloaded. Each graph is read from the
``.tflite`` flatbuffer by :mod:`streamseg.train.tflite_import`, exported with the TorchScript
exporter (``dynamo=False``, opset 17, dynamic batch), checked with ``onnx.checker``, compared with
PyTorch under ONNX Runtime and with MediaPipe's own output, and the measured differences go into
the card.

Usage:
    .venv/bin/python scripts/convert_mediapipe.py [NAME ...] [--out DIR] [--force]

NAME: ``person-selfie``, ``face-short``, ``face-full``, ``palm-lite``, ``hand-lite`` (default: all).
Existing files are kept unless ``--force``. The detectors' cards give their parity with
``mp.solutions`` on the demo clip (measured with the converted models in place).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPSET = 17
DEMO = ROOT / "examples" / "face_thumbsup_pixabay_720p.mp4"
DEMO_FRAME = 60


def demo_frame(index: int = DEMO_FRAME) -> np.ndarray:
    """Frame ``index`` of the demo clip, BGR uint8."""
    cap = cv2.VideoCapture(str(DEMO))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok:
        raise SystemExit(f"error: cannot read frame {index} of {DEMO}")
    return frame


def export(module, path: Path, size_hw: tuple[int, int], output_names: list[str]) -> None:
    """``module`` (RGB float32 (N, 3, H, W) in [0, 1] in) -> ONNX at ``path``, dynamic batch."""
    import onnx
    import torch

    dummy = torch.rand(1, 3, *size_hw)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript exporter chosen on purpose; fixed sizes are traced
        torch.onnx.export(
            module.eval(), (dummy,), str(path), opset_version=OPSET, input_names=["input"],
            output_names=output_names, dynamo=False, do_constant_folding=True,
            dynamic_axes={n: {0: "batch"} for n in ["input", *output_names]},
        )
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    # provenance in the file itself, so a copy of it still says where it came from
    del model.metadata_props[:]
    for k, v in {"source": "mediapipe 0.10.21 bundled model (Apache-2.0)",
                 "converter": "streamseg scripts/convert_mediapipe.py"}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, str(path))


def ort_session(path: Path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def ort_latency_ms(path: Path, size_hw: tuple[int, int], runs: int = 30) -> float:
    """Median ONNX Runtime CPU latency of one frame, batch 1, one thread."""
    from streamseg.train.export import latency_ms

    return latency_ms(path, size_hw, threads=1, runs=runs, warmup=5)


def to_input(rgb_uint8: np.ndarray) -> np.ndarray:
    """RGB uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [0, 1]."""
    return np.ascontiguousarray(rgb_uint8.transpose(0, 3, 1, 2), np.float32) / 255.0


def generated_rgb(n: int, size: int, seed: int) -> np.ndarray:
    """Smooth random RGB uint8 images (N, size, size, 3): blurred noise plus gradients."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        yy, xx = np.mgrid[0:size, 0:size] / size
        img += 60 * np.stack([yy, xx, 1 - yy], -1)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(out)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- person-selfie

SELFIE_DESC = ("MediaPipe's selfie segmentation (the general 256x256 model), unchanged: a person "
               "probability, used as a gate, not a skin method")


def convert_person_selfie(out: Path) -> dict:
    """``selfie_segmentation.tflite`` -> ``person-selfie-256.onnx`` (+ spec, card)."""
    import mediapipe as mp
    import torch

    from streamseg.train.tflite_import import BUNDLED, TfliteGraph

    graph = TfliteGraph.bundled("selfie").eval()  # ends in the model's own sigmoid: a probability
    if graph.ops[-1].kind != "LOGISTIC":
        raise SystemExit("error: the selfie graph no longer ends in a sigmoid")
    onnx_path = out / "person-selfie-256.onnx"
    export(graph, onnx_path, (256, 256), ["output"])
    sess = ort_session(onnx_path)

    frame = demo_frame()
    h, w = frame.shape[:2]
    square = cv2.resize(frame[:, (w - h) // 2:(w + h) // 2], (256, 256), interpolation=cv2.INTER_AREA)
    images = np.concatenate([generated_rgb(7, 256, seed=3), square[None, ..., ::-1]])
    x = to_input(images)
    got = sess.run(["output"], {"input": x})[0][:, 0]
    with torch.no_grad():
        torch_out = graph(torch.from_numpy(x)).numpy()[:, 0]
    vs_torch = float(np.abs(got - torch_out).max())

    # MediaPipe's own pipeline: on 256x256 images (no resampling on either side), then on the
    # whole 720p frame through streamseg's runtime path (squash to 256, upsample back)
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        want = np.stack([seg.process(np.ascontiguousarray(im)).segmentation_mask for im in images])
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        want_full = seg.process(np.ascontiguousarray(frame[..., ::-1])).segmentation_mask
    vs_mp = float(np.abs(got - want).max())
    vs_mp_square = float(np.abs(got[-1] - want[-1]).max())

    from streamseg.train.export import spec_dict

    spec = spec_dict("person-selfie", SELFIE_DESC, onnx_path.name, 256, "person-selfie-256.md")
    # "task" goes right after the description, where the shipped JSON has it
    spec = {"name": spec["name"], "description": spec["description"], "task": "person", **spec}
    write_json(out / "person-selfie-256.json", spec)

    from streamseg.segment.base import MethodOptions
    from streamseg.segment.onnx_model import ModelSpec, OnnxSegmenter

    runtime = OnnxSegmenter.from_spec(ModelSpec.load(out / "person-selfie-256.json"),
                                      MethodOptions(threads=1, provider="cpu"))
    full = runtime(frame)
    runtime.close()
    vs_mp_full = float(np.abs(full - want_full).max())
    # MediaPipe's own resampling (ImageToTensorCalculator: warpAffine, bilinear, no half-pixel
    # shift; the mask resized back bilinearly) around the ONNX model
    scale = np.array([[256 / w, 0, 0], [0, 256 / h, 0]], np.float32)
    warped = cv2.warpAffine(frame, scale, (256, 256), flags=cv2.INTER_LINEAR)[None, ..., ::-1]
    prob = sess.run(["output"], {"input": to_input(warped)})[0][0, 0]
    vs_mp_warp = float(np.abs(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR) - want_full).max())
    vs_mp_full_mean = float(np.abs(full - want_full).mean())
    iou = float(((full > 0.5) & (want_full > 0.5)).sum() / max(((full > 0.5) | (want_full > 0.5)).sum(), 1))
    lat = ort_latency_ms(onnx_path, (256, 256))
    params = sum(p.numel() for p in graph.parameters())
    size_kb = onnx_path.stat().st_size / 1024
    card = f"""# person-selfie — `person-selfie-256.onnx`

{SELFIE_DESC}.

Not a skin method: its spec says `"task": "person"`, so `streamseg methods` does not list it.
It says where a person is (hair, clothes and all), for gates that keep skin-coloured background out.

## Source and licence

`mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite` from the mediapipe 0.10.21
wheel, Apache-2.0 (Google LLC). Model card: MediaPipe Selfie Segmentation (2021). The weights are
unchanged: fp16 weights behind `DEQUANTIZE` become float32.

## Conversion

`scripts/convert_mediapipe.py person-selfie` (in the development venv: `scripts/env.sh dev,train`
with `mediapipe==0.10.21`): the flatbuffer is read op by op by `streamseg.train.tflite_import`
(`{BUNDLED['selfie'][0]}`), exported with `torch.onnx.export(..., dynamo=False)`, opset {OPSET},
checked with `onnx.checker`.

- Parameters: {params:,}; file {size_kb:.0f} KiB
- Input: `input`, float32 (N, 3, 256, 256), RGB in [0, 1] (the frame squashed to a square, as
  MediaPipe feeds it); output: `output`, float32 (N, 1, 256, 256), person probability in [0, 1]
  (the model's own sigmoid in the graph). Dynamic batch.

## Parity

- ONNX Runtime vs the PyTorch graph, 8 images (7 generated, 1 demo frame): max abs difference {vs_torch:.1e}
- ONNX Runtime vs `mp.solutions.selfie_segmentation` (model_selection=0) on the same 256x256
  images: max abs difference {vs_mp:.1e} (frame {DEMO_FRAME} of the demo clip, centre square: {vs_mp_square:.1e})
- The whole 1280x720 frame {DEMO_FRAME} against MediaPipe's mask of the same frame: with MediaPipe's
  resampling (`cv2.warpAffine` bilinear to 256x256, the mask resized back bilinearly) max abs
  difference {vs_mp_warp:.1e}; through streamseg's runtime path (`OnnxSegmenter`: 2x2 halvings,
  one resize, upsampled back) max {vs_mp_full:.2f}, mean {vs_mp_full_mean:.3f}, IoU of the two
  masks at 0.5: {iou:.3f}. The model is the same; the inputs differ (MediaPipe samples the 720p
  frame bilinearly without averaging, streamseg averages), and the person model answers
  differently on uncertain regions.

## Speed

ONNX Runtime CPU, batch 1, one thread, 256x256: median {lat:.1f} ms (measured on the 2-core
development machine, beside other jobs).
"""
    (out / "person-selfie-256.md").write_text(card, encoding="utf-8")
    return {"onnx_vs_torch": vs_torch, "onnx_vs_mediapipe_256": vs_mp, "demo_square": vs_mp_square,
            "demo_full_frame_warp": vs_mp_warp, "demo_full_frame_max": vs_mp_full, "demo_full_frame_mean": vs_mp_full_mean, "demo_full_frame_iou": iou, "latency_ms": lat}


# --------------------------------------------------------------------------- detectors

#: name -> (tflite under mediapipe/modules, file stem, input size, input range, output names, task, description)
DETECTORS = {
    "face-short": ("face_detection/face_detection_short_range.tflite", "face-detect-short-128", 128, (-1.0, 1.0),
                   ["regressors", "classificators"], "face-detection",
                   "MediaPipe's short-range face detector (BlazeFace, faces within about 2 m), unchanged"),
    "face-full": ("face_detection/face_detection_full_range_sparse.tflite", "face-detect-full-192", 192, (-1.0, 1.0),
                  ["regressors", "classificators"], "face-detection",
                  "MediaPipe's full-range face detector (faces within about 5 m; sparse weights densified), unchanged"),
    "palm-lite": ("palm_detection/palm_detection_lite.tflite", "palm-detect-lite-192", 192, (0.0, 1.0),
                  ["regressors", "classificators"], "palm-detection",
                  "MediaPipe's palm detector (lite, model_complexity 0), unchanged"),
    "hand-lite": ("hand_landmark/hand_landmark_lite.tflite", "hand-landmark-lite-224", 224, (0.0, 1.0),
                  ["landmarks", "presence", "handedness", "world_landmarks"], "hand-landmarks",
                  "MediaPipe's hand landmark model (lite, model_complexity 0): 21 landmarks, presence, handedness, "
                  "world landmarks, unchanged"),
}


class _Ranged:
    """Wraps an imported graph so it takes RGB in [0, 1] like every streamseg model, whatever range
    the TFLite model was trained on (the face detectors: [-1, 1])."""

    def __new__(cls, graph, lo: float, hi: float):
        import torch

        class Ranged(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.graph = graph

            def forward(self, x):
                return self.graph(x * (hi - lo) + lo) if (lo, hi) != (0.0, 1.0) else self.graph(x)

        return Ranged()


def convert_detector(key: str, out: Path) -> dict:
    """One of :data:`DETECTORS` -> ``<stem>.onnx`` + spec + card; returns the measured numbers."""
    import torch

    from streamseg.train.tflite_import import TfliteMultiGraph, bundled_model_path

    rel, stem, size, (lo, hi), names, task, desc = DETECTORS[key]
    tfl = Path(bundled_model_path("selfie")).parents[1] / rel
    graph = TfliteMultiGraph.from_file(tfl).eval()
    module = _Ranged(graph, lo, hi).eval()
    onnx_path = out / f"{stem}.onnx"
    export(module, onnx_path, (size, size), names)
    sess = ort_session(onnx_path)
    x = to_input(generated_rgb(4, size, seed=11))
    got = sess.run(names, {"input": x})
    with torch.no_grad():
        want = [t.numpy() for t in module(torch.from_numpy(x))]
    diffs = {n: float(np.abs(g - w).max()) for n, g, w in zip(names, got, want)}
    shapes = {n: [None if not isinstance(d, int) else d for d in o.shape] for n, o in zip(names, sess.get_outputs())}
    spec = {
        "name": stem.rsplit("-", 1)[0],
        "description": desc,
        "task": task,
        "file": onnx_path.name,
        "input_name": "input",
        "input_size": [size, size],
        "color_order": "RGB",
        "scale": 255.0,
        "mean": None,
        "std": None,
        "outputs": names,
        "dynamic_batch": True,
        "source": f"mediapipe 0.10.21: mediapipe/modules/{rel}",
        "card": f"{stem}.md",
    }
    write_json(out / f"{stem}.json", spec)
    lat = ort_latency_ms(onnx_path, (size, size))
    params = sum(p.numel() for p in graph.parameters())
    return dict(stem=stem, rel=rel, size=size, range=(lo, hi), names=names, shapes=shapes, desc=desc,
                onnx_vs_torch=diffs, latency_ms=lat, params=params, kib=onnx_path.stat().st_size / 1024)


def detector_card(info: dict, parity: list[str]) -> str:
    """The Markdown card of a converted detector."""
    outs = "; ".join(f"`{n}` float32 {tuple(info['shapes'][n])}".replace("None", "N") for n in info["names"])
    rng = "" if info["range"] == (0.0, 1.0) else (
        f" (the model was trained on [{info['range'][0]:g}, {info['range'][1]:g}]; the rescaling is in the graph)")
    diffs = ", ".join(f"{n} {d:.1e}" for n, d in info["onnx_vs_torch"].items())
    lines = [
        f"# {info['stem']} — `{info['stem']}.onnx`", "",
        f"{info['desc']}.", "",
        "Not a skin method (its spec's `task` is not `skin`): the face and hand labels of `--rois`, "
        "`--hands` and the `face` method run it through `streamseg.rois.blaze`.", "",
        "## Source and licence", "",
        f"`mediapipe/modules/{info['rel']}` from the mediapipe 0.10.21 wheel, Apache-2.0 (Google LLC). "
        "The weights are unchanged: fp16 weights behind `DEQUANTIZE` (and sparse ones behind `DENSIFY`) become float32.", "",
        "## Conversion", "",
        f"`scripts/convert_mediapipe.py` (development venv with `mediapipe==0.10.21`): read op by op by "
        f"`streamseg.train.tflite_import.TfliteMultiGraph`, exported with `torch.onnx.export(..., dynamo=False)`, "
        f"opset {OPSET}, checked with `onnx.checker`.", "",
        f"- Parameters: {info['params']:,}; file {info['kib']:.0f} KiB",
        f"- Input: `input`, float32 (N, 3, {info['size']}, {info['size']}), RGB in [0, 1]{rng}. Dynamic batch.",
        f"- Outputs: {outs}.",
        f"- ONNX Runtime vs the PyTorch graph on 4 generated images, max abs difference: {diffs}", "",
        "## Parity with MediaPipe", "",
        *parity, "",
        "## Speed", "",
        f"ONNX Runtime CPU, batch 1, one thread: median {info['latency_ms']:.2f} ms (the 2-core development "
        "machine, beside other jobs).", "",
    ]
    return "\n".join(lines)


def demo_rgb_frames(step: int, stop: int) -> list[np.ndarray]:
    """RGB frames 0, step, ... < stop of the demo clip."""
    cap = cv2.VideoCapture(str(DEMO))
    out = []
    for i in range(stop):
        ok, f = cap.read()
        if not ok:
            break
        if i % step == 0:
            out.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def generated_frames(frames: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """The frames moved, scaled, turned and mirrored onto noisy backgrounds (as the parity tests)."""
    rng = np.random.default_rng(seed)
    out = []
    for f in frames:
        w, h = (640, 480) if rng.random() < 0.7 else (480, 640)
        bg = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
        m = cv2.getRotationMatrix2D((f.shape[1] / 2, f.shape[0] / 2), rng.uniform(-25, 25), rng.uniform(0.35, 0.7))
        m[:, 2] += [w / 2 - f.shape[1] / 2 + rng.uniform(-60, 60), h / 2 - f.shape[0] / 2 + rng.uniform(-40, 40)]
        img = cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_LINEAR)
        inside = cv2.warpAffine(np.ones(f.shape[:2], np.uint8), m, (w, h)) > 0
        img = np.where(inside[..., None], img, bg)
        out.append(np.ascontiguousarray(img[:, ::-1] if rng.random() < 0.5 else img))
    return out


def face_parity(face_range: str) -> list[str]:
    """Card lines: the ONNX face detector against ``mp.solutions.face_detection``."""
    import mediapipe as mp

    from streamseg.rois.blaze import FaceDetector

    shipped = demo_rgb_frames(10, 150)
    frames = shipped + generated_frames(shipped, seed=1)
    ours = FaceDetector(face_range, 0.5, provider="cpu")
    worst, n, same = 0.0, 0, 0
    with mp.solutions.face_detection.FaceDetection(model_selection=int(face_range == "full")) as fd:
        for rgb in frames:
            h, w = rgb.shape[:2]
            want = fd.process(rgb).detections or []
            got = ours.detect(rgb)
            same += len(want) == len(got)
            for d, g in zip(want, got):
                b = d.location_data.relative_bounding_box
                box = np.array([b.xmin, b.ymin, b.xmin + b.width, b.ymin + b.height]).reshape(2, 2)
                kp = np.array([[k.x, k.y] for k in d.location_data.relative_keypoints])
                worst = max(worst, float(np.abs(g.box.reshape(2, 2) / [w, h] - box).max()),
                            float(np.abs(g.keypoints / [w, h] - kp).max()))
                n += 1
    return [f"Against `mp.solutions.face_detection` (model_selection={int(face_range == 'full')}) on "
            f"{len(shipped)} frames of the demo clip and {len(shipped)} generated from them (moved, scaled, "
            f"turned, mirrored, on other backgrounds): the same number of faces on {same} of {len(frames)} "
            f"frames, {n} faces compared, box corners and keypoints within {worst:.1e} of the frame "
            "(`tests/test_mp_onnx_detectors.py` requires 2 %)."]


def hand_parity() -> list[str]:
    """Card lines: palm detection + hand landmarks against ``mp.solutions.hands`` (static mode)."""
    import mediapipe as mp

    from streamseg.rois.blaze import HandTracker

    shipped = demo_rgb_frames(6, 150)
    frames = shipped + generated_frames(shipped, seed=7)
    ours = HandTracker(max_hands=2, provider="cpu", static=True)
    worst, worst_world, n, same = 0.0, 0.0, 0, 0
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2, model_complexity=0) as hands:
        for rgb in frames:
            h, w = rgb.shape[:2]
            res = hands.process(rgb)
            got = ours.process(rgb)
            lms = res.multi_hand_landmarks or []
            same += len(lms) == len(got)
            for lm, world, g in zip(lms, res.multi_hand_world_landmarks or [], got):
                pts = np.array([[p.x * w, p.y * h] for p in lm.landmark])
                span = (pts.max(0) - pts.min(0)).max()
                worst = max(worst, float(np.abs(pts - g.landmarks[:, :2] * [w, h]).max() / span))
                wp = np.array([[p.x, p.y, p.z] for p in world.landmark])
                worst_world = max(worst_world, float(np.abs(wp - g.world).max()))
                n += 1
    return [f"Palm detection and hand landmarks together against `mp.solutions.hands` "
            f"(static_image_mode, model_complexity=0) on {len(shipped)} frames of the demo clip and "
            f"{len(shipped)} generated from them: the same number of hands on {same} of {len(frames)} frames, "
            f"{n} hands compared, landmarks within {worst:.1e} of the hand box (required: 1.5 %), world "
            f"landmarks within {worst_world * 1000:.2f} mm. Tracking between frames is checked step by step "
            "against MediaPipe's own crops (`tests/test_mp_onnx_detectors.py`)."]


PARITY = {"face-short": lambda: face_parity("short"), "face-full": lambda: face_parity("full"),
          "palm-lite": hand_parity, "hand-lite": hand_parity}


CONVERTERS = {
    "person-selfie": (convert_person_selfie, ["person-selfie-256.onnx", "person-selfie-256.json", "person-selfie-256.md"]),
    **{k: (None, [f"{v[1]}.onnx", f"{v[1]}.json", f"{v[1]}.md"]) for k, v in DETECTORS.items()},
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"models to convert (default: all): {', '.join(CONVERTERS)}")
    ap.add_argument("--out", type=Path, default=ROOT / "streamseg" / "data" / "models", help="folder to write to")
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    args = ap.parse_args(argv)
    names = args.names or list(CONVERTERS)
    unknown = [n for n in names if n not in CONVERTERS]
    if unknown:
        print(f"error: unknown model(s) {', '.join(unknown)}; known: {', '.join(CONVERTERS)}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        fn, files = CONVERTERS[name]
        existing = [f for f in files if (args.out / f).exists()]
        if existing and not args.force:
            print(f"error: {', '.join(existing)} exist(s) in {args.out}; use --force to overwrite", file=sys.stderr)
            return 1
        if fn is not None:
            print(name, json.dumps(fn(args.out)))
            continue
        info = convert_detector(name, args.out)
        if args.out.resolve() != (ROOT / "streamseg" / "data" / "models").resolve():
            parity = ["Not measured: the parity run needs the models in streamseg/data/models."]
        else:
            parity = PARITY[name]()
        (args.out / f"{info['stem']}.md").write_text(detector_card(info, parity), encoding="utf-8")
        print(name, json.dumps({k: info[k] for k in ("onnx_vs_torch", "latency_ms", "params", "kib")}), parity[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

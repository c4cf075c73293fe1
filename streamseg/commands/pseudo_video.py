"""``streamseg pseudo-video``: a ground-truth test video from one image and its skin mask."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    image: Path = typer.Argument(..., help="Image file (any format OpenCV reads)."),
    mask: Path = typer.Argument(..., help="Its skin mask: a grey image, skin = value > 127, same size."),
    output: Path = typer.Option(..., "--output", "-o", help="Output video (.mp4, .mkv, .mov, .webm)."),
    masks: Optional[Path] = typer.Option(
        None, "--masks", help="Where the true masks go: .npz (exact, default <output>_masks.npz) or a video (.mp4/.mkv, lossless)."
    ),
    frames: int = typer.Option(100, "--frames", "-n", min=1, max=100000, help="Number of frames."),
    fps: float = typer.Option(25.0, "--fps", min=1.0, max=240.0, help="Frame rate of the output."),
    max_side: int = typer.Option(0, "--max-side", min=0, help="Downscale so the longer side is at most this (0 = keep)."),
    pan: float = typer.Option(0.05, "--pan", min=0.0, max=0.5, help="Peak translation, fraction of the frame size."),
    zoom: float = typer.Option(0.06, "--zoom", min=0.0, max=1.0, help="Peak relative scale change."),
    rotate: float = typer.Option(3.0, "--rotate", min=0.0, max=180.0, help="Peak rotation in degrees."),
    period: float = typer.Option(80.0, "--period", min=2.0, help="Frames per motion cycle."),
    noise: float = typer.Option(3.0, "--noise", min=0.0, max=100.0, help="Sensor noise: Gaussian standard deviation in grey levels."),
    drift: float = typer.Option(0.08, "--drift", min=0.0, max=1.0, help="Peak relative brightness drift."),
    jpeg: int = typer.Option(80, "--jpeg", min=0, max=100, help="JPEG quality of the per-frame re-encoding (0 = none)."),
    patch_on: Optional[int] = typer.Option(None, "--patch-on", min=0, help="Frame where a skin patch appears (a step change)."),
    patch_off: Optional[int] = typer.Option(None, "--patch-off", min=0, help="Frame where the skin patch disappears."),
    seed: int = typer.Option(0, "--seed", help="Random seed (motion phases, noise)."),
    overwrite: bool = typer.Option(False, "--overwrite", "-y", help="Replace existing outputs."),
) -> None:
    """Make a pseudo-video: IMAGE and MASK moved together (pan, zoom, rotation) with per-frame
    sensor noise, brightness drift and JPEG re-encoding, so every frame has an exact mask.

    Use it to measure flicker (dtSSD) and lag of a method and smoother against ground truth.

    Examples:

        streamseg pseudo-video face.jpg face_mask.png -o face_pv.mp4 --frames 150

        streamseg pseudo-video hand.jpg hand.png -o step.mp4 -n 60 --pan 0 --zoom 0 --rotate 0 --patch-on 20 --patch-off 40
    """
    import itertools
    import time
    from fractions import Fraction

    import cv2
    import numpy as np

    from streamseg import log
    from streamseg.errors import ConfigError, InputError, OutputError
    from streamseg.sinks.encoder import EncoderSettings, VideoEncoder
    from streamseg.sinks.output_path import commit, prepare_output
    from streamseg.smooth.pseudo_video import PseudoVideoOptions, iter_pseudo_video

    for p, what in ((image, "image"), (mask, "mask")):
        if not p.is_file():
            raise InputError(f"{what} not found: {p}")
    img = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(f"cannot decode image {image}")
    m = cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE)
    if m is None:
        raise InputError(f"cannot decode mask {mask}")
    if m.shape != img.shape[:2]:
        raise InputError(f"mask {mask} is {m.shape[1]}x{m.shape[0]} but image {image} is {img.shape[1]}x{img.shape[0]}")
    if patch_off is not None and patch_on is None:
        raise ConfigError("--patch-off needs --patch-on")
    if patch_on is not None and patch_off is not None and patch_off <= patch_on:
        raise ConfigError(f"--patch-off ({patch_off}) must come after --patch-on ({patch_on})")
    if output.suffix.lower() not in (".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi"):
        raise OutputError(f"output must be a video file (.mp4, .mkv, .mov, .webm, .avi), got {output.name!r}")
    masks = masks or output.with_name(f"{output.stem}_masks.npz")
    if masks.suffix.lower() not in (".npz", ".mp4", ".mkv", ".avi"):
        raise OutputError(f"--masks must end in .npz, .mp4, .mkv or .avi, got {masks.name!r}")
    if masks.resolve() == output.resolve():
        raise OutputError("--masks and --output are the same file")
    prepare_output(output, overwrite, inputs=(image, mask))
    prepare_output(masks, overwrite, inputs=(image, mask))

    opts = PseudoVideoOptions(
        frames=frames, max_side=max_side, pan=pan, zoom=zoom, rotate=rotate, period=period, noise=noise,
        drift=drift, jpeg=jpeg, patch_on=patch_on, patch_off=patch_off, seed=seed,
    )  # fmt: skip
    rate = Fraction(fps).limit_denominator(1001)
    t0 = time.perf_counter()
    gen = iter_pseudo_video(img, m > 127, opts)
    try:
        first = next(gen)
    except ValueError as exc:
        raise InputError(f"cannot make a pseudo-video from {image}: {exc}") from None
    h, w = first[1].shape
    video = VideoEncoder(output, w, h, rate, settings=EncoderSettings(crf=18))
    mask_video = VideoEncoder(masks, w, h, rate, settings=EncoderSettings(crf=0)) if masks.suffix.lower() != ".npz" else None
    truth, patch = [], []
    try:
        for frame, t_mask, t_patch in itertools.chain([first], gen):
            video.write(frame)
            if mask_video is not None:
                grey = t_mask.astype(np.uint8) * 255
                mask_video.write(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
            else:
                truth.append(t_mask)
                patch.append(t_patch)
    except BaseException:
        video.abort(keep_partial=False)
        if mask_video is not None:
            mask_video.abort(keep_partial=False)
        raise
    video.finish()
    if mask_video is not None:
        mask_video.finish()
    else:
        tmp = masks.with_name(f"{masks.stem}.partial.npz")
        np.savez_compressed(
            tmp, masks=np.stack(truth), patch=np.stack(patch),
            patch_on=np.int64(-1 if patch_on is None else patch_on),
            patch_off=np.int64(-1 if patch_on is None else (patch_off if patch_off is not None else frames)),
        )  # fmt: skip
        commit(tmp, masks)
    log.info(f"wrote {output} ({frames} frames, {w}x{h}, {fps:g} fps) and the true masks to {masks} in {time.perf_counter() - t0:.1f} s")


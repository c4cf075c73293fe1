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
    from streamseg.offline.pseudo_video import write_pseudo_video
    from streamseg.smooth.pseudo_video import PseudoVideoOptions

    opts = PseudoVideoOptions(
        frames=frames, max_side=max_side, pan=pan, zoom=zoom, rotate=rotate, period=period, noise=noise,
        drift=drift, jpeg=jpeg, patch_on=patch_on, patch_off=patch_off, seed=seed,
    )  # fmt: skip
    write_pseudo_video(image, mask, output, masks=masks, options=opts, fps=fps, overwrite=overwrite)

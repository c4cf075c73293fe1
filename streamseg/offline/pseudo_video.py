"""``streamseg pseudo-video`` as one call: an image and its skin mask on disk -> a ground-truth test
video and its true masks (the frames come from :mod:`streamseg.smooth.pseudo_video`).

Example::

    from streamseg.offline.pseudo_video import write_pseudo_video
    from streamseg.smooth.pseudo_video import PseudoVideoOptions
    write_pseudo_video("face.jpg", "face_mask.png", "face_pv.mp4", options=PseudoVideoOptions(frames=150))
"""

from __future__ import annotations

import itertools
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from streamseg import log
from streamseg.errors import ConfigError, InputError, OutputError
from streamseg.sinks.settings import EncoderSettings
from streamseg.sinks.writer import VideoEncoder
from streamseg.sinks.output_path import commit, prepare_output
from streamseg.smooth.pseudo_video import PseudoVideoOptions, iter_pseudo_video


def write_pseudo_video(
    image: str | Path,
    mask: str | Path,
    output: str | Path,
    masks: str | Path | None = None,
    options: PseudoVideoOptions | None = None,
    fps: float = 25.0,
    overwrite: bool = False,
) -> Path:
    """``streamseg pseudo-video``: the image and mask files -> a video file and its true masks.

    The masks go to ``masks`` (default ``<output stem>_masks.npz``): an ``.npz`` holds them exactly
    (``masks``, ``patch``, ``patch_on``, ``patch_off``; -1 = no patch), a video losslessly (grey, skin = 255).
    Both files appear whole or not at all. Returns the path of the masks.
    """
    o = options or PseudoVideoOptions()
    image, mask, output = Path(image), Path(mask), Path(output)
    patch_on, patch_off, frames = o.patch_on, o.patch_off, o.frames
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
    masks = Path(masks) if masks is not None else output.with_name(f"{output.stem}_masks.npz")
    if masks.suffix.lower() not in (".npz", ".mp4", ".mkv", ".avi"):
        raise OutputError(f"--masks must end in .npz, .mp4, .mkv or .avi, got {masks.name!r}")
    if masks.resolve() == output.resolve():
        raise OutputError("--masks and --output are the same file")
    prepare_output(output, overwrite, inputs=(image, mask))
    prepare_output(masks, overwrite, inputs=(image, mask))

    rate = Fraction(fps).limit_denominator(1001)
    t0 = time.perf_counter()
    gen = iter_pseudo_video(img, m > 127, o)
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
    return masks

"""``streamseg image``: skin masks (and overlays) for still images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from streamseg.commands.common import DEFAULT_METHOD, MethodOpt, OverwriteOpt, ProviderOpt, SizeOpt, StrictOpt, ThreadsOpt, ThresholdOpt


def command(
    paths: Annotated[list[str], typer.Argument(help="Image files, folders or globs (quote globs).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output folder (default: next to each image).")] = None,
    method: MethodOpt = DEFAULT_METHOD,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help="mask (PNG 0/255), overlay, cutout, side-by-side, prob (8-bit probability); comma-separated.")
    ] = "mask",
    threshold: ThresholdOpt = 0.5,
    provider: ProviderOpt = "auto",
    threads: ThreadsOpt = 0,
    size: SizeOpt = None,
    strict: StrictOpt = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Write a skin mask PNG (and overlays on request) for each image.

    Outputs are named <stem>_<type>.png. Images that cannot be read are reported and skipped;
    the exit code is then non-zero.

    Examples:

        streamseg image photo.jpg

        streamseg image photos/ -o masks/ -T mask,overlay --model u2netp

        streamseg image "shots/**/*.png" -m ellipse-diag
    """
    import cv2

    from streamseg import log
    from streamseg.capture.image import expand_inputs, read_image
    from streamseg.commands.common import build_segmenter
    from streamseg.errors import ConfigError, IncompleteError, OutputError, StreamsegError
    from streamseg.render import OUTPUT_TYPES, render
    from streamseg.sinks.output_path import commit, partial_path, prepare_output

    types = [t.strip() for t in output_type.split(",") if t.strip()]
    allowed = (*OUTPUT_TYPES, "prob")
    if not types or any(t not in allowed for t in types):
        raise ConfigError(f"--output-type {output_type!r}: choose from {', '.join(allowed)}")
    files = expand_inputs(paths)
    segmenter = build_segmenter(method, provider, threads, size, strict)
    failed = 0
    written = 0
    for path in files:
        try:
            img = read_image(path)
            segmenter.reset()
            prob = segmenter.segment(img)
            mask = prob >= threshold
            folder = output if output is not None else path.parent
            for t in types:
                out = prepare_output(folder / f"{path.stem}_{t}.png", overwrite=overwrite, inputs=(path,))
                pic = (
                    (prob * 255 + 0.5).astype("uint8")
                    if t == "prob"
                    else (mask.astype("uint8") * 255 if t == "mask" else render(img, mask, t))
                )
                tmp = partial_path(out)
                if not cv2.imwrite(str(tmp), pic):
                    raise OutputError(f"cannot write {out}")
                commit(tmp, out)
                written += 1
        except StreamsegError as exc:
            failed += 1
            log.error(str(exc))
    log.info(f"{len(files) - failed} of {len(files)} images done, {written} files written")
    if failed:
        raise IncompleteError(f"{failed} of {len(files)} images failed")

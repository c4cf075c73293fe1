"""``streamseg image``: skin masks (and overlays) for still images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from streamseg.commands.common import (
    EFFECT_OPTIONS,
    MODEL_OPTIONS,
    OUTPUT_TYPES_HELP,
    MethodOpt,
    OverwriteOpt,
    ThresholdOpt,
    with_options,
)


@with_options(MODEL_OPTIONS, after="threshold")
@with_options(EFFECT_OPTIONS, after="output_type")
def command(
    paths: Annotated[list[str], typer.Argument(help="Image files, folders or globs (quote globs).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output folder (default: next to each image), or a .png file name for one image.")] = None,
    method: MethodOpt = None,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help=OUTPUT_TYPES_HELP + ", prob (8-bit probability); comma-separated.")
    ] = "mask",
    threshold: ThresholdOpt = 0.5,
    overwrite: OverwriteOpt = False,
    **shared: Any,
) -> None:
    """Write a skin mask PNG (and overlays on request) for each image.

    Outputs are named <stem>_<type>.png. Images that cannot be read are reported and skipped;
    the exit code is then non-zero.

    Examples:

        streamseg image photo.jpg

        streamseg image photos/ -o masks/ -T mask,overlay --model u2netp

        streamseg image "shots/**/*.png" -m ellipse-diag

        streamseg image photo.jpg -T alpha,retouch,hair --feather 4
    """
    import streamseg
    from streamseg.commands.common import api_options

    streamseg.process_images(
        paths, output, method=method, output_types=output_type, threshold=threshold, overwrite=overwrite,
        **api_options(shared),
    )

"""``streamseg image``: skin masks (and overlays) for still images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from streamseg.commands.common import DEFAULT_METHOD, MethodOpt, OverwriteOpt, ProviderOpt, FallbackOpt, SizeOpt, StrictOpt, ThreadsOpt, ThresholdOpt
from streamseg.commands.common import OUTPUT_TYPES_HELP, FeatherOpt, OutlineOpt, OverlayAlphaOpt, OverlayColorOpt, StrengthOpt


def command(
    paths: Annotated[list[str], typer.Argument(help="Image files, folders or globs (quote globs).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output folder (default: next to each image).")] = None,
    method: MethodOpt = None,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help=OUTPUT_TYPES_HELP + ", prob (8-bit probability); comma-separated.")
    ] = "mask",
    feather: FeatherOpt = None,
    strength: StrengthOpt = None,
    overlay_color: OverlayColorOpt = None,
    overlay_alpha: OverlayAlphaOpt = None,
    outline: OutlineOpt = None,
    threshold: ThresholdOpt = 0.5,
    provider: ProviderOpt = "auto",
    threads: ThreadsOpt = 0,
    size: SizeOpt = None,
    strict: StrictOpt = False,
    fallback: FallbackOpt = False,
    overwrite: OverwriteOpt = False,
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

    streamseg.process_images(
        paths, output, method=method, output_types=output_type, threshold=threshold, overwrite=overwrite,
        provider=provider, threads=threads, size=size, strict=strict or None, fallback=fallback,
        feather=feather, strength=strength, overlay_color=overlay_color, overlay_alpha=overlay_alpha, outline=outline,
    )

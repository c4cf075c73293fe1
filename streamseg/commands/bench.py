"""``streamseg bench``: latency per method and size next to the cvtColor floor, and end-to-end fps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    methods: str = typer.Option("all", "--methods", "-m", help="'all' (every method that runs here) or a comma-separated list."),
    sizes: str = typer.Option("256,320,512,1024", "--sizes", help="Model input sizes (models whose graph has a dynamic size)."),
    frame_sizes: str = typer.Option(
        "640x480,1280x720,1920x1080", "--frame-sizes", help="Frame sizes for classical methods; models get the first one."
    ),
    provider: str = typer.Option("auto", "--provider", help="ONNX Runtime provider for models: auto, cuda, tensorrt, cpu."),
    threads: int = typer.Option(0, "--threads", help="Threads for ONNX Runtime and the numba kernels (0 = library default)."),
    video: Optional[Path] = typer.Option(None, "--video", help="Also measure end-to-end pipeline fps on this clip."),
    video_frames: Optional[int] = typer.Option(None, "--video-frames", help="Use only the first N frames of --video."),
    repeats: int = typer.Option(30, "--repeats", help="Timed calls per row (fewer when a row would take over 5 s)."),
    warmup: int = typer.Option(3, "--warmup", help="Untimed calls before timing."),
    report: Optional[Path] = typer.Option(None, "--report", "-r", help="Folder for report.md, report.csv and report.json."),
) -> None:
    """Time segmentation methods: median and p90 latency per model input size (models) or frame
    size (classical methods), next to the floor of one cv2.cvtColor over the same frame.

    Frames are taken from the demo clip (a face and a hand) resized to each size. With --video,
    also the end-to-end fps of the pipeline on that clip next to the method's bare inference fps.

    Examples:

        streamseg bench --report reports/bench

        streamseg bench --methods ellipse,dlmv --provider cpu --video examples/face_thumbsup_pixabay_720p.mp4
    """
    from streamseg.evaluate.bench_run import run_bench

    run_bench(
        methods, sizes=sizes, frame_sizes=frame_sizes, provider=provider, threads=threads, video=video,
        video_frames=video_frames, repeats=repeats, warmup=warmup, report=report,
    )  # fmt: skip

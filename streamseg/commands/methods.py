"""``streamseg methods``: every method, whether it can run here, and why not."""

from __future__ import annotations

import typer


def command(
    provider: str = typer.Option("auto", "--provider", help="ONNX Runtime provider to check: auto, cuda, tensorrt, cpu."),
) -> None:
    """List every segmentation method, whether it can run here and why not; the default is marked.

    Examples:

        streamseg methods

        STREAMSEG_MODELS=~/my-models streamseg methods --provider cpu
    """
    from rich.console import Console
    from rich.table import Table

    import streamseg
    from streamseg.paths import model_dirs
    from streamseg.pipeline.config import DEFAULT_METHOD

    table = Table(title="streamseg methods")
    for col in ("method", "kind", "runs here", "description / reason"):
        table.add_column(col)
    for row in streamseg.list_methods(provider=provider):
        ok = row.reason is None
        name = f"{row.name} (default)" if row.name == DEFAULT_METHOD else row.name
        table.add_row(name, row.kind, "[green]yes[/green]" if ok else "[red]no[/red]", row.description if ok else row.reason)
    console = Console()
    console.print(table)
    from streamseg.segment.providers import describe

    console.print(f"provider ({provider}): {describe(provider)}")
    console.print("model directories: " + (", ".join(str(d) for d in model_dirs()) or "(none)"))

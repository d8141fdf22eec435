"""`kg serve`: the analyst's web pages and a SPARQL 1.1 endpoint over the build's store."""

from __future__ import annotations

from pathlib import Path


def run(build_dir: Path, host: str, port: int, seeds: Path, queries: Path) -> None:
    """Serve a build until interrupted (uvicorn)."""
    import uvicorn

    from kg.serve.app import Folders, create_app

    app = create_app(build_dir, Folders(seeds=seeds, queries=queries))
    uvicorn.run(app, host=host, port=port, log_level="warning")

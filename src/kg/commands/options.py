"""What the commands share: the input folders, the build folder, one-line errors, progress bars,
and bringing the build up to date before a command reads it."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from kg import endpoints
from kg.errors import EXIT_INPUT, EXIT_OK, EXIT_VIOLATIONS, InputError
from kg.store import Inputs, stale_reason

EXIT_CODES = f"""Exit codes: {EXIT_OK} success; {EXIT_VIOLATIONS} built but the graph has SHACL
violations; {EXIT_INPUT} bad input (nothing written)."""

WRITES_EXIT_CODES = f"""Exit codes: {EXIT_OK} written (also when the graph has SHACL violations: a
note on standard error says so); {EXIT_INPUT} bad input or an output that cannot be written
(nothing written)."""


def reports_input_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn bad input into one line on standard error and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            click.echo(f"kg: error: {exc}", err=True)
            sys.exit(EXIT_INPUT)

    return wrapper


def inputs_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The folders a build reads (--seeds, --ontology, --shapes) and the build folder (--build),
    passed to the command as one `inputs` argument."""

    @functools.wraps(command)
    def wrapper(*args: Any, seeds: Path, ontology: Path, shapes: Path, build_dir: Path,
                **kwargs: Any) -> Any:
        return command(*args, inputs=Inputs(seeds, ontology, shapes, build_dir), **kwargs)

    for option in (
        BUILD_OPTION,
        click.option("--shapes", type=click.Path(path_type=Path), default=Path("shapes"),
                     show_default=True, help="Folder of SHACL shapes Turtle files."),
        ONTOLOGY_OPTION,
        click.option("--seeds", type=click.Path(path_type=Path), default=Path("seeds"),
                     show_default=True, help="Folder (or one file) of YAML fact files."),
    ):
        wrapper = option(wrapper)
    return wrapper


ONTOLOGY_OPTION = click.option("--ontology", type=click.Path(path_type=Path),
                               default=Path("ontology"), show_default=True,
                               help="Folder of ontology Turtle files.")
BUILD_OPTION = click.option("--build", "build_dir", type=click.Path(path_type=Path),
                            default=Path("build"), show_default=True,
                            help="The build folder: the store and graph.ttl `kg build` writes.")

PROGRESS_FROM = 200  # steps before a progress bar is worth drawing


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error for a long step; none when it is not a terminal."""
    if total < PROGRESS_FROM or not sys.stderr.isatty():
        yield lambda done: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def run_build(inputs: Inputs) -> Any:
    """`kg build`: the graph, the store and the report written to the build folder."""
    from kg.build import pipeline  # the build stage, imported only when a build runs

    try:
        return pipeline.build(inputs, progress_bar)
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputError(f"cannot write the build to '{inputs.output}': {reason}") from None


def ensure_built(inputs: Inputs, stale: Callable[[], None] = lambda: None) -> bool:
    """Bring the build folder up to date first (a note says why) when it is missing, damaged,
    or built from other input files (compared by content) or by other code; `stale` is
    called before it builds. Whether it built."""
    reason = stale_reason(inputs)
    if reason is None:
        return False
    stale()
    click.echo(f"kg: note: building the graph first: {reason}", err=True)
    result = run_build(inputs)
    if not result.validation.conforms:
        count = result.validation.count("Violation")
        click.echo(f"kg: note: the graph does not conform to the shapes ({count} "
                   f"violation{'' if count == 1 else 's'}; see `kg build`)", err=True)
    return True


def credential_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options naming the environment variables that hold a server's credentials."""
    for option in (
        click.option("--token-env", default=endpoints.TOKEN_ENV, show_default=True,
                     metavar="VAR", help="Environment variable holding a token sent as "
                     "'Authorization: Bearer' (QLever's access token), instead of a user and "
                     "password."),
        click.option("--password-env", default=endpoints.PASSWORD_ENV, show_default=True,
                     metavar="VAR", help="Environment variable holding the password."),
        click.option("--user-env", default=endpoints.USER_ENV, show_default=True,
                     metavar="VAR", help="Environment variable holding the user name."),
    ):
        command = option(command)
    return command

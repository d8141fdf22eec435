"""The `kg` command line. Each command lives in its own module under kg.commands and is imported
only when it runs (as click's examples/complex does), so `kg query` loads what a query needs.

Every failure is one line on standard error: bad input and bad usage (exit 2), an internal
error (exit 70, the traceback only with --debug).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import click

from kg import __version__
from kg.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_VIOLATIONS

# In the order of the work: write facts, build, check, ask, publish. Name -> module:attribute.
COMMANDS = {
    "entities": "kg.commands.entities:command",
    "draft": "kg.draft.command:draft",  # a reviewable first draft of a fact file from an article
    "build": "kg.commands.build:command",
    "check": "kg.commands.check:command",
    "queries": "kg.commands.query:list_command",
    "query": "kg.commands.query:command",
    "serve": "kg.commands.serve:command",
    "export": "kg.commands.export:command",
    "draw": "kg.commands.draw:command",
    "push": "kg.commands.push:command",
    "docs": "kg.commands.docs:command",
}

EXIT_CODES = f"""Exit codes: {EXIT_OK} success; {EXIT_VIOLATIONS} the graph has violations
(`kg build`, `kg check`); {EXIT_INPUT} bad input or usage (one line, nothing written);
{EXIT_INTERNAL} an internal error of kg (one line; --debug shows the traceback)."""


class LazyGroup(click.Group):
    """A group whose commands are imported when called (or when help lists them)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        command.name = cmd_name
        return command

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run a command; usage errors and internal errors become one line each."""
        debug = "--debug" in sys.argv[1:]
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("kg: error: interrupted", err=True)
            sys.exit(EXIT_INPUT)
        except click.ClickException as exc:
            click.echo(f"kg: error: {usage_line(exc)}", err=True)
            sys.exit(EXIT_INPUT)
        except Exception as exc:  # a bug of kg: one line, the traceback only when asked for
            if debug:
                traceback.print_exc()
            click.echo(f"kg: internal error: {type(exc).__name__}: {exc} (run again with "
                       "--debug for the traceback, and report it)", err=True)
            sys.exit(EXIT_INTERNAL)


def usage_line(exc: click.ClickException) -> str:
    """A click error as one line, naming the command it concerns."""
    message = " ".join(exc.format_message().split())
    context = getattr(exc, "ctx", None)
    if context is not None:
        return f"{message} (see '{context.command_path} --help')"
    return message


@click.group(cls=LazyGroup, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def main(debug: bool) -> None:
    """kg: a knowledge graph of the relations between states, built from cited fact files."""


def run() -> None:
    """The `kg` script: `main`, then the process ends at once, its output flushed, without
    the interpreter's teardown (freeing every object a build made, 0.2 s of a build after
    one new source at 10,000 sources). What kg writes is closed by then: files, the cache,
    the store, temporary folders and worker processes each by their own `with`."""
    try:
        main()
        code = EXIT_OK
    except SystemExit as exc:
        code = _exit_code(exc.code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    """SystemExit's code as a process's (a message is printed, as Python does)."""
    if code is None or isinstance(code, int):
        return code or EXIT_OK
    print(code, file=sys.stderr)
    return 1

"""`kg draw`: a picture of the actors and events of a relation, from the build's store."""

from __future__ import annotations

from pathlib import Path

import click

from kg.commands.options import (
    WRITES_EXIT_CODES,
    ensure_built,
    inputs_options,
    reports_input_errors,
)
from kg.facts.model import PartialDate
from kg.publish.draw import (
    Selection,
    StoreSource,
    picture,
    picture_format,
    render,
    state_codes,
)
from kg.store import Inputs, open_store


def partial_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A date option: YYYY, YYYY-MM or YYYY-MM-DD."""
    if value is None:
        return None
    try:
        return PartialDate.parse(value).text
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(epilog=WRITES_EXIT_CODES)
@inputs_options
@click.option("--state", "states", multiple=True, metavar="CODE",
              help="A state to draw, by ISO 3166-1 alpha-3 code; repeat it for each state "
                   "[default: all states].")
@click.option("--from", "start", metavar="DATE", callback=partial_date,
              help="Only events on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", callback=partial_date,
              help="Only events on or before DATE.")
@click.option("--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The picture: FILE.svg, FILE.png or FILE.dot (Graphviz DOT text).")
@reports_input_errors
def command(inputs: Inputs, states: tuple[str, ...], start: str | None, end: str | None,
            output: Path) -> None:
    """Draw the actors and events of a relation: states as clusters of their officials,
    visits (arrows to the host state) and meetings, labelled with their dates.

    Solid lines are what the sources report as done, dashed what they report as planned,
    dotted what they report as expected. Without Graphviz's `dot` program, the DOT text is
    written instead of an SVG or PNG picture, with a note. The graph is the build's store,
    built first when it is missing or out of date.

    \b
    Example:
      kg draw --state TUR --state PAK --from 2025-07 --to 2025-07 --output build/relation.svg
    """
    picture_format(output)
    Selection(start=start, end=end)  # a range that ends before it starts is bad input
    ensure_built(inputs)
    source = StoreSource(open_store(inputs.output))
    codes = [code.upper() for code in states]
    selection = Selection(state_codes(source, codes), start, end)
    written, note = render(picture(source, selection), output)
    if note:
        click.echo(f"kg: note: {note}", err=True)
    click.echo(f"wrote {written.as_posix()}")

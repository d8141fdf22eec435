"""`kg entities`: find an entity of the registry by any of its names."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.commands.options import reports_input_errors
from kg.errors import EXIT_INPUT, EXIT_OK
from kg.facts.entities import lookup, show
from kg.facts.registry import Registry


@click.command(epilog=f"Exit codes: {EXIT_OK} every NAME found; 1 a NAME found nothing; "
                      f"{EXIT_INPUT} bad input (fact files, or --show of an unknown id).")
@click.argument("names", nargs=-1)
@click.option("--show", "key", metavar="ID", help="Print all the registry holds of one entity.")
@click.option("--seeds", type=click.Path(path_type=Path), default=Path("seeds"),
              show_default=True, help="Folder (or one file) of YAML fact files.")
@reports_input_errors
def command(names: tuple[str, ...], key: str | None, seeds: Path) -> None:
    """Find entities by any name (label, alias, metonym; any language; case and diacritics
    ignored; near matches too): id, type, labels, and the name that matched.

    \b
    Example:
      kg entities Deutschland "Yasar Guler"
      kg entities --show DEU
    """
    registry = Registry.load(seeds)
    lines, missing = ([show(registry, key)], []) if key else lookup(registry, names)
    if lines:
        click.echo("\n".join(lines))
    for name in missing:
        click.echo(f"kg: no entity is called '{name}' (nor anything near it)", err=True)
    sys.exit(1 if missing else EXIT_OK)

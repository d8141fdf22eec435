"""The `kg draft` command (also `python -m kg.draft`)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from kg.draft.registry import EXIT_INPUT, InputError

EPILOG = """Exit codes: 0 drafted (or, with --check, no fact is still a draft); 1 with --check:
some facts are still drafts; 2 bad input (missing or binary article, bad --date...)."""


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--date '{text}' is not a date: write YYYY-MM-DD") from None


@click.command(epilog=EPILOG)
@click.argument("article", required=False, type=click.Path(path_type=Path))
@click.option("--date", "when", help="The article's date (YYYY-MM-DD), when its text has no "
              "date line: relative dates are resolved against it.")
@click.option("--language", type=click.Choice(["en", "nl"]), help="The article's language "
              "(detected when not given).")
@click.option("--source-id", help="The source id (default: the article's file name).")
@click.option("--output", type=click.Path(path_type=Path), help="Write the draft to this file "
              "(refused if it exists); default: standard output.")
@click.option("--seeds", type=click.Path(path_type=Path), default=Path("seeds"),
              show_default=True, help="The registry: folder of fact files whose entities "
              "names are resolved to.")
@click.option("--score", "curated", type=click.Path(path_type=Path), help="Also compare the "
              "draft with this curated fact file of the same article and print the figures.")
@click.option("--check", "check", type=click.Path(path_type=Path), help="Do not draft: list "
              "the facts of this fact file that still carry the draft mark.")
def draft(article: Path | None, when: str | None, language: str | None, source_id: str | None,
          output: Path | None, seeds: Path, curated: Path | None, check: Path | None) -> None:
    """Draft a fact file from an article (text or a saved web page, English or Dutch).

    Every drafted fact carries `draft: true` and the words it came from; review it, delete the
    mark, then `kg build`. See docs/draft.md.

    \b
    Example:
      kg draft article.txt --date 2025-07-09 --output seeds/sources/article.yaml
      kg draft --check seeds/sources/article.yaml
    """
    try:
        if check is not None:
            sys.exit(_check(check))
        if article is None:
            raise InputError("give an ARTICLE to draft (or --check FILE)")
        _draft(article, _date(when), language, source_id, output, seeds, curated)
    except InputError as exc:
        click.echo(f"kg: error: {exc}", err=True)
        sys.exit(EXIT_INPUT)


def _check(path: Path) -> int:
    from kg.draft.writer import still_drafts

    lines, total = still_drafts(path)
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} of {total} records still drafts", err=True)
    return 1 if lines else 0


def _draft(article: Path, when: date | None, language: str | None, source_id: str | None,
           output: Path | None, seeds: Path, curated: Path | None) -> None:
    from kg.draft.drafting import draft_article
    from kg.draft.registry import load_registry
    from kg.draft.writer import check_written, render

    if not article.is_file():
        raise InputError(f"no article: '{article}' is not a file")
    if output is not None and output.exists():
        raise InputError(f"'{output}' exists: give another --output or delete it first")
    registry = load_registry(seeds)
    result = draft_article(article, registry, language, when, source_id)
    text = render(result)
    check_written(text, (output or article).as_posix())
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} ({len(result.facts)} draft facts)", err=True)
    if curated is not None:
        from kg.draft.score import format_scores, header, score

        click.echo(header(), err=True)
        click.echo(format_scores(article.stem, score(result, curated, registry)), err=True)

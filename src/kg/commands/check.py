"""`kg check`: the shapes, the rules across facts, ontology hygiene and OWL reasoning."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.check import run as checking
from kg.commands.options import inputs_options, progress_bar, reports_input_errors
from kg.commands.query import QUERIES_OPTION
from kg.errors import EXIT_INPUT, EXIT_OK, EXIT_VIOLATIONS, InputError
from kg.store import Inputs

CHECK_EXIT_CODES = f"""Exit codes: {EXIT_OK} no violations (warnings and notes allowed);
{EXIT_VIOLATIONS} violations (or, with --strict, warnings); {EXIT_INPUT} bad input (fact files,
ontology, shapes or a check that does not parse): one line, no report."""


@click.command(epilog=CHECK_EXIT_CODES)
@inputs_options
@click.option("--checks", "rules", type=click.Path(path_type=Path), default=Path("checks"),
              show_default=True,
              help="Folder of the rules: NAME-violation.rq, NAME-warning.rq, NAME-info.rq.")
@QUERIES_OPTION
@click.option("--format", "fmt", type=click.Choice(checking.FORMATS), default="text",
              show_default=True, help="text (a line per finding), json (a list of findings) "
                                      "or turtle (the SHACL validation report).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too (exit code 1).")
@click.option("--no-reasoning", is_flag=True, help="Skip OWL reasoning (HermiT).")
@click.option("--timings", is_flag=True, help="Say on standard error how long each part took.")
@reports_input_errors
def command(inputs: Inputs, rules: Path, folder: Path, fmt: str, strict: bool,
            no_reasoning: bool, timings: bool) -> None:
    """Check the graph: the SHACL shapes (--shapes), the rules across facts and the ontology
    checks (--checks, SPARQL), and OWL reasoning with HermiT. The graph is the build's
    store, brought up to date first as `kg build --build BUILD` does (only what changed since
    the last build); no report is written.

    Text output is one line per finding, violations first, then warnings, then notes:
    FILE:LINE: 'ID': SEVERITY: MESSAGE [RULE], and a last line 'N violations, N warnings,
    N notes'. Without Java, one note says HermiT did not run; the other checks still run.
    docs/checks.md lists every check.

    \b
    Example:
      kg check
      kg check --strict --no-reasoning
      kg check --format json > build/findings.json
    """
    try:
        result = checking.run_checks(inputs, checking.CheckOptions(rules, folder, not no_reasoning),
                                     progress_bar)
    except OSError as exc:
        raise InputError(f"cannot write the build to '{inputs.output}': "
                         f"{exc.strerror or exc}") from None
    click.echo(checking.render(result, fmt), nl=False)
    if timings:
        click.echo(f"kg: timings: {result.timing_line()}", err=True)
    sys.exit(result.exit_code(strict))

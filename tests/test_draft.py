"""kg draft: drafts of the invented fixture articles (tests/data/draft), their marks and
evidence, the build's refusal of marked facts, --check, scores and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import DATA, ROOT
from kg.cli import main
from kg.draft.drafting import draft_article
from kg.draft.registry import load_registry
from kg.draft.score import score
from kg.draft.writer import accepted

FIXTURES = DATA / "draft"
REGISTRY = FIXTURES / "registry"
ARTICLES = ("fra-deu-visit", "jpn-ind-summit", "nld-bel-bezoek")
DATES = {"jpn-ind-summit": "2026-01-20"}  # the one fixture without a date line


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["draft", *args])


def drafted(tmp_path: Path, name: str) -> Path:
    """Draft a fixture article into tmp_path and return the draft's path."""
    out = tmp_path / f"{name}.yaml"
    when = ["--date", DATES[name]] if name in DATES else []
    result = run(str(FIXTURES / f"{name}.txt"), "--seeds", str(REGISTRY), "--output", str(out),
                 *when)
    assert result.exit_code == 0, result.output
    return out


def test_draft_marks_every_fact_and_keeps_its_evidence(tmp_path: Path) -> None:
    text = drafted(tmp_path, "fra-deu-visit").read_text(encoding="utf-8")
    facts = text.split("\nfacts:\n")[1]
    assert facts.count("  - id: ") == facts.count("    draft: true\n") > 10
    assert "  # ¶1 · rule visit · trigger \"arrived in\"" in facts
    assert "    visitor: claire-dumont  # \"Claire Dumont\"\n" in facts
    assert "    host: DEU  # \"Berlin\"\n" in facts
    assert "    arrival: {value: '2026-03-09', as_given: Monday}  # \"Monday\"\n" in facts
    assert "    received_by: [markus-brandt]  # \"Markus Brandt\"\n" in facts
    assert "    amount: 185000000000  # \"EUR 185 billion\"\n" in facts
    assert "    modality: planned  # \"will\"\n" in facts  # the council session in June
    assert "date: '2026-03-12'  # from the article's date line" in text


def test_dutch_is_detected_and_relative_dates_resolved(tmp_path: Path) -> None:
    text = drafted(tmp_path, "nld-bel-bezoek").read_text(encoding="utf-8")
    assert "  language: nl\n" in text
    assert "date: {value: '2026-02-04', as_given: woensdag}" in text  # Wednesday before 5 Feb
    assert "date: {value: '2026-01', as_given: vorige maand}" in text
    assert "    post: bel-minister-foreign-affairs  # \"Belgische collega\"\n" in text


def test_build_refuses_a_marked_fact_and_builds_once_marks_are_gone(tmp_path: Path) -> None:
    draft = drafted(tmp_path, "nld-bel-bezoek")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(REGISTRY / "entities.yaml", seeds / "entities.yaml")
    target = seeds / draft.name
    shutil.copy(draft, target)
    args = ["build", "--seeds", str(seeds), "--ontology", str(ROOT / "ontology"),
            "--shapes", str(ROOT / "shapes"), "--build", str(tmp_path / "build")]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    line = refused.output.strip()
    assert "\n" not in line and "seeds/nld-bel-bezoek.yaml:" in line
    assert "'dnldbelbe-01-postholding': still a draft (draft: true)" in line
    target.write_text(accepted(draft.read_text(encoding="utf-8")), encoding="utf-8")
    built = CliRunner().invoke(main, args)
    assert built.exit_code == 0, built.output


def test_check_lists_the_facts_still_marked(tmp_path: Path) -> None:
    draft = drafted(tmp_path, "jpn-ind-summit")
    result = run("--check", str(draft))
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert len(lines) == draft.read_text(encoding="utf-8").count("\n    draft: true") > 10
    assert lines[0].startswith(f"{draft.as_posix()}:") and lines[0].endswith("still a draft (fact)")
    text = draft.read_text(encoding="utf-8").replace("    draft: true\n", "", 1)
    draft.write_text(text, encoding="utf-8")
    assert len(run("--check", str(draft)).stdout.splitlines()) == len(lines) - 1
    draft.write_text(accepted(text), encoding="utf-8")
    done = run("--check", str(draft))
    assert (done.exit_code, done.stdout) == (0, "")


@pytest.mark.parametrize("name", ARTICLES)
def test_scores_on_the_fixture_articles(name: str) -> None:
    from datetime import date

    registry = load_registry(REGISTRY, exclude=FIXTURES / f"{name}.yaml")
    when = date.fromisoformat(DATES[name]) if name in DATES else None
    scores = score(draft_article(FIXTURES / f"{name}.txt", registry, when=when),
                   FIXTURES / f"{name}.yaml", registry)
    assert scores.mentions.share >= 0.85
    assert scores.dates.share >= 0.9
    assert scores.amounts.share >= 0.95
    assert scores.facts.share >= 0.7
    assert scores.modality.share >= 0.8
    assert scores.precision.share >= 0.6


def test_every_iso_3166_state_is_known_without_a_registry_file(tmp_path: Path) -> None:
    """The registry holds every state of ISO 3166-1 (kg.facts.states): a draft on any pair
    names them by id and declares no entity for them."""
    article = tmp_path / "chl-per.txt"
    article.write_text("2026-04-02\n\nChile and Peru have maintained close relations for "
                       "decades.\n", encoding="utf-8")
    result = run(str(article), "--seeds", str(tmp_path / "empty"))
    assert result.exit_code == 0, result.output
    assert "    parties: [CHL, PER]" in result.stdout
    assert "\nentities:" not in result.stdout


def test_a_saved_web_page_gives_its_main_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    body = "".join(f"<p>{s}</p>" for s in (
        "Japan and India signed an agreement on semiconductor supply chains in Tokyo on "
        "Monday, the two governments said in a statement after the talks.",
        "Bilateral trade stood at nearly USD 22 billion in 2025, according to figures "
        "published by both governments earlier this year."))
    page.write_text(f"<!DOCTYPE html><html><head><title>Japan and India sign a deal</title>"
                    f"</head><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
                    f"<article>{body}</article><footer>Cookies</footer></body></html>",
                    encoding="utf-8")
    result = run(str(page), "--seeds", str(REGISTRY), "--date", "2026-01-21")
    assert result.exit_code == 0, result.output
    assert "  title: Japan and India sign a deal" in result.stdout
    assert "#   ¶2: IND, JPN" in result.stdout and "¶3" not in result.stdout
    assert "    amount: 22000000000  # \"nearly USD 22 billion\"" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["missing.txt"], "kg: error: no article: 'missing.txt' is not a file"),
    (["binary.txt"], "binary file: an article is UTF-8 text or HTML"),
    (["article.txt", "--date", "2026-02-30"], "kg: error: --date '2026-02-30' is not a date"),
    (["article.txt", "--output", "article.txt"], "exists: give another --output"),
    (["--check", "binary.txt"], "kg: error: "),
    ([], "kg: error: give an ARTICLE to draft"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG")
    (tmp_path / "article.txt").write_text("France and Germany met.\n", encoding="utf-8")
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output

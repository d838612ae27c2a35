"""The documentation as a reader meets it: a short front page whose links lead somewhere,
and examples that work as written (each ```play block is played through `snowbot play`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snowbot.play.script import Locate, Press, Say, parse_line
from snowbot.texts import catalog
from tests.test_play import blocks, play

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # not docs/pending/
PLAY_BLOCK = re.compile(r"^```play\n(.*?)^```", re.M | re.S)
PROBE = "§ {n}"  # not a line play knows: its one-line hint marks where line n's answers end


def examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for n, block in enumerate(PLAY_BLOCK.findall(page.read_text("utf-8")), 1):
            found.append((f"{page.relative_to(ROOT)}#{n}", block))
    return found


def errors() -> list[str]:
    """How the bot's refusals and usage lines begin, in both languages."""
    starts = []
    for language in ("zh", "en"):
        texts = catalog(language).texts
        keys = [k for k in texts if k.startswith("refuse.") or k.endswith(".usage")]
        starts += [texts[k].split("{")[0][:12] for k in keys if texts[k].split("{")[0]]
    return starts


def test_the_front_page_is_short_and_its_links_lead_somewhere() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme.splitlines()) <= 250
    assert "snowbot play" in "\n".join(readme.splitlines()[:40])  # on the first screen
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
    for page in PAGES[1:]:
        for target in re.findall(r"\]\(([^)#:]+\.(?:md|png))(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_no_page_says_what_the_product_no_longer_does() -> None:
    for page in PAGES:
        text = page.read_text("utf-8")
        assert "does not show units yet" not in text, page
        assert "暂不显示单位" not in text, page
        assert "调度员、协调员（英文 cadre、dispatcher、coordinator" not in text, page
        # the overview always needs its token, loopback too (#28), and the webhook is ours
        flat = " ".join(text.split())  # a sentence may break anywhere
        for gone in (
            "is not a loopback address and no token is set",
            "监听非本机地址而未设口令",
            "require_token_off_loopback",
            "tornado",
            "SPEC §",
            "docs/pending",
        ):
            assert gone not in flat, f"{page.name}: {gone}"


@pytest.mark.parametrize(("where", "script"), examples(), ids=lambda v: str(v)[:30])
def test_every_example_works_as_written(tmp_path: Path, where: str, script: str) -> None:
    lines = script.splitlines()
    probed = "\n".join(f"{line}\n{PROBE.format(n=n)}" for n, line in enumerate(lines))
    result = play(tmp_path, probed)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    answers: list[list[str]] = [[]]
    for said in blocks(result.stdout):
        if said.startswith("? ") and "§ " in said:
            answers.append([])
        else:
            answers[-1].append(said)
    assert len(answers) == len(lines) + 1, result.stdout[-2000:]
    refusals = errors()
    for line, replies in zip(lines, answers, strict=False):
        act = parse_line(line)
        if not isinstance(act, Say | Locate | Press):
            assert not any(r.startswith("? ") for r in replies), f"{where}: {line}: {replies}"
            continue
        assert replies, f"{where}: {line!r} got no answer"
        for reply in replies:
            assert not reply.startswith("? "), f"{where}: {line!r}: {reply}"
            text = reply.split(": ", 1)[1]
            bad = [r for r in refusals if text.startswith(r)]
            assert not bad, f"{where}: {line!r} was refused: {reply}"

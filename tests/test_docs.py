"""The documentation as a reader meets it: a short front page whose links lead somewhere,
and examples that work as written (each ```play block is played through `snowbot play`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snowbot.text.texts import catalog
from snowbot.tools.play.script import Locate, Press, Say, parse_line
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


# refusals kept under their feature's table rather than `refuse.*`
REFUSALS = {
    "checkin.bad_count", "checkin.bad_location", "checkin.too_far", "checkout.not_on_duty",
    "newtask.unknown_street", "newtask.bad_count", "task.unknown", "task.bad_id",
    "accept.not_on_duty", "done.not_yours", "grant.bad_role", "bind.group_only",
    "bind.only_own", "invite.bad_uses", "invite.bad_hours", "invite.unknown",
    "unbind.group_only", "unbind.not_bound", "unbind.only_coordinator", "places.not_holding",
    "places.bad_count", "residents.too_far", "unit.bad_name", "unit.unknown",
    "unit.unknown_none", "dashboard.private_only", "reopen.not_done", "reopen.too_late",
    "typed.no_street", "typed.pick_street", "typed.district_like", "typed.hint",
    "typed.outside", "typed.outside_report",
}  # fmt: skip


def errors() -> list[str]:
    """How the bot's refusals and usage lines read, in both languages: each one's longest
    run of fixed text (a refusal may begin with what was typed, "“0”不是有效人数")."""
    fixed = []
    for language in ("zh", "en"):
        texts = catalog(language).texts
        keys = [k for k in texts if k.startswith("refuse.") or k.endswith(".usage")]
        for key in [*keys, *(k for k in REFUSALS if k in texts)]:
            runs = re.split(r"\{[^}]*\}", texts[key].split("\n")[0])
            longest = max(runs, key=len).strip()
            if len(longest) >= 4:
                fixed.append(longest[:24])
    return fixed


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
            bad = [r for r in refusals if r in text]
            assert not bad, f"{where}: {line!r} was refused: {reply}"

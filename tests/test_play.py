"""`snowbot play` (SPEC §15) as a person runs it: a script piped into a real process,
the real bot behind it, the transcript read back."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

PLAY_SCRIPT = """\
# the first name is the coordinator
王协调: /start
李队员: /start
王协调: /newtask 中央街 2 冰面
李队员 @ 中央街
李队员 [认领]
王协调 in 指挥部: /bind all
wait 2h
tally
quit
李队员: /whoami
"""


def play(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`snowbot play` with `script` on its stdin (a pipe, not a terminal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "snowbot", "play", *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def blocks(transcript: str) -> list[str]:
    """The transcript cut into what was printed for each message or note."""
    out: list[str] = []
    for line in transcript.splitlines():
        if (line.startswith("  ") or not line) and out:  # a message's next line
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def test_a_script_checks_in_by_street_accepts_by_button_binds_a_group_and_waits(
    tmp_path: Path,
) -> None:
    result = play(tmp_path, PLAY_SCRIPT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    said = blocks(result.stdout)
    # the coordinator is the first name; the second became a cadre on /start
    assert said[0].startswith("→ 王协调: ") and "协调员" in said[0]
    assert said[1].startswith("→ 李队员: ") and "队员" in said[1]
    posted = said[2]
    assert posted.startswith("→ 王协调: ") and "#1 中央街" in posted
    assert "[✋ 认领 #1]" in posted  # buttons as [label]
    # a location by the street's name: checked in on that street, with the task nearby
    checked_in = said[3]
    assert checked_in.startswith("→ 李队员: ✅") and "中央街" in checked_in
    assert "[✋ 认领 #1 · 中央街]" in checked_in
    # the button pressed on the latest message that has it: the task is taken
    assert said[4].startswith("→ 李队员: 💪") and "#1" in said[4] and "1/2" in said[4]
    # the group exists from its first line, and hears the bot there
    assert said[5].startswith("→ #指挥部: ")
    # two hours on the bot's clock: the scheduled reports reach the bound group
    reports = [b for b in said[6:] if b.startswith("→ #指挥部: 🕒")]
    assert len(reports) >= 4, said[6:]
    # tally: `snowbot tally --json`'s object, after the reports
    tally = json.loads(said[6 + len(reports)])
    assert tally["person_times"] == 1 and tally["on_duty"] == 1 and tally["assigned"] == 1
    assert tally["tasks"]["in_progress"] == 1
    # quit ends it: the line after it is never played
    assert len(said) == 7 + len(reports), said[-1]


def test_the_same_script_prints_the_same_transcript(tmp_path: Path) -> None:
    """Exact in a pipe: each line's answers are printed before the next line is read."""
    script = "\n".join(
        ["甲: /start", *(f"乙{n}: /start" for n in range(6)), "甲: /newtask 中央街 3"]
        + [f"乙{n} @ 中央街\n乙{n} [认领]" for n in range(3)]
        + ["甲: /tally", "wait 45m", "乙0: /checkout"]
    )
    first = play(tmp_path, script)
    second = play(tmp_path, script)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert first.stdout.count("→ 乙0: ") >= 4 and "→ 乙0: 💪" in first.stdout


def test_bad_lines_get_a_one_line_hint_and_the_play_goes_on(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "甲: /start",
            "hello there",  # none of the forms
            "甲 @ 没有这条街",  # no such street
            "甲 @ 95,10",  # not a position
            "甲 [不存在的按钮]",  # no message of 甲's has it
            "wait soon",  # not a duration
            "甲:",  # nothing said
            "甲: /nosuchcommand",  # the bot's own answer to a command it does not know
            "甲: /whoami",
        ]
    )
    result = play(tmp_path, script)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    said = blocks(result.stdout)
    hints = [b for b in said if b.startswith("? ")]
    assert len(hints) == 6, said
    assert all("\n" not in h for h in hints)  # one line each
    assert "hello there" in hints[0] and "wait 2h" in hints[0]
    assert "没有这条街" in hints[1]
    assert "不存在的按钮" in hints[3]
    assert said[-1].startswith("→ 甲: ") and "1001" in said[-1]  # still answering
    assert said[-2].startswith("→ 甲: ")  # /nosuchcommand was answered by the bot


def test_the_config_names_the_city(tmp_path: Path) -> None:
    """`--config FILE`: its gazetteer is the city played (a street only it has), on a
    throw-away database whatever database the config names."""
    (tmp_path / "streets.csv").write_text(
        "district,street,lat,lon\n雪城区,试验大道,45.10000,125.20000\n", "utf-8"
    )
    (tmp_path / "play.toml").write_text(
        '[city]\nname = "雪城"\ngazetteer = "streets.csv"\n'
        # the operator's real database is never touched: this one cannot even be reached
        '[storage]\ndatabase = "postgresql://nobody@127.0.0.1:9/snowbot"\n',
        "utf-8",
    )
    result = play(tmp_path, "甲: /start\n甲 @ 试验大道\n", "--config", "play.toml")
    assert result.returncode == 0, result.stderr
    assert "雪城区试验大道" in result.stdout
    missing = play(tmp_path, "", "--config", "nope.toml")
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_a_pipe_gets_no_colour_and_a_terminal_gets_colour_a_prompt_and_history(
    tmp_path: Path,
) -> None:
    piped = play(tmp_path, "甲: /start\n")
    assert piped.returncode == 0 and "\x1b[" not in piped.stdout
    # a terminal: a pseudo-terminal of its own, typed into
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm"
    process = subprocess.Popen(
        [sys.executable, "-m", "snowbot", "play"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
        env=env,
    )
    os.close(terminal)
    seen = b""

    def read_until(wanted: bytes, times: int = 1) -> None:
        nonlocal seen
        while seen.count(wanted) < times:
            ready, _, _ = select.select([controller], [], [], 60)
            assert ready, seen.decode(errors="replace")[-2000:]
            seen += os.read(controller, 65536)

    try:
        read_until("第一个出现的名字是协调员".encode())  # the banner, on a terminal only
        prompt = b"\x1b[1m> \x1b[0m"
        read_until(prompt)
        os.write(controller, "甲: /whoami\r".encode())
        read_until(prompt, times=2)  # answered, and asking for the next line
        os.write(controller, b"\x1b[A\r")  # the up arrow brings the last line back
        read_until(prompt, times=3)
        assert seen.count("用户 ID：1001".encode()) == 2, seen.decode(errors="replace")
        assert "\x1b[1;36m→ 甲:\x1b[0m".encode() in seen  # the bot's lines in colour
        os.write(controller, b"\x04")  # Ctrl+D ends it
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)


def test_the_sample_city_keeps_the_russian_bank_outside(tmp_path: Path) -> None:
    """The sample city is played with its outline: Blagoveshchensk, across the Amur and
    3.9 km from a Heihe street, is refused; a spot on a Heihe street is not."""
    result = play(tmp_path, "甲: /start\n甲 @ 50.2830,127.5400\n乙: /start\n乙 @ 中央街\n")
    assert result.returncode == 0, result.stderr
    assert "这个位置在黑河以外" in result.stdout
    assert "已签到：1 人，位于爱辉区中央街" in result.stdout
    assert result.stdout.count("已签到") == 1

"""Hostile input: every parser and decoder takes arbitrary text and either understands it or
refuses it cleanly; through the real bot, nothing changes and everyone gets an answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.buttons import decode, encode
from snowbot.domain.directory import Directory
from snowbot.domain.gazetteer import parse_gazetteer_csv, parse_gazetteer_geojson
from snowbot.domain.model import District, Street
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import parse_count, parse_task_id
from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from snowbot.settings.durations import parse_duration
from snowbot.settings.errors import ConfigError, GazetteerError
from snowbot.tools.standin import SimUser
from tests.harness import CADRE, COORD, bot_config, no_errors, running_bot, stand_in

# text as people and attackers type it: controls, astral planes, SQL, very long runs
HOSTILE = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(
        [
            "'; DROP TABLE shifts; --",
            "1 OR 1=1",
            "#" * 5000,
            "\u202e\u0000\u200b",
            "9" * 40,
            "-0",
            "1e9",
            "NaN",
            "１２",  # full-width digits
            "v1|a|1|extra",
        ]
    ),
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(HOSTILE)
def test_task_ids_parse_or_refuse(text: str) -> None:
    try:
        task_id = parse_task_id(text)
    except Refused as refused:
        assert refused.key == "task.bad_id"
        assert len(str(refused.params["text"])) <= 20  # never echoes a flood back
    else:
        assert 0 <= task_id < 10**9


@FAST
@given(HOSTILE)
def test_counts_parse_or_refuse(text: str) -> None:
    try:
        count = parse_count(text, 500, "checkin.bad_count")
    except Refused as refused:
        assert refused.key == "checkin.bad_count"
    else:
        assert 1 <= count <= 500


@FAST
@given(st.one_of(HOSTILE, st.none()))
def test_callback_data_decodes_or_is_refused(data: str | None) -> None:
    press = decode(data)
    if press is not None:
        assert encode(press.action, press.task_id) == data


@FAST
@given(HOSTILE)
def test_roles_and_durations(text: str) -> None:
    role = Role.parse(text)
    if role is not None:  # only a role's own name, as typed
        assert text.strip().lower() in ROLE_NAMES[role]
    try:
        duration = parse_duration(text)
    except ValueError as refused:
        assert "is not a duration like 45s, 30m or 8h" in str(refused)
    else:
        assert duration.total_seconds() >= 0
        assert re.fullmatch(r"(\d+[smhd])+", text.strip().lower())


ROLE_NAMES = {
    Role.CADRE: {"cadre", "volunteer", "干部", "志愿者"},
    Role.DISPATCHER: {"dispatcher", "调度", "调度员"},
    Role.COORDINATOR: {"coordinator", "协调", "协调员"},
}


@FAST
@given(st.lists(HOSTILE, max_size=6))
def test_street_names_match_or_suggest(words: list[str]) -> None:
    streets = [
        Street(1, 1, "North", "Station Road", 50.0, 127.0),
        Street(2, 1, "North", "Station Road East", 50.0, 127.01),
        Street(3, 2, "South", "Market Street", 50.1, 127.0),
    ]
    directory = Directory(streets, [District(1, "North"), District(2, "South")])
    match = directory.match_leading(words)
    # what matched is a leading run of the words, and the rest is what follows it
    assert match.rest == words[len(words) - len(match.rest) :]
    if match.streets:
        assert len(match.streets) == 1  # no two streets here share a name
        assert len(match.rest) < len(words)
    else:
        assert match.rest == words
    suggested = directory.suggest(" ".join(words))
    assert len(suggested) <= 5 and all(s in streets for s in suggested)


@FAST
@given(st.binary(max_size=400))
def test_gazetteer_files_import_or_are_refused_whole(data: bytes) -> None:
    for parse in (parse_gazetteer_csv, parse_gazetteer_geojson):
        try:
            rows = parse(data, "f")
        except GazetteerError as refused:
            assert str(refused).startswith("f")  # names the file (and the line or feature)
        else:
            assert rows and all(-90 <= r.lat <= 90 and -180 <= r.lon <= 180 for r in rows)
            assert all(r.name.strip() and r.district.strip() for r in rows)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["schedule", "geo", "city", "bot"]),
        st.dictionaries(
            st.sampled_from(
                [
                    "tally_every",
                    "max_distance_km",
                    "timezone",
                    "language",
                    "max_shift",
                    "daily_report_at",
                    "done_radius_m",
                    "geocoder",
                ]
            ),
            st.one_of(
                st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.booleans()
            ),
        ),
    )
)
def test_config_values_are_accepted_or_named(data: dict[str, dict[str, object]]) -> None:
    try:
        parse_config(data, base_dir=Path("."))
    except ConfigError as exc:
        assert ":" in str(exc)


HOSTILE_MESSAGES = [
    "/newtask '; DROP TABLE tasks; --",
    "/checkin 1 OR 1=1",
    "/checkin " + "9" * 40,
    "/accept " + "#" * 3000,
    "/done -1",
    "/done 1e9",
    "/done NaN",
    "/cancel ０",
    "/tally \u202e\u0000",
    "/unserved " + "x" * 4000,
    "/grant 1 coordinator",
    "/grant -5 dispatcher",
    "/grant 99999999999999999999 dispatcher",
    "/revoke 1",
    "/bind all",
    "/incident start " + "名" * 500,
    "/lang ../../etc/passwd",
    "/export now",
    "/newtask Station Road 3 " + "note " * 400,
    "/checkout extra words",
    "/start \x00\x01\x02",
    "/help me please",
    "/tasks; SELECT * FROM users",
    "/accept 1 2 3",
    "/done 1 " + "\u200b" * 600,
    "/newtask 0",
    "/newtask Station Road -0",
    "/newtask Station Road 1.0",
    "/checkin",
    "/nosuchcommand",
    "/accept 1 -3",
    "/accept 1 ９",
    "/release",
    "/release 1 0",
    "/release x y",
]


@pytest.mark.parametrize("user", [CADRE, COORD], ids=["cadre", "coordinator"])
async def test_thirty_hostile_messages_are_answered_and_change_no_count(
    config: Config, city_csv: Path, user: SimUser, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        before = (await running.service.tally()).as_json()
        for text in HOSTILE_MESSAGES:
            answer = await api.ask(user, text, timeout=15)
            assert answer.text, text
        after = (await running.service.tally()).as_json()
        # nothing counted; a coordinator's "/incident start" is the only legitimate change
        for key in ("person_times", "on_duty", "assigned", "people", "tasks"):
            if user is COORD and key == "tasks":
                continue
            assert after[key] == before[key], key
        # still running (some commands answer twice, /export with two files: look at all)
        before_start = api.count(user.id)
        await api.say(user, "/start")
        await api.wait_for(lambda: any("Hello" in m.text for m in api.sent[user.id][before_start:]))
    # every one was understood or refused: none reached the error handler
    no_errors(caplog, api)


def test_button_data_takes_ascii_digits_within_64_bytes_only() -> None:
    """One codec reads every button's data (tasks, units, residents' reports): a
    full-width "１" (which int() reads as 1), a foreign version or action, or data over
    Telegram's 64 bytes is refused."""
    from handlers import buttons, residents, units

    for read, good in (
        (buttons.decode, "v1|a|1"),
        (units.decode, "v1|u|1"),
        (residents.decode, "r1|m|1"),
    ):
        assert read(good) is not None
        assert read(good[:-1] + "１") is None
        assert read(good.replace("|", "/")) is None
        assert read(good[:-1] + "1" * 70) is None
    assert buttons.decode("r1|m|1") is None and residents.decode("v1|a|1") is None
    assert units.decode("v1|a|1") is None  # a task's action is not a unit's

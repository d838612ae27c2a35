"""Who may bind and unbind a group, what /revoke says about the groups a person bound, and
config coordinators who cannot be given a role in the database (README "Security")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from snowbot.domain.roles import Role
from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import (
    CITY_GROUP,
    COORD,
    NORTH_DISPATCHER,
    NORTH_GROUP,
    SOUTH_DISPATCHER,
    STATION,
    FakeClock,
    bot_config,
    invite_only,
    running_bot,
    said,
    stand_in,
)

NORTH, SOUTH, HQ = NORTH_DISPATCHER, SOUTH_DISPATCHER, CITY_GROUP
ROAMING = SimUser(62, "Dispatcher without a district", "en")
SOUTH_GROUP = -100201


async def test_only_a_coordinator_moves_a_group_bound_elsewhere_and_unbind(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        api.group(NORTH_GROUP, "North crews")
        api.group(HQ, "City HQ")
        await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
        await api.ask(COORD, f"/grant {SOUTH.id} dispatcher South")
        await api.ask(COORD, f"/grant {ROAMING.id} dispatcher")

        assert "tasks of North" in (await api.ask(NORTH, "/bind North", NORTH_GROUP)).text
        assert "city-wide" in (await api.ask(COORD, "/bind all", HQ)).text
        cases = [
            (SOUTH, "/bind South", NORTH_GROUP, "already receives the tasks of North"),
            (ROAMING, "/bind South", NORTH_GROUP, "already receives the tasks of North"),
            (ROAMING, "/bind all", NORTH_GROUP, "already receives the tasks of North"),
            (ROAMING, "/bind South", HQ, "receives the city-wide reports"),
            (NORTH, "/bind North", HQ, "receives the city-wide reports"),
            (SOUTH, "/unbind", NORTH_GROUP, "You dispatch for South only"),
            (NORTH, "/unbind", HQ, "Only a coordinator"),
            (ROAMING, "/unbind", HQ, "Only a coordinator"),
            (NORTH, "/unbind", None, "in the group"),
        ]
        for user, text, chat, expected in cases:
            answer = await api.ask(user, text, chat)
            assert expected in answer.text, (user.first_name, text, answer.text)
        north = running.service.directory.district("North")
        south = running.service.directory.district("South")
        assert north is not None and south is not None
        assert _bindings(config) == {NORTH_GROUP: north.id, HQ: None}

        # binding again to what it is already bound to is fine
        assert "tasks of North" in (await api.ask(NORTH, "/bind North", NORTH_GROUP)).text
        # a coordinator moves it; then it is South's, and North's dispatcher cannot unbind it
        assert "tasks of South" in (await api.ask(COORD, "/bind South", NORTH_GROUP)).text
        assert "for North only" in (await api.ask(NORTH, "/unbind", NORTH_GROUP)).text
        assert (
            "no longer receives the tasks of South"
            in (await api.ask(SOUTH, "/unbind", NORTH_GROUP)).text
        )
        assert "not bound" in (await api.ask(SOUTH, "/unbind", NORTH_GROUP)).text
        assert "no longer receives the city-wide" in (await api.ask(COORD, "/unbind", HQ)).text
        assert _bindings(config) == {}
        # an unbound group may be bound by any dispatcher of that district again
        assert "tasks of North" in (await api.ask(NORTH, "/bind North", HQ)).text


def _bindings(config: Config) -> dict[int, int | None]:
    with sqlite3.connect(config.database) as db:
        return dict(db.execute("SELECT chat_id, district_id FROM bindings").fetchall())


async def test_revoke_names_the_groups_the_person_bound(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = invite_only(config)
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        api.group(NORTH_GROUP, "North crews")
        api.group(SOUTH_GROUP, "Lower town")
        await api.ask(COORD, f"/grant {ROAMING.id} dispatcher")
        await api.ask(ROAMING, "/bind North", NORTH_GROUP)
        await api.ask(ROAMING, "/bind all", SOUTH_GROUP)
        revoked = await api.ask(COORD, f"/revoke {ROAMING.id}")
        assert f"User {ROAMING.id} is now a guest" in revoked.text
        assert "North crews (North)" in revoked.text
        assert "Lower town (city-wide reports)" in revoked.text
        assert "/unbind" in revoked.text
        # the person is a guest now: no binding, no check-in
        assert "Only a dispatcher" in (await api.ask(ROAMING, "/bind South", NORTH_GROUP)).text
        assert "invitation link" in (await api.locate(ROAMING, *STATION)).text
        # someone who bound nothing: no list
        await api.ask(COORD, f"/grant {NORTH.id} dispatcher North")
        plain = await api.ask(COORD, f"/revoke {NORTH.id}")
        assert "now a guest" in plain.text and "/unbind" not in plain.text
        person = await running.service.person(NORTH.id)
        assert person is not None and person.role == Role.GUEST


async def test_a_config_coordinator_gets_no_role_in_the_database(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv), clock=clock):
        for text in (
            f"/grant {COORD.id} coordinator",
            f"/grant {COORD.id} dispatcher",
            f"/grant {COORD.id} cadre",
            f"/revoke {COORD.id}",
        ):
            answer = await api.ask(COORD, text)
            assert "coordinator by the config file" in answer.text, text
        # nobody else becomes one in the database either (tests/test_coordinators.py)
        other = SimUser(2, "Deputy", "en")
        refused = await api.ask(COORD, "/grant 2 coordinator")
        assert refused.text == said("coordinators.not_granted")
        assert "Only a coordinator" in (await api.ask(other, "/grant")).text
    with sqlite3.connect(config.database) as db:
        stored = db.execute("SELECT role FROM users WHERE id = ?", (COORD.id,)).fetchone()
    assert stored == ("cadre",)  # as /start left it: only the config makes them coordinator

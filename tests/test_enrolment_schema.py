"""Migration 6 keeps everyone who registered under open enrolment a member, and the
[access] keys of enrolment are validated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from snowbot.domain.model import JoinOutcome
from snowbot.domain.roles import Role
from snowbot.settings.config_file import parse_config
from snowbot.settings.errors import ConfigError
from storage.sqlite import SqliteStore, connect, open_store


async def test_people_of_an_older_database_stay_what_they_were(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    old = SqliteStore(await connect(path))
    assert await old.migrate(5) == 5
    await old.close()
    with sqlite3.connect(path) as db:  # as version 5 wrote them: no membership yet
        db.execute(
            "INSERT INTO users (id, name, registered, created_at) VALUES (10, 'v1 cadre', 1, 1)"
        )
        db.execute("INSERT INTO users (id, role, created_at) VALUES (20, 'dispatcher', 1)")

    store = await open_store(path)
    try:
        assert await store.schema_version() >= 6
        cadre, dispatcher = await store.get_user(10), await store.get_user(20)
        assert cadre is not None and cadre.role == Role.CADRE
        assert dispatcher is not None and dispatcher.role == Role.DISPATCHER
        newcomer = await store.register_user(30, "new", None, "zh", 2.0)
        assert newcomer.role == Role.GUEST
        assert [u.id for u in await store.users_with_role(Role.CADRE)] == [10]
        assert [u.id for u in await store.users_with_role(Role.GUEST)] == [30]
        # open enrolment makes a member, and nobody stops being one by writing again
        assert (
            await store.register_user(30, "new", None, "zh", 3.0, member=True)
        ).role == Role.CADRE
        assert (await store.register_user(30, "new", None, "zh", 4.0)).role == Role.CADRE
    finally:
        await store.close()


async def test_a_member_who_joins_takes_no_use_and_keeps_their_role(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "join.db")
    try:
        await store.set_role(20, Role.DISPATCHER, None, 1.0)
        await store.register_user(30, "guest", None, "zh", 1.0)
        await store.create_invitation("code-1", None, 20, 1.0, 100.0, 2)
        assert (await store.join(20, "code-1", 2.0)).outcome == JoinOutcome.MEMBER
        dispatcher = await store.get_user(20)
        assert dispatcher is not None and dispatcher.role == Role.DISPATCHER
        assert (await store.join(30, "code-1", 2.0)).outcome == JoinOutcome.JOINED
        assert (await store.join(30, "code-1", 2.0)).outcome == JoinOutcome.MEMBER
        [live] = await store.live_invitations(3.0)
        assert live.uses_left == 1
        assert (await store.join(40, "code-1", 100.0)).outcome == JoinOutcome.EXPIRED
    finally:
        await store.close()


def test_access_keys(tmp_path: Path) -> None:
    defaults = parse_config({}, base_dir=tmp_path).access
    assert (defaults.enrolment, defaults.max_team_unconfirmed, defaults.max_checkins_per_hour) == (
        "invite",
        30,
        4,
    )
    custom = parse_config(
        {"access": {"enrolment": "open", "max_team_unconfirmed": 50, "max_checkins_per_hour": 2}},
        base_dir=tmp_path,
    ).access
    assert (custom.open, custom.max_team_unconfirmed, custom.max_checkins_per_hour) == (True, 50, 2)
    for key, value, message in [
        ("enrolment", "anyone", 'access.enrolment: \'anyone\' is not "invite" or "open"'),
        ("max_team_unconfirmed", 0, "access.max_team_unconfirmed: 0 is not a whole number"),
        ("max_checkins_per_hour", "4", "access.max_checkins_per_hour: '4' is not a whole"),
        ("max_checkins_per_hour", True, "access.max_checkins_per_hour: True is not a whole"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_config({"access": {key: value}}, base_dir=tmp_path)

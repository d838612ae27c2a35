"""Roles hold against an attacker (issue 28, SPEC §3 amended): coordinators are the config's
and nobody else's, whatever /grant is asked or a database says; /revoke ends the person's
invitation links with the role. (A restored backup that says coordinator: test_security.)"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from snowbot.domain.roles import Role, effective_role
from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.engines import raw
from tests.harness import (
    COORD,
    NORTH_DISPATCHER,
    FakeClock,
    bot_config,
    invite_only,
    running_bot,
    said,
    stand_in,
)

pytestmark = pytest.mark.both_engines

DEPUTY = SimUser(2, "王协调", "zh")  # a second coordinator of the config, who writes Chinese
STRANGER = SimUser(70, "Stranger", "en")
GUEST = SimUser(71, "Guest Sun", "en")
ELDER = SimUser(72, "Elder", "en")
LINK = re.compile(r"\?start=([A-Za-z0-9_-]+)")


def _with_coordinators(config: Config, *ids: int) -> Config:
    return invite_only(replace(config, coordinators=frozenset(ids)))


def _code(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1)


def _old_coordinator(address: Path | str, user: SimUser) -> None:
    """A row as a version that let /grant make coordinators wrote it (or a copy, a restored
    backup carries it)."""
    with raw(address) as db:
        db.execute(
            "INSERT INTO users (id, name, language, role, member, registered, created_at) "
            "VALUES (?, ?, ?, 'coordinator', 1, 1, 0)",
            (user.id, user.first_name, user.language_code),
        )
        if hasattr(db, "commit"):  # SQLite's; PostgreSQL's connection commits each statement
            db.commit()


def _whoami(user: SimUser, role: str) -> str:
    lang = user.language_code or "zh"
    return said("whoami.person", lang, id=user.id, role=said(f"role.{role}", lang))


async def test_grant_of_a_coordinator_is_refused_in_either_language_and_changes_nothing(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = _with_coordinators(config, COORD.id, DEPUTY.id)
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        refused_en = said("coordinators.not_granted")
        assert (await api.ask(COORD, f"/grant {STRANGER.id} coordinator")).text == refused_en
        assert (await api.ask(COORD, f"/grant {STRANGER.id} Coordinator North")).text == refused_en
        refused_zh = said("coordinators.not_granted", "zh")
        for word in ("协调员", "协调"):
            answer = await api.ask(DEPUTY, f"/grant {STRANGER.id} {word}")
            assert answer.text == refused_zh, word
        assert await running.service.person(STRANGER.id) is None  # not even a placeholder
        # someone with a role keeps it
        await api.ask(COORD, f"/grant {NORTH_DISPATCHER.id} dispatcher North")
        answer = await api.ask(COORD, f"/grant {NORTH_DISPATCHER.id} coordinator")
        assert answer.text == refused_en
        assert (await api.ask(NORTH_DISPATCHER, "/whoami")).text == _whoami(
            NORTH_DISPATCHER, "dispatcher"
        )
        # and the usage no longer offers it
        assert "coordinator" not in (await api.ask(COORD, "/grant")).text
        assert "协调员" not in (await api.ask(DEPUTY, "/grant")).text


async def test_a_database_that_says_coordinator_makes_a_dispatcher_at_most(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = _with_coordinators(config, COORD.id)
    async with (
        stand_in() as api,
        running_bot(bot_config(config, api, city_csv), clock=clock) as running,
    ):
        _old_coordinator(config.address, STRANGER)
        assert (await api.ask(STRANGER, "/whoami")).text == _whoami(STRANGER, "dispatcher")
        coordinator_only = said("refuse.role", role=said("role.coordinator"))
        for text in (
            f"/grant {GUEST.id} dispatcher",
            f"/revoke {COORD.id}",
            "/incident",
            "/export",
        ):
            assert (await api.ask(STRANGER, text)).text == coordinator_only, text
        assert await running.service.person(GUEST.id) is None
        # a dispatcher of no district, as the database may make one: asked what they ask
        assert "Turnout:" in (await api.ask(STRANGER, "/tally")).text
        dispatchers = await running.service.store.users_with_role(Role.DISPATCHER)
        assert STRANGER.id in [u.id for u in dispatchers]
        assert await running.service.store.users_with_role(Role.COORDINATOR) == []


def test_only_the_config_makes_a_coordinator() -> None:
    assert effective_role(Role.COORDINATOR, 70, frozenset({1})) == Role.DISPATCHER
    assert effective_role(Role.GUEST, 1, frozenset({1})) == Role.COORDINATOR
    assert effective_role(Role.CADRE, 70, frozenset({1})) == Role.CADRE


async def test_taken_out_of_the_config_a_coordinator_is_one_no_longer(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    before = _with_coordinators(config, COORD.id, STRANGER.id, ELDER.id)
    async with stand_in() as api:
        async with running_bot(bot_config(before, api, city_csv), clock=clock):
            _old_coordinator(config.address, ELDER)  # an old version's /grant, long ago
            for user in (STRANGER, ELDER):
                assert (await api.ask(user, "/whoami")).text == _whoami(user, "coordinator")
                assert "Current incident" in (await api.ask(user, "/incident")).text
        after = _with_coordinators(config, COORD.id)
        async with running_bot(bot_config(after, api, city_csv), clock=clock):
            assert (await api.ask(STRANGER, "/whoami")).text == _whoami(STRANGER, "guest")
            assert (await api.ask(ELDER, "/whoami")).text == _whoami(ELDER, "dispatcher")
            for user in (STRANGER, ELDER):
                refused = await api.ask(user, "/incident")
                assert refused.text == said("refuse.role", role=said("role.coordinator"))


async def test_revoke_ends_the_persons_live_invitations_and_says_how_many(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    config = _with_coordinators(config, COORD.id)
    north = NORTH_DISPATCHER
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv), clock=clock):
        await api.ask(COORD, f"/grant {north.id} dispatcher North")
        fifty = _code((await api.ask(north, "/invite North 50")).text)
        hourly = _code((await api.ask(north, "/invite North 3 12")).text)
        expired = _code((await api.ask(north, "/invite North 3 1")).text)
        used_up = _code((await api.ask(north, "/invite North 1")).text)
        ended = _code((await api.ask(north, "/invite North 2")).text)
        assert (
            "now a cadre" in (await api.ask(SimUser(80, "Early", "en"), f"/start {used_up}")).text
        )
        await api.ask(north, f"/uninvite {ended}")
        coordinators = _code((await api.ask(COORD, "/invite North 5")).text)
        clock.advance(2 * 3600)
        assert (await api.ask(GUEST, f"/start {expired}")).text == said("invite.expired")

        revoked = (await api.ask(COORD, f"/revoke {north.id}")).text
        # the two live ones, not the used-up, ended or expired ones, nor anyone else's
        assert said("revoke.invitations_ended", count=2) in revoked, revoked
        for code in (fifty, hourly):
            answer = await api.ask(GUEST, f"/start {code}")
            assert answer.text == said("invite.unknown"), code
        assert (await api.ask(GUEST, "/whoami")).text == _whoami(GUEST, "guest")
        listed = (await api.ask(COORD, "/invites")).text
        assert fifty not in listed and hourly not in listed and coordinators in listed
        assert "now a cadre" in (await api.ask(GUEST, f"/start {coordinators}")).text

        # someone with no live link: nothing about links
        again = (await api.ask(COORD, f"/revoke {north.id}")).text
        assert said("revoke.invitations_ended", count=0) not in again
        assert "invitation" not in again

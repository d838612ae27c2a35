"""One list of commands (handlers/registry.py) behind the handlers, /help, Telegram's menus
and the docs' tables: each person is offered what their role may use, and no more."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlers import words
from handlers.checkin import means_checking
from handlers.menus import help_text
from handlers.registry import COMMANDS
from snowbot.domain.roles import Role
from snowbot.settings.config import Config
from snowbot.text.texts import catalog
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import (
    CADRE,
    COORD,
    DISPATCH,
    NORTH_GROUP,
    bot_config,
    eventually,
    invite_only,
    no_errors,
    running_bot,
    said,
    stand_in,
)

ROOT = Path(__file__).resolve().parent.parent
ROLE_WORDS = {
    "en": {"anyone": Role.GUEST, "cadre": Role.CADRE, "dispatcher": Role.DISPATCHER}
    | {"coordinator": Role.COORDINATOR},
    "zh": {"任何人": Role.GUEST, "队员": Role.CADRE, "调度员": Role.DISPATCHER}
    | {"协调员": Role.COORDINATOR},
}
# offered from a role on, yet harmless below it: a guest is never on duty, and told so; a
# guest who opens the Mini App sees the open tasks, as /tasks shows them, and how to join
NOTHING_TO_REFUSE = {"checkout", "app"}
HEADINGS = {"en": "## Every command", "zh": "## 全部命令"}
GUEST = SimUser(70, "Guest Zhou", "en")


def docs_table(language: str) -> dict[str, Role]:
    """Each command the docs' table names, with the least role its rows give it."""
    text = (ROOT / "docs" / "commands.md").read_text("utf-8")
    rows = text.split(HEADINGS[language], 1)[1].strip().split("\n\n", 1)[0].splitlines()
    least: dict[str, Role] = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        words = ROLE_WORDS[language]
        found = sorted((cells[1].find(w), role) for w, role in words.items() if w in cells[1])
        assert found, row
        for name in re.findall(r"/([a-z]+)", cells[0]):
            least[name] = min(least.get(name, Role.COORDINATOR), found[0][1])
    return least


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_docs_table_names_every_command_with_its_least_role(language: str) -> None:
    assert docs_table(language) == {c.name: c.role for c in COMMANDS}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_help_offers_each_role_its_commands_and_no_more(language: str) -> None:
    t = catalog(language)
    for role in Role:
        shown = help_text(t, role, COMMANDS)
        for command in COMMANDS:
            if command.help_key:
                once = shown.count(t(command.help_key)) == 1
                assert once == (command.role <= role), (role, command.name)
            for more_role, key in command.more:
                assert (shown.count(t(key)) == 1) == (more_role <= role), (role, key)
    for command in COMMANDS:  # a command /help does not list has its line in another's
        if command.help is not None or command.name in ("start", "help"):
            continue
        assert f"/{command.name}" in help_text(t, Role.COORDINATOR, COMMANDS), command.name


def test_every_command_has_its_texts_and_its_words_are_understood() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    for language in ("zh", "en"):
        texts = catalog(language).texts
        for command in COMMANDS:
            assert command.menu_key in texts and (not command.help_key or command.help_key in texts)
    listed = {word: command for command in COMMANDS for word in command.words}
    for word, command in listed.items():
        if command.name in ("checkin", "checkout"):
            assert means_checking(word), word
        elif command.name == "report":  # the residents' own (`handlers.residents`)
            assert words.read(word) == (word, []), word
        else:
            assert words.WORDS[word][0] is command.handler, word
    assert set(words.WORDS) <= set(listed)


async def test_each_role_gets_its_own_menu(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Guests, cadres, dispatchers and coordinators, in private chats and groups, in zh and
    en: what Telegram shows each, as set through the real bot."""
    config = invite_only(config)
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        api.group(NORTH_GROUP, "North district")
        async with running_bot(cfg):
            menus = api.menus
            for language in ("zh", "en"):  # a newcomer's private menu: a guest's
                guest = menus.shown(GUEST.id, language)
                assert guest == ["start", "help", "tasks", "report", "whoami", "lang"]
                assert menus.described(GUEST.id, language)["report"] == catalog(language)(
                    "commands.report"
                )
            assert menus.shown(GUEST.id, "ru") == guest  # another language: the bot's own
            assert menus.described(GUEST.id, "ru")["tasks"] == said("commands.tasks", "zh")
            group = menus.shown(NORTH_GROUP, "en", group=True)
            assert "accept" in group and "bind" not in group and "checkin" not in group
            assert "bind" in menus.shown(NORTH_GROUP, "en", group=True, admin=True)

            await api.ask(GUEST, "/start")
            await api.ask(COORD, "/start")
            await _granted(api, CADRE, "cadre")
            await _granted(api, DISPATCH, "dispatcher")
            await eventually(lambda: "grant" in menus.shown(COORD.id, "en"), "coordinator menu")
            assert menus.shown(GUEST.id, "en") == guest
            cadre = menus.shown(CADRE.id, "en")
            assert "checkin" in cadre and "unit" in cadre
            assert not {"newtask", "grant", "export", "bind"} & set(cadre)
            dispatcher = menus.shown(DISPATCH.id, "en")
            assert {"checkin", "newtask", "reports", "invite", "units"} <= set(dispatcher)
            assert not {"grant", "revoke", "export", "dashboard", "bind"} & set(dispatcher)
            assert {"grant", "export", "dashboard", "newtask"} <= set(menus.shown(COORD.id, "en"))
            # a person's own menu is in the language they use with the bot
            assert menus.described(DISPATCH.id, "zh")["newtask"] == said("commands.newtask")
            await api.ask(DISPATCH, "/lang zh")
            await eventually(
                lambda: (
                    menus.described(DISPATCH.id, "en")["newtask"] == said("commands.newtask", "zh")
                ),
                "the dispatcher's menu in Chinese",
            )

            await api.ask(COORD, f"/revoke {DISPATCH.id}")  # a guest's menu again
            await eventually(lambda: menus.shown(DISPATCH.id, "en") == guest, "revoked menu")
            assert ("chat:50", "") not in menus.lists
        # the config's coordinators get theirs at every start, as the commands are then
        menus.lists.pop((f"chat:{COORD.id}", ""))
        async with running_bot(cfg):
            assert "grant" in menus.shown(COORD.id, "en")
            assert "grant" not in menus.shown(GUEST.id, "en")
        no_errors(caplog, api)


async def _granted(api: BotApiStandIn, user: SimUser, role: str) -> None:
    await api.ask(user, "/start")
    await api.ask(COORD, f"/grant {user.id} {role}")
    await eventually(lambda: "checkin" in api.menus.shown(user.id, "en"), f"{role}'s menu")


async def test_whoever_is_below_a_commands_role_is_refused_it(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The registry's roles are the service's: each command, sent where it is offered by
    someone one role below, is refused for the role (so /help and the menus offer
    nothing that would be refused, and hide nothing that would not)."""
    config = invite_only(config)
    below = {Role.CADRE: GUEST, Role.DISPATCHER: CADRE, Role.COORDINATOR: DISPATCH}
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)):
        api.group(NORTH_GROUP, "North district")
        await api.ask(COORD, "/start")
        await api.ask(GUEST, "/start")
        await _granted(api, CADRE, "cadre")
        await _granted(api, DISPATCH, "dispatcher")
        wrong: list[tuple[str, str]] = []
        for command in COMMANDS:
            if command.role == Role.GUEST or command.name in NOTHING_TO_REFUSE:
                continue
            chat = None if "private" in command.chats else NORTH_GROUP
            answer = await api.ask(below[command.role], f"/{command.name} 1", chat_id=chat)
            refusal = (
                said("refuse.guest")
                if command.role == Role.CADRE
                else said("refuse.role", role=said(f"role.{command.role.key}"))
            )
            if answer.text != refusal:
                wrong.append((command.name, answer.text))
        assert not wrong
        no_errors(caplog, api)

"""Every command, once: its handler, who may use it, where, and the catalog texts that
describe it. The CommandHandlers, /help and Telegram's menus are all made from `COMMANDS`
(docs/commands.md, "Every command", is checked against it by tests/test_commands.py).

Adding a command: write its handler (thin, under `@action`), append one `Command` here
in the place it should take in /help and the menus, and add its two catalog texts in
snowbot/locales/{zh,en}.toml: `[commands] NAME` (the menu's line) and the help line named
by `help` (`[help_lines] NAME` unless given); then a row in both tables of
docs/commands.md. Who may really use it stays the service's to decide (`Snowbot.require`);
`role` here says whom to offer it to, and the docs test holds the two together.
"""

from __future__ import annotations

from handlers import (
    admin,
    checkin,
    dashboard,
    enrolment,
    miniapp,
    places,
    reports,
    residents,
    start,
    tasks,
    units,
)
from handlers.command import GROUP, PRIVATE, Command
from snowbot.domain.roles import Role

G, C, D, K = Role.GUEST, Role.CADRE, Role.DISPATCHER, Role.COORDINATOR

# in the order /help and the menus list them
COMMANDS: tuple[Command, ...] = (
    Command("start", start.start, G, PRIVATE, help=None),
    Command("help", start.help_command, G, help=None, words=("帮助",)),
    Command("checkin", checkin.checkin, C, PRIVATE, words=("签到", "报到", "check in")),
    Command("tasks", tasks.tasks, G, words=("任务",)),
    Command("accept", tasks.accept, C, words=("认领",)),
    Command("release", places.release, C, words=("退回",)),
    Command("done", tasks.done, C, words=("完成",)),
    Command("report", residents.report, G, PRIVATE, words=("求助",)),
    Command("checkout", checkin.checkout, C, PRIVATE, words=("签退", "check out")),
    Command("whoami", start.whoami, G),
    Command("app", miniapp.app_command, C, PRIVATE),  # a Mini App button: private chats only
    Command("lang", start.lang, G),
    Command(
        "unit",
        units.unit,
        C,
        help="unit.help_cadre",
        more=((K, "unit.help_coordinator"),),
    ),
    Command("newtask", tasks.newtask, D),
    Command("cancel", tasks.cancel, D),
    Command("reopen", tasks.reopen, D),
    Command("tally", reports.tally, D, words=("统计",)),
    Command("unserved", reports.unserved, D),
    Command("reports", residents.reports, D),
    Command("bind", admin.bind, D, GROUP),
    Command("unbind", admin.unbind, D, GROUP, help=None),  # in /bind's line
    Command("invite", enrolment.invite, D, PRIVATE),
    Command("invites", enrolment.invites, D, PRIVATE, help=None),  # in /invite's
    Command("uninvite", enrolment.uninvite, D, PRIVATE, help=None),  # in /invite's
    Command("units", units.units, D, help="unit.help_dispatcher"),
    Command("grant", admin.grant, K, PRIVATE),
    Command("revoke", admin.revoke, K, PRIVATE, help=None),  # in /grant's line
    Command("export", reports.export, K, PRIVATE),
    Command("incident", admin.incident, K),
    Command("dashboard", dashboard.dashboard, K, PRIVATE),
)

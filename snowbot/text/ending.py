"""What an incident's end tells (docs/commands.md "Everyone affected hears it"), rendered from what
the transaction that ended it read (`snowbot.domain.model.Ending`): each person on duty, each
reporter whose report was still open or tasked, each leader whose team waited, and the copies of
that team's request the dispatchers hold and of the task proposals offered to them (edited to say
they are withdrawn, their buttons gone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from snowbot.domain.messages import LANE_NOTICE, Outgoing, SentCopy
from snowbot.domain.model import Ending
from snowbot.domain.residents import report_ref
from snowbot.text.render import duration
from snowbot.text.texts import catalog


def ending_notices(
    ending: Ending,
    now: float,
    tz: ZoneInfo,
    language: Callable[[str | None], str],
    street: Callable[[int], str],
) -> list[Outgoing]:
    """`language`: a user's stored language code to a catalog's; `street`: a name by id."""
    incident = ending.incident
    at = datetime.fromtimestamp(now, tz).strftime("%H:%M")
    key = f"ended:{incident.id}"
    out: list[Outgoing] = []

    def notice(suffix: str, chat: int, lang: str, text: str, copy: SentCopy | None = None) -> None:
        edit_of, after = (None, None) if copy is None else (copy.message_id, copy.outbox_id)
        out.append(
            Outgoing(
                f"{key}:{suffix}",
                chat,
                lang,
                text=text,
                lane=LANE_NOTICE,
                edit_of=edit_of,
                edit_after=after,
            )
        )

    for shift in ending.shifts:
        lang = language(shift.language)
        t = catalog(lang)
        n = shift.headcount
        team = t("ending.just_you") if n == 1 else t("ending.team_of", count=n)
        text = t(
            "ending.shift",
            incident=incident.name,
            time=at,
            team=team,
            duration=duration(t, now - shift.started_at),
            count=n,
        )
        notice("shift", shift.user_id, lang, text)
    for user_id, code, report_id in ending.reporters:
        lang = language(code)
        text = catalog(lang)(
            "ending.report", incident=incident.name, time=at, ref=report_ref(report_id)
        )
        notice(f"report:{report_id}", user_id, lang, text)
    for withdrawn in ending.teams:
        request = withdrawn.request
        where = street(request.street_id)
        lang = language(withdrawn.language)
        text = catalog(lang)(
            "ending.team_leader",
            incident=incident.name,
            time=at,
            count=request.headcount,
            street=where,
        )
        notice(f"team:{request.id}", request.user_id, lang, text)
        for copy in withdrawn.copies:
            text = catalog(copy.language)(
                "ending.team_withdrawn",
                incident=incident.name,
                time=at,
                name=withdrawn.name or str(request.user_id),
                count=request.headcount,
                street=where,
            )
            notice(f"team-withdrawn:{request.id}", copy.chat_id, copy.language, text, copy)
    for copy in ending.proposal_copies:
        text = catalog(copy.language)("ending.proposal_withdrawn", incident=incident.name, time=at)
        notice(f"proposal-withdrawn:{copy.outbox_id}", copy.chat_id, copy.language, text, copy)
    return out

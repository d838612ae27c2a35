"""Who counts (docs/security.md): invitation links that make guests cadres, and large
teams that wait for a dispatcher's confirmation before they count."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from snowbot.domain import limits
from snowbot.domain.messages import LANE_ANNOUNCE, Outgoing, SentCopy
from snowbot.domain.model import Invitation, JoinOutcome, TeamOutcome, TeamRequest
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service.core import ServiceCore
from snowbot.service.results import Person, looks_numeric, parse_count
from snowbot.text.texts import catalog

_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# an invitation code: 16 URL-safe characters from 12 random bytes (96 bits)
CODE_BYTES = 12

# The buttons under a team request, as Bot API JSON: made by the adapter, which owns
# the button format, for a request and a language.
TeamMarkup = Callable[[int, str], str]


class EnrolmentService(ServiceCore):
    # -- invitations -------------------------------------------------------------------

    async def invite(self, actor: Person, words: list[str]) -> tuple[Invitation, str | None]:
        """`/invite [DISTRICT] [USES] [HOURS]`: a new invitation and its district's name.

        A dispatcher bound to a district invites to that district only.
        """
        self.require(actor, Role.DISPATCHER)
        place = [w for w in words if not looks_numeric(w)]
        numbers = [w for w in words if looks_numeric(w)]
        if len(numbers) > 2 or (place and words[: len(place)] != place):
            raise Refused("invite.usage")
        uses = (
            parse_count(numbers[0], limits.MAX_INVITE_USES, "invite.bad_uses")
            if numbers
            else limits.INVITE_USES
        )
        hours = (
            parse_count(numbers[1], limits.MAX_INVITE_HOURS, "invite.bad_hours")
            if len(numbers) > 1
            else limits.INVITE_HOURS
        )
        district_id = actor.user.district_id if actor.role == Role.DISPATCHER else None
        if place:
            name = " ".join(place)
            district = self.directory.district(name)
            if district is None:
                raise self.unknown_district(name[:40], uses=uses, hours=hours)
            self._require_district(actor, district.id)
            district_id = district.id
        now = self.clock()
        invitation = await self.store.create_invitation(
            secrets.token_urlsafe(CODE_BYTES), district_id, actor.id, now, now + hours * 3600, uses
        )
        return invitation, self.district_name(district_id)

    async def invitations(self, actor: Person) -> list[Invitation]:
        """/invites: the live ones; a dispatcher's own, or all for a coordinator."""
        self.require(actor, Role.DISPATCHER)
        mine = None if actor.role >= Role.COORDINATOR else actor.id
        return await self.store.live_invitations(self.clock(), mine)

    async def uninvite(self, actor: Person, words: list[str]) -> str:
        """/uninvite CODE: end a live invitation (a dispatcher's own only)."""
        self.require(actor, Role.DISPATCHER)
        if len(words) != 1:
            raise Refused("invite.uninvite_usage")
        code = words[0].rsplit("start=", 1)[-1]  # the whole link works too
        mine = None if actor.role >= Role.COORDINATOR else actor.id
        if not _CODE.fullmatch(code) or not await self.store.end_invitation(
            code, self.clock(), mine
        ):
            raise Refused("invite.no_such", code=code[:20])
        return code

    async def join(self, person: Person, code: str) -> str | None:
        """/start CODE through an invitation link: a guest becomes a cadre of its district
        (whose name is returned). Refused, changing nothing, for a bad code or a member."""
        if person.role >= Role.CADRE:
            raise Refused("invite.member")
        if not _CODE.fullmatch(code):
            raise Refused("invite.unknown")
        joined = await self.store.join(person.id, code, self.clock())
        if joined.outcome == JoinOutcome.JOINED:
            assert joined.invitation is not None
            return self.district_name(joined.invitation.district_id)
        if joined.outcome == JoinOutcome.MEMBER:
            raise Refused("invite.member")
        raise Refused(f"invite.{joined.outcome.value}")

    # -- large teams -------------------------------------------------------------------

    async def ask_team_confirmation(self, request: TeamRequest, markup: TeamMarkup) -> int:
        """Queue the request, with Confirm and Refuse buttons, to the dispatchers of its
        district (else to the dispatchers without a district and the coordinators).
        Queued once per request, however often the leader shares the location."""
        people = [u for u in await self.store.users_with_role(Role.DISPATCHER) if u.registered]
        chosen = [u.id for u in people if u.district_id == request.district_id]
        if not chosen:
            chosen = [u.id for u in people if u.district_id is None]
            chosen += sorted(self.config.coordinators)
        leader = await self.person(request.user_id)
        name = (leader.user.name if leader else "") or str(request.user_id)
        street = self.directory.by_id.get(request.street_id)
        messages = []
        for chat in dict.fromkeys(chosen):
            lang = await self.chat_language(chat)
            text = catalog(lang)(
                "team.ask",
                name=name,
                count=request.headcount,
                street=street.name if street else "?",
                district=self.district_name(request.district_id) or "?",
                max=self.config.access.max_team_unconfirmed,
            )
            messages.append(
                Outgoing(
                    f"team:{request.id}", chat, lang, text=text, markup=markup(request.id, lang)
                )
            )
        return await self.store.enqueue(messages, self.clock())

    async def decide_team(self, actor: Person, request_id: int, confirm: bool) -> TeamRequest:
        """A dispatcher of the team's district confirms it (its shift opens and counts from
        now) or refuses it; the leader is told, in the same transaction."""
        self.require(actor, Role.DISPATCHER)
        request = await self.store.team_request(request_id)
        if request is None:
            raise Refused("team.gone")
        self._require_district(actor, request.district_id)
        street = self.directory.by_id.get(request.street_id)
        lang = await self.chat_language(request.user_id)
        verdict = "confirmed" if confirm else "refused"
        text = catalog(lang)(
            f"team.{verdict}", count=request.headcount, street=street.name if street else "?"
        )
        notice = Outgoing(f"team-{verdict}:{request.id}", request.user_id, lang, text=text)
        incident = await self.incident()
        leader = await self.person(request.user_id)
        name = (leader.user.name if leader else "") or str(request.user_id)
        stamp = datetime.fromtimestamp(self.clock(), self.config.city.timezone)

        def shown(copies: Sequence[SentCopy]) -> list[Outgoing]:
            """Each dispatcher's copy of the request shows the decision (docs/commands.md "Everyone
            affected hears it")."""
            return [
                Outgoing(
                    f"team-decided:{request.id}",
                    c.chat_id,
                    c.language,
                    text=catalog(c.language)(
                        f"decided.team_{verdict}",
                        who=actor.user.name or str(actor.id),
                        time=stamp.strftime("%m-%d %H:%M"),
                        name=name,
                        count=request.headcount,
                        street=street.name if street else "?",
                        district=self.district_name(request.district_id) or "?",
                    ),
                    lane=LANE_ANNOUNCE,
                    edit_of=c.message_id,
                )
                for c in copies
            ]

        decided = await self.store.decide_team(
            request_id, incident.id, confirm, actor.id, self.clock(), [notice], shown
        )
        if decided.outcome in (TeamOutcome.CONFIRMED, TeamOutcome.REFUSED):
            return request
        raise Refused(f"team.{decided.outcome.value}", count=request.headcount)

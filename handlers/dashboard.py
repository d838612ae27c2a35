"""/dashboard: a coordinator's link to the one-screen overview, in a private chat."""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update

from handlers.common import Context, Who, action, reply, service


@action
async def dashboard(update: Update, context: Context, me: Who) -> None:
    url = service(context).dashboard_link(me.person, me.private)
    # no preview: Telegram's servers would fetch the link, token and all
    await reply(
        update,
        context,
        me.t("dashboard.link", url=url),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )

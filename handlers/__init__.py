"""The Telegram adapter: parse an update, call one service, reply in the user's language."""

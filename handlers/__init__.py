"""The Telegram adapter: parse an update, call one service operation, reply in the user's
language. It reaches the database only through the service (`snowbot.service`)."""

"""Errors the CLI turns into one clear line and a non-zero exit."""


class SnowbotError(Exception):
    """An error whose message is meant for the operator, as is."""

    exit_code = 1


class ConfigError(SnowbotError):
    """A config file or value is wrong; the message names the key."""

    exit_code = 2


class GazetteerError(SnowbotError):
    """A gazetteer file is refused whole; the message names the line."""

    exit_code = 2

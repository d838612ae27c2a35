"""Localised texts: one TOML catalog per language in snowbot/locales/, Chinese first."""

from __future__ import annotations

import string
import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh", "en")


class Catalog:
    def __init__(self, language: str, texts: dict[str, str]) -> None:
        self.language = language
        self.texts = texts

    def __call__(self, key: str, **params: Any) -> str:
        """The text for `key` with its {placeholders} filled in."""
        template = self.texts.get(key)
        if template is None:  # a missing key is a bug; show it rather than crash a reply
            return key
        return (
            template.format(**params) if params else template.replace("{{", "{").replace("}}", "}")
        )


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = str(value)
    return out


@cache
def catalog(language: str) -> Catalog:
    lang = language if language in LANGUAGES else LANGUAGES[0]
    raw = resources.files("snowbot").joinpath("locales", f"{lang}.toml").read_text("utf-8")
    return Catalog(lang, _flatten(tomllib.loads(raw)))


def placeholders(template: str) -> set[str]:
    """The {names} a template uses; the catalogs must agree on them key by key."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}

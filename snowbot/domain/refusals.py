"""A refused action: the catalog key of the reply and its values. Nothing was changed."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """Raised by the domain; the adapter renders `key` from the user's catalog."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

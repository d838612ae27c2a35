"""The named queries' parameters as psycopg takes them: the one thing rewritten.

The named queries (storage/queries/*.py) are written once, in the SQL both engines
accept (`RETURNING id` rather than `lastrowid`, `INSERT … ON CONFLICT DO NOTHING` rather
than `INSERT OR IGNORE`, `CASE` rather than the scalar `MAX(a, b)`, conditions rather
than `UPDATE OR IGNORE`, `x = 1` rather than a bare integer as a truth value). The few
functions the engines spell otherwise each engine names itself (storage.functions for
SQLite, storage.postgres.functions), and each has its own migrations (storage.migrations).

What is left is SQLite's parameters: `?` and `?N` become psycopg's `%s` and `%(pN)s`,
and a `%` psycopg would read as its own is doubled, by one pass over the text that knows
its quoted literals (a `?` or `%` inside one is text). Nothing else is touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any


def bind(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple[str, Any]:
    """A query and its parameters as psycopg takes them."""
    text, numbered = translate(sql)
    if numbered and not isinstance(params, Mapping):
        return text, {f"p{i}": value for i, value in enumerate(params, start=1)}
    return text, params


@lru_cache(maxsize=2048)
def translate(sql: str) -> tuple[str, bool]:
    """(the query with psycopg's parameters, whether they are numbered). A bare `?`
    after `?N` is N+1, as in SQLite."""
    tokens = _tokens(sql)
    numbered = any(kind == "?" and len(text) > 1 for kind, text in tokens)
    out: list[str] = []
    highest = 0
    for kind, text in tokens:
        if kind == "?":
            n = int(text[1:]) if len(text) > 1 else highest + 1
            highest = max(highest, n)
            out.append(f"%(p{n})s" if numbered else "%s")
        else:
            out.append(text.replace("%", "%%"))
    return "".join(out), numbered


@lru_cache(maxsize=2048)
def numbered_form(text: str) -> str:
    """A translated query with PostgreSQL's own `$n` parameters, as PREPARE takes it.
    (Every `%` of the query itself is doubled by now, so `%%`, `%s` and `%(pN)s` read
    left to right are exact.)"""
    out: list[str] = []
    count = 0
    i = 0
    while i < len(text):
        if text.startswith("%%", i):
            out.append("%")
            i += 2
        elif text.startswith("%s", i):
            count += 1
            out.append(f"${count}")
            i += 2
        elif text.startswith("%(p", i):
            end = text.index(")s", i)
            out.append(f"${text[i + 3 : end]}")
            i = end + 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _tokens(sql: str) -> list[tuple[str, str]]:
    """The query as ("?", a parameter) and ("", any other text, quoted literals whole)."""
    tokens: list[tuple[str, str]] = []
    start = i = 0
    while i < len(sql):
        c = sql[i]
        if c in "'\"":
            close = sql.find(c, i + 1)
            i = len(sql) if close < 0 else close + 1
            continue
        if c == "?":
            tokens.append(("", sql[start:i]))
            j = i + 1
            while j < len(sql) and sql[j].isdigit():
                j += 1
            tokens.append(("?", sql[i:j]))
            start = i = j
            continue
        i += 1
    tokens.append(("", sql[start:]))
    return [t for t in tokens if t[1]]

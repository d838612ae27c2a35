"""Where SQLite and PostgreSQL differ: the one place that knows both.

The named queries (storage/sqlite/*.py) are written once, in the SQL both engines
accept wherever there is one (`RETURNING id` rather than `lastrowid`, `INSERT … ON
CONFLICT DO NOTHING` rather than `INSERT OR IGNORE`, `CASE` rather than the scalar
`MAX(a, b)`, conditions rather than `UPDATE OR IGNORE`, `x = 1` rather than a bare integer
as a truth value). What is left is translated here, once per distinct statement (cached):

- placeholders: `?` and `?N` become psycopg's `%s` and `%(pN)s`;
- `json_group_array(x)` becomes `json_agg` (as text, `[]` when empty);
- `CAST(x AS INTEGER)` truncates as SQLite does (PostgreSQL would round);
- `julianday('now')` is the same day number, from PostgreSQL's clock.

The schema is not translated: each engine has its own migrations (storage.migrations).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

# SQLite's julianday('now'): days since noon UTC, 24 November 4714 BC
JULIAN_NOW = "(extract(epoch from now()) / 86400.0 + 2440587.5)"


def bind(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple[str, Any]:
    """A query and its parameters as psycopg takes them."""
    text, numbered = translate(sql)
    if numbered and not isinstance(params, Mapping):
        return text, {f"p{i}": value for i, value in enumerate(params, start=1)}
    return text, params


@lru_cache(maxsize=2048)
def translate(sql: str) -> tuple[str, bool]:
    """(the query in PostgreSQL's words, whether its parameters are numbered)."""
    sql = _functions(sql).replace("julianday('now')", JULIAN_NOW)
    return _placeholders(sql)


def _placeholders(sql: str) -> tuple[str, bool]:
    """`?` / `?N` as psycopg's; `%` doubled. A bare `?` after `?N` is N+1, as in SQLite."""
    numbered = re.search(r"\?\d", _outside_quotes(sql)) is not None
    out: list[str] = []
    highest = 0
    i = 0
    quote = ""
    while i < len(sql):
        c = sql[i]
        if quote:
            out.append("%%" if c == "%" else c)
            if c == quote:
                quote = ""
            i += 1
            continue
        if c in "'\"":
            quote = c
            out.append(c)
            i += 1
            continue
        if c == "%":
            out.append("%%")
            i += 1
            continue
        if c == "?":
            j = i + 1
            while j < len(sql) and sql[j].isdigit():
                j += 1
            n = int(sql[i + 1 : j]) if j > i + 1 else highest + 1
            highest = max(highest, n)
            out.append(f"%(p{n})s" if numbered else "%s")
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out), numbered


@lru_cache(maxsize=2048)
def numbered_form(text: str) -> str:
    """A translated query with PostgreSQL's own `$n` parameters, as PREPARE takes it."""
    count = 0

    def one(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        if match.group(1):
            return f"${match.group(1)}"
        count += 1
        return f"${count}"

    return re.sub(r"%%|%\(p(\d+)\)s|%s", one, text)


def _outside_quotes(sql: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", "", sql)


def _functions(sql: str) -> str:
    """Rewrite the function calls PostgreSQL names or means otherwise."""
    for name in ("json_group_array", "CAST"):
        start = 0
        pattern = re.compile(rf"\b{name}\s*\(")
        while (m := pattern.search(sql, start)) is not None:
            open_at = m.end() - 1
            close_at = _closing(sql, open_at)
            inner = sql[open_at + 1 : close_at]
            new = _rewrite(name, inner)
            if new is None:
                start = m.end()
                continue
            sql = sql[: m.start()] + new + sql[close_at + 1 :]
            start = m.start() + len(new)
    return sql


def _rewrite(name: str, inner: str) -> str | None:
    if name == "json_group_array":
        return f"COALESCE(json_agg({inner}), '[]'::json)::text"
    m = re.fullmatch(r"(?s)(.*)\s+AS\s+INTEGER\s*", inner)
    if m is None:
        return None
    return f"CAST(TRUNC({m.group(1)}) AS BIGINT)"


def _closing(sql: str, open_at: int) -> int:
    depth = 0
    quote = ""
    for i in range(open_at, len(sql)):
        c = sql[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced parentheses in {sql!r}")

"""storage/postgres/dialect.py: the named queries' parameters as psycopg takes them, and
nothing else touched (no database needed)."""

from __future__ import annotations

from storage.postgres.dialect import bind, numbered_form, translate


def test_placeholders_number_as_sqlite_numbers_them() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c = ?") == (
        "SELECT a FROM t WHERE b = %s AND c = %s",
        False,
    )
    # a bare ? after ?N is N+1; a ? inside a literal is text
    sql, params = bind("VALUES (?, ?, ?8, ?8, ?9, '?')", (1, 2, 3, 4, 5, 6, 7, 8, 9))
    assert sql == "VALUES (%(p1)s, %(p2)s, %(p8)s, %(p8)s, %(p9)s, '?')"
    assert params["p8"] == 8 and params["p9"] == 9
    assert translate("SELECT '50%' || ?")[0] == "SELECT '50%%' || %s"


def test_nothing_but_the_parameters_is_rewritten() -> None:
    both = "INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING RETURNING id"
    assert translate(both)[0] == "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id"
    for sql in (
        "SELECT MAX(a, b), json_group_array(x), CAST(y AS INTEGER) FROM t",
        "SELECT julianday('now') WHERE \"odd?name\" = 'it''s ?1'",
    ):
        assert translate(sql) == (sql, False)


def test_the_prepared_form_numbers_as_postgresql_does() -> None:
    assert numbered_form(translate("SELECT ? || '%?' WHERE a = ?")[0]) == (
        "SELECT $1 || '%?' WHERE a = $2"
    )
    assert numbered_form(translate("SELECT ?2, ?1, ?2 || '%'")[0]) == "SELECT $2, $1, $2 || '%'"

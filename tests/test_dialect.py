"""storage/postgres/dialect.py: the named queries as PostgreSQL reads them (no database needed)."""

from __future__ import annotations

from storage.postgres.dialect import bind, translate


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


def test_what_postgresql_names_otherwise() -> None:
    # what both engines accept is left as it is
    both = "INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING RETURNING id"
    assert translate(both)[0] == both.replace("?", "%s")
    assert translate("SELECT MAX(x), MIN(y) FROM t")[0] == "SELECT MAX(x), MIN(y) FROM t"
    assert translate("SELECT json_group_array(id) AS ids FROM t")[0] == (
        "SELECT COALESCE(json_agg(id), '[]'::json)::text AS ids FROM t"
    )
    now = translate("SELECT (julianday('now') - 2440587.5) * 86400.0")[0]
    assert now == "SELECT ((extract(epoch from now()) / 86400.0 + 2440587.5) - 2440587.5) * 86400.0"
    # SQLite's CAST truncates, PostgreSQL's rounds: 1.9 must stay 1 on both
    assert translate("SELECT CAST(a / ?1 AS INTEGER) * ?1")[0] == (
        "SELECT CAST(TRUNC(a / %(p1)s) AS BIGINT) * %(p1)s"
    )

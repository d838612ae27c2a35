"""The few SQL functions PostgreSQL spells otherwise than SQLite (storage.functions)."""

from __future__ import annotations

from storage.functions import SqlFunctions

POSTGRES = SqlFunctions(
    now="(extract(epoch from now()))",
    json_list="COALESCE(json_agg({}), '[]'::json)::text",
    whole="CAST(TRUNC({}) AS BIGINT)",  # PostgreSQL's CAST alone would round
)

"""The rows of the benchmark's long storm, as both engines' bulk loaders take them
(`storage.sqlite.bulk`, `storage.postgres.bulk`)."""

from __future__ import annotations

# (incident, user, headcount, district, street, lat, lon, started_at, ended_at)
ShiftRow = tuple[int, int, int, int, int, float, float, float, float | None]
# (incident, street, needed, accepted, status, created_by, created_at, done_at)
TaskRow = tuple[int, int, int, int, str, int, float, float | None]

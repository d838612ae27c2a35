"""The command line as an operator uses it: a real process, a real file, one-line errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.engines import raw
from tests.harness import SAMPLE_CSV, SMALL_CITY, run_cli

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


def test_help_lists_every_command(workdir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "snowbot", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in (
        "run",
        "demo",
        "tally",
        "export",
        "import-streets",
        "backup",
        "restore",
        "bench",
    ):
        assert command in out


def test_import_twice_gives_the_same_tally(workdir: Path) -> None:
    first = run_cli(workdir, "import-streets", str(SAMPLE_CSV))
    assert first.returncode == 0, first.stderr
    tally1 = json.loads(run_cli(workdir, "tally", "--json").stdout)
    second = run_cli(workdir, "import-streets", str(SAMPLE_CSV))
    assert second.returncode == 0 and "0 added" in second.stdout
    tally2 = json.loads(run_cli(workdir, "tally", "--json").stdout)
    assert tally1 == tally2
    rows = len(SAMPLE_CSV.read_text("utf-8").strip().splitlines()) - 1
    assert tally1["streets"] == {"total": rows, "served": 0, "unserved": rows}
    assert len(tally1["unserved_streets"]) == rows
    assert set(tally1) == {
        "incident",
        "person_times",
        "on_duty",
        "assigned",
        "available",
        "people",
        "tasks",
        "streets",
        "districts",
        "unserved_streets",
        "reports",
        "units",
        "no_unit",
    }
    # SPEC §6: assigned and available right after on_duty
    assert list(tally1)[2:5] == ["on_duty", "assigned", "available"]
    assert set(tally1["tasks"]) == {"open", "in_progress", "done", "cancelled"}
    names = [d["district"] for d in tally1["districts"]]
    assert names == sorted(names) and len(names) == 6
    assert set(tally1["districts"][0]) == {
        "district",
        "person_times",
        "on_duty",
        "tasks_done",
        "streets_total",
        "streets_unserved",
    }
    keys = [(u["district"], u["street"]) for u in tally1["unserved_streets"]]
    assert keys == sorted(keys)
    assert all(u["open_task"] is None for u in tally1["unserved_streets"])


def test_a_bad_file_imports_nothing(workdir: Path) -> None:
    bad = workdir / "bad.csv"
    bad.write_text(SMALL_CITY + "South,Far Lane,95,127\n", "utf-8")
    result = run_cli(workdir, "import-streets", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "line 9" in result.stderr and "latitude" in result.stderr
    assert "Traceback" not in result.stderr
    tally = json.loads(run_cli(workdir, "tally", "--json").stdout)
    assert tally["streets"]["total"] == 0


def test_config_mistake_is_one_line_naming_the_key(workdir: Path) -> None:
    (workdir / "config.toml").write_text('[schedule]\ntally_every = "30x"\n', "utf-8")
    result = run_cli(workdir, "tally", "--json")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "snowbot: schedule.tally_every: '30x' is not a duration like 45s, 30m or 8h"
    )


def test_export_writes_both_csvs_with_the_spec_headers(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    result = run_cli(workdir, "export", "--out", "out")
    assert result.returncode == 0, result.stderr
    shifts = (workdir / "out" / "shifts.csv").read_text("utf-8-sig").splitlines()
    tasks = (workdir / "out" / "tasks.csv").read_text("utf-8-sig").splitlines()
    assert shifts[0] == (
        "id,user_id,name,headcount,district,street,lat,lon,started_at,ended_at,placed,unit"
    )
    assert tasks[0] == (
        "id,district,street,needed,accepted,status,created_by,created_at,done_at,note,unit"
    )


def test_tally_works_while_another_process_writes(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    assert run_cli(workdir, "tally", "--json").returncode == 0
    database = tomllib.loads((workdir / "config.toml").read_text("utf-8"))["storage"]["database"]
    with raw(workdir / database if database == "city.db" else database) as holder:
        if isinstance(holder, sqlite3.Connection):
            holder.isolation_level = None
            holder.execute("BEGIN IMMEDIATE")
        else:
            holder.execute("BEGIN")
        holder.execute("UPDATE streets SET lat = lat WHERE id = 1")
        try:
            result = run_cli(workdir, "tally", "--json")
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout)["streets"]["total"] == 7
        finally:
            holder.execute("COMMIT")


def test_missing_gazetteer_file_is_one_line(workdir: Path) -> None:
    result = run_cli(workdir, "import-streets", "nope.csv")
    assert result.returncode == 2 and "cannot be read" in result.stderr


def test_import_geojson_lines_with_a_district_for_the_whole_file(workdir: Path) -> None:
    lines = SAMPLE_CSV.parent / "heihe_lines.geojson"
    done = run_cli(workdir, "import-streets", str(lines))
    assert done.returncode == 0, done.stderr
    assert "5 added" in done.stdout
    again = run_cli(workdir, "import-streets", str(lines))
    assert "0 added, 0 moved, 5 unchanged" in again.stdout
    tally = json.loads(run_cli(workdir, "tally", "--json").stdout)
    assert {d["district"] for d in tally["districts"]} == {"爱辉区", "北安市"}
    # one district for every street of a file without district properties
    bare = workdir / "bare.geojson"
    bare.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "New Road"},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[127.4, 50.2], [127.41, 50.2]],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    refused = run_cli(workdir, "import-streets", str(bare))
    assert refused.returncode == 2 and "features[0]: no district" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    placed = run_cli(workdir, "import-streets", str(bare), "--district", "新区")
    assert placed.returncode == 0 and "1 added" in placed.stdout


def test_a_reader_that_goes_away_stops_the_command_quietly(workdir: Path) -> None:
    """`snowbot tally --json | head -c 10`: no "unexpected error" and no traceback."""
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    import subprocess
    import sys

    reading = subprocess.Popen(
        [sys.executable, "-m", "snowbot", "tally", "--json"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reading.stdout is not None and reading.stderr is not None
    reading.stdout.close()  # the reader is gone before a byte is read
    err = reading.stderr.read().decode()
    assert reading.wait(timeout=60) == 141, err
    assert "unexpected error" not in err and "Traceback" not in err, err

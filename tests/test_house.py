"""The shape of the house: who reaches the store, the one aiosqlite internal, and a wheel
that works outside the repository. (Which package imports which: `lint-imports`.)"""

from __future__ import annotations

import ast
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import venv
from pathlib import Path

import aiosqlite

from storage.sqlite.db_thread import run_in_db_thread
from tests.harness import ROOT


def test_nothing_outside_the_service_reaches_its_store() -> None:
    """The adapter, the courier, the sweeps and the CLI call the service's named operations."""
    reaching = []
    for package in ("snowbot", "handlers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.parent == ROOT / "snowbot" / "service":
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr == "store":
                    reaching.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert reaching == []


async def test_aiosqlite_still_runs_a_whole_function_in_its_thread(tmp_path: Path) -> None:
    """Group commit runs each batch as one job in aiosqlite's thread through its internals
    (`storage/sqlite/db_thread.py`). If a new aiosqlite changes them, this says so first."""
    assert hasattr(aiosqlite.Connection, "_execute"), "aiosqlite no longer has _execute"
    assert hasattr(aiosqlite.Connection, "_conn"), "aiosqlite no longer has _conn"
    db = await aiosqlite.connect(str(tmp_path / "thread.db"), isolation_level=None)
    try:

        def job(conn: sqlite3.Connection, value: int) -> tuple[int, bool]:
            assert isinstance(conn, sqlite3.Connection)
            conn.execute("CREATE TABLE t (x INTEGER)")
            conn.execute("INSERT INTO t VALUES (?)", (value,))
            (found,) = conn.execute("SELECT x FROM t").fetchone()
            return found, threading.current_thread() is threading.main_thread()

        assert await run_in_db_thread(db, job, 7) == (7, False)
        async with db.execute("SELECT x FROM t") as cur:  # the same connection, seen as usual
            assert await cur.fetchone() == (7,)
    finally:
        await db.close()


def test_a_wheel_installed_elsewhere_runs_the_demo(tmp_path: Path) -> None:
    """`pip install .` into a new venv, then from an empty folder: the demo and --help.

    Offline and quick: the wheel is built without build isolation, and the new venv
    borrows the dependencies from this one (a path in a .pth file) instead of fetching.
    """
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for package in ("snowbot", "handlers", "storage", "web"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SNOWBOT_CONFIG")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(wheels), str(source)], check=True, env=env, timeout=120)
    (wheel,) = wheels.glob("snowbot-*.whl")

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.strip()
    # the dependencies, from this venv: a plain path, so its editable snowbot is not seen
    borrowed = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "borrowed.pth").write_text("\n".join(borrowed) + "\n", "utf-8")
    install = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, env=env, timeout=120)

    empty = tmp_path / "empty"
    empty.mkdir()

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=empty, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        return done.stdout

    where = run(str(python), "-c", "import snowbot; print(snowbot.__file__)")
    assert where.startswith(site), where  # the installed copy, not this checkout
    assert "demo" in run(str(python), "-m", "snowbot", "--help")
    assert "demo" in run(str(python), "-m", "snowbot.app.cli", "--help")
    out = run(str(target / "bin" / "snowbot"), "demo", "--quiet")
    assert "agree: yes" in out and "the overview: http://127.0.0.1:" in out
    # the overview's files travel in the wheel: nothing is fetched at run time
    static = Path(site) / "web" / "static"
    for name in (
        "overview.js",
        "overview.css",
        "vendor/echarts/echarts.min.js",
        "vendor/echarts/LICENSE",
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/LICENSE",
    ):
        assert (static / name).is_file(), name
    assert not list(empty.iterdir()), "the demo leaves nothing behind"

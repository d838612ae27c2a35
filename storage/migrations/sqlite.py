"""SQLite's schema history: every migration as released, in order.

Never edit a released migration: add the next number, here and in
`storage.migrations.postgres`.
"""

from storage.migrations.sqlite_1_to_8 import MIGRATIONS_1_TO_8

# Made before the first migration; the applied versions are recorded in it
SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "version INTEGER PRIMARY KEY, applied_at REAL NOT NULL DEFAULT (unixepoch()))"
)

MIGRATIONS: dict[int, str] = {
    **MIGRATIONS_1_TO_8,
    9: """
    -- units (单位: a bureau, a company, a community) that cadres come from and that answer
    -- for streets (包保路段). `key` is the name as it is matched (case, spacing and width
    -- folded), so two spellings of one name cannot make two units.
    CREATE TABLE units (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL
    );
    -- the unit responsible for a street (the gazetteer's fifth column)
    ALTER TABLE streets ADD COLUMN unit_id INTEGER REFERENCES units(id);
    -- the unit a cadre belongs to now (/unit NAME)
    ALTER TABLE users ADD COLUMN unit_id INTEGER REFERENCES units(id);
    -- the cadre's unit when the shift opened: changing unit later moves no turnout
    ALTER TABLE shifts ADD COLUMN unit_id INTEGER REFERENCES units(id);
    -- running sums per unit, kept in the same transaction as the shift they count (like
    -- district_counters); unit_id 0 counts the shifts of cadres without a unit
    CREATE TABLE unit_counters (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        unit_id INTEGER NOT NULL,
        person_times INTEGER NOT NULL DEFAULT 0,
        on_duty INTEGER NOT NULL DEFAULT 0 CHECK (on_duty >= 0),
        people INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (incident_id, unit_id)
    ) WITHOUT ROWID;
    -- who turned out for which unit (a unit's people), 0 for no unit
    CREATE TABLE unit_people (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        unit_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        PRIMARY KEY (incident_id, unit_id, user_id)
    ) WITHOUT ROWID;
    -- shifts from before units had none: they count under no unit
    INSERT INTO unit_counters (incident_id, unit_id, person_times, on_duty, people)
        SELECT incident_id, 0, SUM(headcount),
               SUM(CASE WHEN ended_at IS NULL THEN headcount ELSE 0 END),
               COUNT(DISTINCT user_id)
        FROM shifts GROUP BY incident_id;
    INSERT INTO unit_people (incident_id, unit_id, user_id)
        SELECT DISTINCT incident_id, 0, user_id FROM shifts;
    """,
    10: """
    -- residents' reports (群众求助): anyone may say where snow blocks the way. A report
    -- has its nearest street; a report near a live one of the last hours joins it instead
    -- (resident_reporters). Its state is derived, never copied: dismissed, or open with no
    -- task (or a cancelled one), tasked while its task is live, resolved once it is done.
    CREATE TABLE resident_reports (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        created_by INTEGER NOT NULL REFERENCES users(id),
        street_id INTEGER NOT NULL REFERENCES streets(id),
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        photo_file_id TEXT,             -- Telegram's file id only; the photo stays there
        created_at REAL NOT NULL,
        reporters INTEGER NOT NULL DEFAULT 1 CHECK (reporters >= 1),
        task_id INTEGER REFERENCES tasks(id),
        dismissed_at REAL,
        dismissed_by INTEGER,
        origin INTEGER                  -- the update that made it (a redelivery finds it)
    );
    CREATE INDEX resident_reports_recent ON resident_reports(incident_id, created_at);
    CREATE INDEX resident_reports_task ON resident_reports(task_id) WHERE task_id IS NOT NULL;
    CREATE UNIQUE INDEX resident_reports_origin ON resident_reports(origin)
        WHERE origin IS NOT NULL;
    -- who reported what, once per person and report; also the hourly limit per person
    CREATE TABLE resident_reporters (
        report_id INTEGER NOT NULL REFERENCES resident_reports(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        reported_at REAL NOT NULL,
        PRIMARY KEY (report_id, user_id)
    );
    CREATE INDEX resident_reporters_user ON resident_reporters(user_id, reported_at);
    -- a /report waiting for its location, with any text or photo sent meanwhile
    CREATE TABLE resident_report_waits (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        text TEXT NOT NULL DEFAULT '',
        photo_file_id TEXT,
        asked_at REAL NOT NULL
    );
    -- people a dispatcher blocked from reporting, for one incident
    CREATE TABLE resident_blocks (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        user_id INTEGER NOT NULL,
        blocked_by INTEGER NOT NULL,
        blocked_at REAL NOT NULL,
        PRIMARY KEY (incident_id, user_id)
    );
    """,
    11: """
    -- a six-day storm (issue 21). A message dropped unsent, marked failed: a tally report
    -- by the newer report for the same chat (its id), an escalation by its task being
    -- accepted, done or cancelled meanwhile (0)
    ALTER TABLE outbox ADD COLUMN superseded_by INTEGER;
    -- a document of an incident sent through the outbox (the closing report's CSVs):
    -- the file's name ('shifts.csv', 'tasks.csv'), made from the incident when it is sent
    ALTER TABLE outbox ADD COLUMN document TEXT;
    ALTER TABLE outbox ADD COLUMN incident_id INTEGER REFERENCES incidents(id);
    -- an ended incident owes its closing report: written in the transaction that ends it,
    -- marked once the report is queued (a crash in between is caught up by the sweep)
    CREATE TABLE closing_reports (
        incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
        closed_by INTEGER NOT NULL,
        queued_at REAL
    );
    """,
    12: """
    -- several webhook processes on one PostgreSQL database (issue 20): whose update each
    -- kept one is (the sender, or the chat; NULL: nobody's), so that a person's updates
    -- are handled oldest first whichever process took them in
    ALTER TABLE inbox ADD COLUMN person INTEGER;
    CREATE INDEX inbox_person ON inbox(person, update_id) WHERE person IS NOT NULL;
    -- the one update of a person being handled now, by which process, until when (a turn
    -- left by a dead process is taken again once it has expired); deleted in the
    -- transaction that marks the update handled
    CREATE TABLE turns (
        person INTEGER PRIMARY KEY,
        update_id INTEGER NOT NULL,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX turns_update ON turns(update_id);
    """,
    13: """
    -- processes sharing one database (issue 27): a number that moves with every import
    -- that changes the city's streets, districts or their units, so that each process
    -- rebuilds its street index from the database (one row, id 1, made by the first import)
    CREATE TABLE city_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    );
    """,
    14: """
    -- turns at scale (issue 27): a process is alive while it renews its row here, by the
    -- database's clock (seconds since 1970); a turn, and a kept update, belong to the
    -- process that took them (`holder`), and are taken over only once it is not alive
    CREATE TABLE processes (
        holder TEXT PRIMARY KEY,
        beat_at REAL NOT NULL
    );
    ALTER TABLE inbox ADD COLUMN holder TEXT;
    -- a person whose updates beyond their backlog's bound were dropped: the last one
    -- dropped, so that a flood brings them one notice, not one per update
    CREATE TABLE floods (
        person INTEGER PRIMARY KEY,
        last_dropped INTEGER NOT NULL,
        at REAL NOT NULL
    );
    """,
    15: """
    -- replies first (issue 31): each message's lane, served in order under Telegram's rate
    -- limit: 0 replies, 1 task announcements, 2 bulk notices (an incident's end, reports)
    ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 2;
    CREATE INDEX outbox_lanes ON outbox(lane, id) WHERE sent_at IS NULL AND failed_at IS NULL;
    -- a message that edits one already sent to its chat (the id Telegram gave it) instead
    -- of sending a new one: a question decided or withdrawn shows so where it was asked
    ALTER TABLE outbox ADD COLUMN edit_of INTEGER;
    -- a photo already on Telegram (its file id) sent with the text as its caption: a task's
    -- proof of completion, shown to its dispatcher and to the others who held places on it
    ALTER TABLE outbox ADD COLUMN photo TEXT;
    """,
    16: """
    -- an incident's end withdraws the questions still waiting (issue 31): the edit of a
    -- copy being sent at that moment waits for its Telegram id (the outbox id it edits)
    ALTER TABLE outbox ADD COLUMN edit_after INTEGER;
    CREATE INDEX outbox_edit_after ON outbox (edit_after) WHERE edit_after IS NOT NULL;
    """,
}

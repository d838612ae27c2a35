"""Numbered schema migrations, applied in order at start-up.

Never edit a released migration: add the next number. The applied version is
recorded in `schema_version`, one row per migration. This file is long because it is the
schema's whole history, as data, in one place where its order can be read.
"""

# Made before the first migration; the applied versions are recorded in it
SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "version INTEGER PRIMARY KEY, applied_at REAL NOT NULL DEFAULT (unixepoch()))"
)

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL
    );
    -- at most one current incident
    CREATE UNIQUE INDEX incidents_one_current ON incidents ((ended_at IS NULL))
        WHERE ended_at IS NULL;

    CREATE TABLE users (
        id INTEGER PRIMARY KEY,           -- the Telegram user id
        name TEXT NOT NULL DEFAULT '',
        username TEXT,
        language TEXT,                    -- chosen with /lang, else Telegram's
        lang_chosen INTEGER NOT NULL DEFAULT 0,
        role TEXT NOT NULL DEFAULT 'cadre'
            CHECK (role IN ('cadre', 'dispatcher', 'coordinator')),
        district_id INTEGER REFERENCES districts(id),
        registered INTEGER NOT NULL DEFAULT 0,   -- 0: granted a role before writing
        created_at REAL NOT NULL
    );

    CREATE TABLE districts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );

    CREATE TABLE streets (
        id INTEGER PRIMARY KEY,
        district_id INTEGER NOT NULL REFERENCES districts(id),
        name TEXT NOT NULL,
        lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
        lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
        UNIQUE (district_id, name)
    );
    CREATE INDEX streets_name ON streets(name);

    CREATE TABLE shifts (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        headcount INTEGER NOT NULL CHECK (headcount >= 1),
        district_id INTEGER NOT NULL REFERENCES districts(id),
        street_id INTEGER NOT NULL REFERENCES streets(id),
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL
    );
    -- a person is on at most one open shift per incident
    CREATE UNIQUE INDEX shifts_one_open ON shifts(incident_id, user_id) WHERE ended_at IS NULL;
    CREATE INDEX shifts_user ON shifts(incident_id, user_id, ended_at);
    CREATE INDEX shifts_open ON shifts(incident_id, started_at) WHERE ended_at IS NULL;

    -- running sums kept in the same transaction as the shift they count,
    -- so the tally need not add up a million rows
    CREATE TABLE district_counters (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        district_id INTEGER NOT NULL REFERENCES districts(id),
        person_times INTEGER NOT NULL DEFAULT 0,
        on_duty INTEGER NOT NULL DEFAULT 0 CHECK (on_duty >= 0),
        PRIMARY KEY (incident_id, district_id)
    ) WITHOUT ROWID;

    CREATE TABLE incident_people (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        PRIMARY KEY (incident_id, user_id)
    ) WITHOUT ROWID;

    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        street_id INTEGER NOT NULL REFERENCES streets(id),
        needed INTEGER NOT NULL CHECK (needed >= 1),
        accepted INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'open'
            CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
        note TEXT NOT NULL DEFAULT '',
        created_by INTEGER NOT NULL,
        created_at REAL NOT NULL,
        done_at REAL,
        done_by INTEGER,
        proof_file_id TEXT,
        -- the invariant, held by the database itself
        CHECK (accepted BETWEEN 0 AND needed)
    );
    CREATE INDEX tasks_incident_status ON tasks(incident_id, status, street_id);

    CREATE TABLE task_accepts (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        accepted_at REAL NOT NULL,
        PRIMARY KEY (task_id, user_id)
    ) WITHOUT ROWID;

    CREATE TABLE served_streets (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        street_id INTEGER NOT NULL REFERENCES streets(id),
        served_at REAL NOT NULL,
        PRIMARY KEY (incident_id, street_id)
    ) WITHOUT ROWID;
    """,
    2: """
    -- chats bound with /bind: a district's announcements, or (district NULL) city reports
    CREATE TABLE bindings (
        chat_id INTEGER PRIMARY KEY,
        district_id INTEGER REFERENCES districts(id),
        bound_by INTEGER NOT NULL,
        bound_at REAL NOT NULL
    );

    -- where each task was announced, so the announcement can be edited ("2/3", done)
    CREATE TABLE announcements (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (task_id, chat_id, message_id)
    ) WITHOUT ROWID;

    -- "/checkin N" waits here for the location that completes it
    CREATE TABLE pending_checkins (
        user_id INTEGER PRIMARY KEY,
        headcount INTEGER NOT NULL CHECK (headcount >= 1),
        asked_at REAL NOT NULL
    );
    """,
    3: """
    -- when the current stretch on duty began (check-in, or the last rejoin): max_shift counts
    -- from here, so a cadre who comes back after a welfare closure is not closed again at once
    ALTER TABLE shifts ADD COLUMN welfare_from REAL;
    UPDATE shifts SET welfare_from = started_at;
    -- 'welfare' when the scheduler closed the shift after max_shift
    ALTER TABLE shifts ADD COLUMN closed_by TEXT;
    CREATE INDEX shifts_welfare ON shifts(incident_id, welfare_from) WHERE ended_at IS NULL;

    ALTER TABLE bindings ADD COLUMN title TEXT NOT NULL DEFAULT '';

    -- messages the bot owes, queued in the transaction that caused them and sent after it;
    -- (key, chat_id) is unique, so a sweep that runs twice queues nothing twice
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,              -- what it is about, e.g. 'tally:985112', 'escalate:12:1'
        chat_id INTEGER NOT NULL,
        lang TEXT NOT NULL,
        text TEXT,                      -- sent as it is, or:
        task_id INTEGER REFERENCES tasks(id),  -- the task shown as it is when sent,
        template TEXT,                  -- in this catalog text, with its buttons
        created_at REAL NOT NULL,
        due_at REAL NOT NULL,           -- not before (retries back off)
        attempts INTEGER NOT NULL DEFAULT 0,
        sent_at REAL,
        message_id INTEGER,
        failed_at REAL,                 -- given up: the chat is gone or refused the message
        error TEXT,
        UNIQUE (key, chat_id),
        CHECK (text IS NOT NULL OR (task_id IS NOT NULL AND template IS NOT NULL))
    );
    CREATE INDEX outbox_due ON outbox(due_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
    """,
    4: """
    -- a street's lines (GeoJSON import): JSON [[[lat, lon], ...], ...], lat first like
    -- everything here; NULL for a point street (CSV), whose lat/lon is all there is.
    -- For a line street lat/lon is the point halfway along it.
    ALTER TABLE streets ADD COLUMN lines TEXT;

    -- open shifts are found by welfare_from now (shifts_welfare); one index less per check-in
    DROP INDEX shifts_open;

    -- people with at least one shift, kept with incident_people, so the tally need not count
    ALTER TABLE incidents ADD COLUMN people INTEGER NOT NULL DEFAULT 0;
    UPDATE incidents SET people =
        (SELECT COUNT(*) FROM incident_people p WHERE p.incident_id = incidents.id);

    -- when the shift's position was last reported (check-in, rejoin, live location)
    ALTER TABLE shifts ADD COLUMN located_at REAL;
    UPDATE shifts SET located_at = started_at;

    -- how far from its street a task was reported done, when the reporter's position was known
    ALTER TABLE tasks ADD COLUMN done_km REAL;

    -- updates already taken in: Telegram delivers again what the bot did not confirm
    -- before a crash, and a second delivery must change nothing (kept two days)
    CREATE TABLE seen_updates (
        update_id INTEGER PRIMARY KEY,
        seen_at REAL NOT NULL
    );
    CREATE INDEX seen_updates_at ON seen_updates(seen_at);
    -- every update as fetched, kept before Telegram is told it was received: one the bot
    -- had not handled when it died is handled at the next start
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        body TEXT NOT NULL,
        received_at REAL NOT NULL
    );
    CREATE INDEX inbox_at ON inbox(received_at);
    -- the update that created a task or started an incident: delivered again after a crash
    -- (before it was marked seen), it finds what it made instead of making it twice
    ALTER TABLE tasks ADD COLUMN origin INTEGER;
    CREATE UNIQUE INDEX tasks_origin ON tasks(origin) WHERE origin IS NOT NULL;
    ALTER TABLE incidents ADD COLUMN origin INTEGER;
    CREATE UNIQUE INDEX incidents_origin ON incidents(origin) WHERE origin IS NOT NULL;

    -- a /newtask whose place the geocoder found, waiting for its dispatcher's confirmation
    CREATE TABLE task_proposals (
        id INTEGER PRIMARY KEY,
        dispatcher_id INTEGER NOT NULL,
        street_id INTEGER NOT NULL REFERENCES streets(id),
        needed INTEGER NOT NULL CHECK (needed >= 1),
        note TEXT NOT NULL DEFAULT '',
        query TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    5: """
    -- a chat's waiting messages, oldest first: a message put back for a retry holds back
    -- the newer ones of its chat, so a chat never sees the 12:30 report before the 12:00 one
    CREATE INDEX outbox_chat_waiting ON outbox(chat_id, id)
        WHERE sent_at IS NULL AND failed_at IS NULL;
    -- a reply Telegram could not take when it was made (an outage) waits here with its
    -- buttons or keyboard, as Bot API JSON
    ALTER TABLE outbox ADD COLUMN markup TEXT;
    -- tasks whose announcements could not be edited (Telegram unreachable): they are
    -- brought up to date ("2/3", done) when it answers again
    CREATE TABLE stale_announcements (
        task_id INTEGER PRIMARY KEY REFERENCES tasks(id),
        since REAL NOT NULL
    );
    -- a group upgraded to a supergroup gets a new id; a report chat in the config keeps
    -- its old one, which this maps to the new
    CREATE TABLE moved_chats (
        old_id INTEGER PRIMARY KEY,
        new_id INTEGER NOT NULL,
        moved_at REAL NOT NULL
    );
    """,
    6: """
    -- enrolment by invitation: a user who only sent /start is a guest, not a cadre. SQLite
    -- cannot change the CHECK on users.role, so membership is a column of its own: a guest
    -- is role 'cadre' with member 0. Everyone already here registered under the open
    -- enrolment of earlier versions, and stays what they were.
    ALTER TABLE users ADD COLUMN member INTEGER NOT NULL DEFAULT 0;
    UPDATE users SET member = 1;
    -- the invitation a guest joined through
    ALTER TABLE users ADD COLUMN invited_by TEXT;

    -- /invite: a deep link's code, for a district (or none), with uses left until it expires
    CREATE TABLE invitations (
        code TEXT PRIMARY KEY,
        district_id INTEGER REFERENCES districts(id),
        created_by INTEGER NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        uses INTEGER NOT NULL CHECK (uses >= 1),
        uses_left INTEGER NOT NULL CHECK (uses_left BETWEEN 0 AND uses),
        ended_at REAL                   -- /uninvite
    );
    CREATE INDEX invitations_by ON invitations(created_by, expires_at);

    -- a team check-in above [access] max_team_unconfirmed waits here for a dispatcher of
    -- its district; it counts nothing until confirmed (then a shift opens)
    CREATE TABLE team_requests (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        headcount INTEGER NOT NULL CHECK (headcount >= 1),
        district_id INTEGER NOT NULL REFERENCES districts(id),
        street_id INTEGER NOT NULL REFERENCES streets(id),
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        asked_at REAL NOT NULL,
        decision TEXT CHECK (decision IN ('confirmed', 'refused', 'replaced')),
        decided_by INTEGER,
        decided_at REAL
    );
    -- one waiting request per person
    CREATE UNIQUE INDEX team_requests_waiting ON team_requests(user_id) WHERE decision IS NULL;
    CREATE INDEX team_requests_user ON team_requests(user_id, asked_at);

    -- new shifts per person and hour ([access] max_checkins_per_hour), whatever the incident
    CREATE INDEX shifts_user_started ON shifts(user_id, started_at);
    """,
    7: """
    -- urgent work (a hospital's access road): listed first, escalated after half the wait
    ALTER TABLE tasks ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE task_proposals ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
    """,
    8: """
    -- places (issue 16): accepting a task takes places for the accepter's shift, up to its
    -- headcount, so a team of 20 can fill a task of 6 and send 14 elsewhere, and nobody is
    -- in two places. `placed` is what the shift holds on live tasks, next to its headcount
    -- so that the database itself refuses a shift placed beyond its people.
    ALTER TABLE shifts ADD COLUMN placed INTEGER NOT NULL DEFAULT 0
        CHECK (placed BETWEEN 0 AND headcount);
    -- the places a shift holds on a live task; gone when the task is done or cancelled or
    -- the shift ends (tasks.accepted keeps the count taken, for the record)
    CREATE TABLE places (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        shift_id INTEGER NOT NULL REFERENCES shifts(id),
        count INTEGER NOT NULL CHECK (count >= 1),
        taken_at REAL NOT NULL,
        PRIMARY KEY (task_id, shift_id)
    ) WITHOUT ROWID;
    CREATE INDEX places_shift ON places(shift_id);
    -- "/accept ID N" and "/release ID N" that moved places, by their update: delivered
    -- again after a crash (before it was marked seen), one moves nothing twice (kept two days)
    CREATE TABLE place_updates (
        update_id INTEGER PRIMARY KEY,
        at REAL NOT NULL
    );
    -- shifts holding places (closed shifts hold none): the tally's "assigned" reads only these
    CREATE INDEX shifts_placed ON shifts(incident_id, placed) WHERE placed > 0;

    -- each accept made before places existed becomes one place of the accepter's open shift
    -- in the task's incident, oldest first, as far as the shift has people for
    INSERT INTO places (task_id, shift_id, count, taken_at)
    SELECT task_id, shift_id, 1, accepted_at FROM (
        SELECT a.task_id, sh.id AS shift_id, a.accepted_at, sh.headcount,
               ROW_NUMBER() OVER (PARTITION BY sh.id ORDER BY a.accepted_at, a.task_id) AS nth
        FROM task_accepts a
        JOIN tasks t ON t.id = a.task_id AND t.status IN ('open', 'in_progress')
        JOIN shifts sh ON sh.user_id = a.user_id AND sh.incident_id = t.incident_id
            AND sh.ended_at IS NULL
    ) WHERE nth <= headcount;
    UPDATE shifts SET placed = (SELECT COUNT(*) FROM places p WHERE p.shift_id = shifts.id)
        WHERE id IN (SELECT shift_id FROM places);
    -- an accept nobody on duty can hold (the person went home, or was already in another
    -- place) is given back, as checking out does from now on: the task is live again
    UPDATE tasks SET
        accepted = (SELECT COUNT(*) FROM places p WHERE p.task_id = tasks.id),
        status = CASE WHEN EXISTS (SELECT 1 FROM places p WHERE p.task_id = tasks.id)
                 THEN 'in_progress' ELSE 'open' END
        WHERE status IN ('open', 'in_progress')
          AND accepted <> (SELECT COUNT(*) FROM places p WHERE p.task_id = tasks.id);
    """,
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
}

LATEST = max(MIGRATIONS)

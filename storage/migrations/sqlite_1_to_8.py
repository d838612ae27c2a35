"""SQLite's migrations 1 to 8, as released (never edited: see `storage.migrations`)."""

MIGRATIONS_1_TO_8: dict[int, str] = {
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
}

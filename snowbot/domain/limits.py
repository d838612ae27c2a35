"""Bounds on what users may type; anything outside gets a clear refusal."""

MAX_TEAM = 500  # headcount of one check-in (a team leader with their team)
MAX_NEEDED = 500  # people one task may ask for
MAX_NOTE = 500  # characters of a task or done note
MAX_INCIDENT_NAME = 100
MAX_PERSON_NAME = 200  # characters of a Telegram name kept (the rest is dropped, not refused)
NEARBY_TASKS = 5  # tasks offered with a check-in reply
MAX_SUGGESTIONS = 5
PENDING_CHECKIN_SECONDS = 3600  # how long "/checkin N" waits for the location
MAX_TITLE = 128  # characters of a group's title kept with its binding (Telegram's own limit)
MAX_MESSAGE = 4096  # characters Telegram takes in one message
RECENT_POSITION_SECONDS = 1800  # a position older than this says nothing about a /done
MAX_GEOCODE_QUERY = 200  # characters of a place name sent to the geocoder
# a /newtask for a street with a live task posted this recently asks before posting another
DUPLICATE_TASK_SECONDS = 15 * 60
PROPOSAL_SECONDS = 3600  # how long a geocoded /newtask waits for its confirmation
TASKS_LISTED = 10  # tasks shown by /tasks (the rest are counted)
SEEN_UPDATES_SECONDS = 2 * 86400  # Telegram keeps unconfirmed updates for 24 hours
MAX_INVITE_USES = 1000  # people one invitation link may enrol
MAX_INVITE_HOURS = 24 * 7  # how long an invitation link may stay open
INVITE_USES = 1  # /invite without a number: a link for one person,
INVITE_HOURS = 24  # open for a day
MAX_INVITE_CODE = 64  # Telegram's limit on a deep link's start parameter
# residents' reports (群众求助)
REPORT_JOIN_KM = 0.15  # a report this near a live one joins it …
REPORT_JOIN_SECONDS = 6 * 3600  # … if that one was made within these hours
MAX_REPORTS_PER_HOUR = 5  # reports made or joined by one person in an hour
REPORT_WAIT_SECONDS = 3600  # how long /report waits for the location
REPORT_DESCRIBE_SECONDS = 600  # a text or photo this soon after a report describes it
REPORTS_LISTED = 10  # reports shown by /reports (the rest are counted)
REOPEN_SECONDS = 3600.0  # /reopen: how long after a task was marked done (docs/commands.md
# "Everyone affected hears it")
# a flood's drops a minute apart or less are one flood, told once (a person is told again
# only after a minute without drops and once their backlog drained)
FLOOD_QUIET_SECONDS = 60

"""The Telegram adapter: parse an update, call one service, reply in the user's language."""

import os

# python-telegram-bot 22 deprecates whole seconds in favour of timedelta (RetryAfter.retry_after
# and other durations) and warns on every use until a program opts in; we take the future form
# now. An operator's own setting is respected: our code reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

"""Experiment settings (not used by default): Caseboard's settings with a persistent SQLite connection.

caseboard/settings.py forces CONN_MAX_AGE = 0 for SQLite, so every `database_sync_to_async`
call closes the connection; closing the last connection to a WAL database checkpoints it. This
module measures the alternative:

    .venv/bin/python -m bench.run --settings bench.whatif_sqlite_persistent --systems daphne,uvicorn ...
"""

from caseboard.settings import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = None  # noqa: F405 (one connection per DB thread, kept)

"""The tests run with the laptop's conveniences (a generated key, plain HTTP), never DEBUG."""

import os

os.environ.setdefault("CASEBOARD_LOCAL", "1")

from caseboard.settings import *  # noqa: E402,F403

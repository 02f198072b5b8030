"""Keep case text and participant input out of the logs.

Exception messages can quote what a phone sent (a ref in a constraint violation, text in a
decode error). Logged tracebacks keep their frames and the exception's type, never its message.
"""

from __future__ import annotations

import logging
import traceback


class RedactExceptionText(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            frames = "".join(traceback.format_tb(tb)) if tb else ""
            record.exc_text = f"Traceback (most recent call last):\n{frames}{kind.__name__}: (message withheld)"
            record.exc_info = None
        return True

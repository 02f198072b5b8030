"""Uploads stop being kept once they pass the image limit (issue 16: "a 50 MB image").

Django's own handlers keep an upload in memory up to 2.5 MB and on disk beyond, as far as it
goes: a 50 MB file would be written to a temporary file before any form could say no. This
handler runs first: it passes a file's bytes on to those handlers until the file passes
cases.images.MAX_UPLOAD_BYTES, drops the rest (nothing more is kept, in memory or on disk), and
hands the form an empty stand-in of the file's real size, so that the form refuses it with the
message it gives any file over the limit ("The image is larger than 10 MB."). The other fields of
the page still arrive, so the page is shown again with what was typed.

Every upload of the application is smaller than an image (a case file is at most 512 KB), so the
one limit serves them all; nginx refuses bodies much larger still (deploy/nginx.conf.template).
"""

from __future__ import annotations

import io

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from cases.images import MAX_UPLOAD_BYTES


class OversizedUpload(UploadedFile):
    """An upload past the limit: its name, type and real size, none of its bytes."""

    def __init__(self, name: str, size: int, content_type: str | None) -> None:
        super().__init__(io.BytesIO(), name=name, content_type=content_type, size=size)


class UploadLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: the bytes of a file past MAX_UPLOAD_BYTES go nowhere."""

    limit = MAX_UPLOAD_BYTES

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        # None: the handlers after this one (memory, temporary file) never see the chunk.
        return raw_data if self.received <= self.limit else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received > self.limit:
            # Returned first, this stands for the file: what the next handlers started (a
            # temporary file of at most the limit) is closed now, which removes it.
            for handler in self.request.upload_handlers if self.request is not None else ():
                started = getattr(handler, "file", None) if handler is not self else None
                if started is not None and hasattr(started, "close"):
                    started.close()
            return OversizedUpload(self.file_name, self.received, self.content_type)
        return None  # the next handlers make the file as usual

"""Uploaded documents: checked by their content, stored outside the web root.

The type is read from the bytes (puremagic), never from the name or the browser's claim, and
must be on the field's allow-list (PDF, JPEG, PNG). A file is stored under a random name, in a
folder only the portal reads, with the SHA-256 of its content; its original name is kept only
to be shown, cleaned of any path."""

import hashlib
import os
import secrets
import unicodedata
from pathlib import Path

import puremagic
from flask import current_app, request
from flask_babel import gettext as _

from portal.requests.models import Attachment

CHUNK = 64 * 1024
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


# Pages that take documents accept bigger bodies than the rest of the site.
UPLOAD_ENDPOINTS = frozenset({"forms.step", "requests.reply"})


def allow_uploads() -> None:
    """Before any other handler reads the body (the CSRF check does): raise the size limit
    on the pages that take documents."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = int(current_app.config["UPLOAD_MAX_MB"] * 1024 * 1024)


class UploadError(ValueError):
    """The file cannot be accepted; the message tells the person why, in their language."""


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def clean_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 120 characters."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = "".join(
        c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C"
    )
    name = name.strip().lstrip(".")
    return name[-120:] or "documento"


def detect_type(head: bytes) -> str | None:
    """The MIME type that the content shows, or None when it is unknown."""
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    return matches[0].mime_type if matches else None


def store(file_storage, *, allowed: dict[str, str], max_bytes: int, owner_id: int) -> Attachment:
    """Check and store an upload; return an Attachment (not yet added to the session)."""
    if file_storage is None or not file_storage.filename:
        raise UploadError(_("Choose a file to attach."))
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    target = folder / stored_name
    digest = hashlib.sha256()
    size = 0
    head = b""
    stream = file_storage.stream
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(
                        _(
                            "The file is too large: the limit is %(size)s MB.",
                            size=f"{max_bytes / 1024 / 1024:g}",
                        )
                    )
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError(_("The file is empty."))
        mime = detect_type(head)
        if mime not in allowed:
            names = ", ".join(TYPE_NAMES[m] for m in allowed)
            raise UploadError(
                _(
                    "This file is not a document of an accepted type (%(types)s), whatever its "
                    "name says. Save it as one of them and attach it again.",
                    types=names,
                )
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Attachment(
        public_id=secrets.token_hex(16),
        owner_id=owner_id,
        filename=clean_filename(file_storage.filename),
        stored_name=stored_name,
        mime_type=mime,
        size=size,
        sha256=digest.hexdigest(),
    )


def path_of(attachment: Attachment) -> Path:
    return upload_dir() / attachment.stored_name


def discard(attachment: Attachment) -> None:
    """Remove the stored file of an attachment that is being deleted or replaced."""
    path_of(attachment).unlink(missing_ok=True)

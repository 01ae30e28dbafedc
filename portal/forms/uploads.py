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
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, request
from flask_babel import gettext as _

from portal.config import ConfigError
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
    """Check an upload and store it encrypted; return an Attachment (not yet in the session).
    Nothing reaches the disk unless every check passed."""
    if file_storage is None or not file_storage.filename:
        raise UploadError(_("Choose a file to attach."))
    stream = file_storage.stream
    content = bytearray()
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        content += chunk
        if len(content) > max_bytes:
            raise UploadError(
                _(
                    "The file is too large: the limit is %(size)s MB.",
                    size=f"{max_bytes / 1024 / 1024:g}",
                )
            )
    if not content:
        raise UploadError(_("The file is empty."))
    mime = detect_type(bytes(content[:8192]))
    if mime not in allowed:
        names = ", ".join(TYPE_NAMES[m] for m in allowed)
        raise UploadError(
            _(
                "This file is not a document of an accepted type (%(types)s), whatever its "
                "name says. Save it as one of them and attach it again.",
                types=names,
            )
        )
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    write_private(folder / stored_name, cipher().encrypt(bytes(content)))
    return Attachment(
        public_id=secrets.token_hex(16),
        owner_id=owner_id,
        filename=clean_filename(file_storage.filename),
        stored_name=stored_name,
        mime_type=mime,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, atomically (no half-written file is ever seen)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- encryption at rest --------------------------------------------------------------------


def cipher() -> MultiFernet:
    return current_app.extensions["attachment_cipher"]


def load_keys(app) -> MultiFernet:
    """The attachment keys: ATTACHMENT_KEYS (comma-separated Fernet keys, the first encrypts,
    all decrypt). Development creates a key file in the instance folder; production refuses
    to start without the variable."""
    raw = app.config.get("ATTACHMENT_KEYS") or ""
    if not raw:
        if app.config["ENV_NAME"] == "production":
            raise ConfigError("Production needs ATTACHMENT_KEYS: see the README, key rotation")
        key_file = Path(app.instance_path) / "keys" / "attachments.keys"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            write_private(key_file, Fernet.generate_key() + b"\n")
        raw = ",".join(key_file.read_text().split())
    keys = [Fernet(key.strip().encode()) for key in raw.split(",") if key.strip()]
    return MultiFernet(keys)


def init_app(app) -> None:
    app.extensions["attachment_cipher"] = load_keys(app)


def read(attachment: Attachment) -> bytes:
    """The decrypted content, checked against the hash taken at upload."""
    data = cipher().decrypt(path_of(attachment).read_bytes())
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise InvalidToken("content does not match its hash")
    return data


def rotate_all(attachments) -> int:
    """Re-encrypt every stored file with the first key; return how many were rewritten."""
    count = 0
    for attachment in attachments:
        path = path_of(attachment)
        if path.exists():
            write_private(path, cipher().rotate(path.read_bytes()))
            count += 1
    return count


def path_of(attachment: Attachment) -> Path:
    return upload_dir() / attachment.stored_name


def discard(attachment: Attachment) -> None:
    """Remove the stored file of an attachment that is being deleted or replaced."""
    path_of(attachment).unlink(missing_ok=True)

"""Helpers for the operations tests: a request with everything a person can leave behind."""

import hashlib
import os
import secrets
from pathlib import Path

from portal.extensions import db
from portal.requests.models import Attachment, InternalNote, Message, RequestEvent
from tests.backoffice.factory import make_request

PDF = b"%PDF-1.4\n% certificato medico di prova\n%%EOF\n"


def store_file(app, content: bytes = PDF) -> str:
    """Write an upload the way the portal stores it; return its stored name."""
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    return name


def filed_request(app, **fields):
    """A request with answers, a message from the citizen with a document, and a staff note."""
    request = make_request(
        contact_phone="+39 333 1234567",
        relationship_to_applicant=None,
        outcome=fields.pop("outcome", None),
        **fields,
    )
    request.answers = {"residence_comune": "viadana", "needs": "Assistenza per l'igiene"}
    message = Message(
        request_id=request.id,
        author_id=request.applicant_id,
        from_staff=False,
        body="Allego il certificato del medico.",
    )
    db.session.add(message)
    db.session.flush()
    stored_name = store_file(app)
    db.session.add_all(
        [
            Attachment(
                public_id=secrets.token_hex(16),
                owner_id=request.applicant_id,
                request_id=request.id,
                message_id=message.id,
                filename="certificato-medico.pdf",
                stored_name=stored_name,
                mime_type="application/pdf",
                size=len(PDF),
                sha256=hashlib.sha256(PDF).hexdigest(),
            ),
            RequestEvent(
                request_id=request.id,
                actor_id=request.applicant_id,
                kind="citizen_message",
                note="Risposta del cittadino",
                detail={"message": message.id},
            ),
            InternalNote(
                request_id=request.id,
                author_id=request.applicant_id,
                body="Situazione familiare delicata.",
            ),
        ]
    )
    db.session.commit()
    return request

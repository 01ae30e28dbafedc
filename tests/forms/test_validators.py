"""Answers checked on the server, with messages a person understands."""

import io

import pytest
from flask import g
from werkzeug.datastructures import FileStorage, MultiDict

from portal.forms import builder, uploads
from portal.forms.reading import parse

SCHEMA = parse(
    {
        "service": "x",
        "version": 1,
        "steps": [
            {
                "id": "all",
                "title": {"it": "Tutto", "en": "All"},
                "fields": [
                    {"id": "code", "type": "fiscal_code", "label": {"it": "CF", "en": "FC"}},
                    {"id": "account", "type": "iban", "label": {"it": "IBAN", "en": "IBAN"}},
                    {"id": "phone", "type": "phone", "label": {"it": "Tel", "en": "Phone"}},
                    {
                        "id": "when",
                        "type": "date",
                        "label": {"it": "Quando", "en": "When"},
                        "min": "today",
                        "max": "+60d",
                    },
                    {
                        "id": "isee",
                        "type": "number",
                        "decimals": 2,
                        "min": 0,
                        "max": 30000,
                        "label": {"it": "ISEE", "en": "ISEE"},
                    },
                    {
                        "id": "alone",
                        "type": "yesno",
                        "required": True,
                        "label": {"it": "Solo?", "en": "Alone?"},
                    },
                ],
            }
        ],
    }
)
STEP = SCHEMA.steps[0]


def submit(app, **values):
    with app.test_request_context("/en/", method="POST"):
        g.lang = "en"
        form = builder.build_form(STEP, "en", {}, formdata=MultiDict(values), meta={"csrf": False})
        valid = form.validate()
        answers = builder.answers_from(STEP, form, {})
        valid = builder.check_required(STEP, form, answers, {}) and valid
        return (
            valid,
            {name: field.errors for name, field in form._fields.items() if field.errors},
            answers,
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "RSSMRA85T10A562T", "fiscal code is not valid"),
        ("account", "IT60X0542811101000000123457", "IBAN is not valid"),
        ("phone", "12", "phone number"),
        ("when", "2000-01-01", "cannot be before"),
        ("when", "2099-01-01", "cannot be after"),
        ("isee", "-5", "between 0 and 30000"),
        ("isee", "twelve", "Write a number, with digits only."),
    ],
)
def test_wrong_answers_are_refused_with_a_clear_message(app, field, value, message):
    valid, errors, _ = submit(app, alone="yes", **{field: value})
    assert not valid
    assert message in " ".join(map(str, errors[field]))


def test_good_answers_are_normalised(app):
    valid, errors, answers = submit(
        app,
        code="rssmra85t10a562s",
        account="IT60 X054 2811 1010 0000 0123 456",
        phone="0376 123456",
        isee="12345.6",
        alone="no",
    )
    assert valid, errors
    assert answers["code"] == "RSSMRA85T10A562S"
    assert answers["account"] == "IT60X0542811101000000123456"
    assert answers["phone"] == "+390376123456"
    assert answers["isee"] == "12345.60"
    assert answers["alone"] is False


def test_a_required_question_left_empty_is_named(app):
    valid, errors, _ = submit(app)
    assert not valid and errors["alone"] == ["Choose an answer."]


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
MZ = b"MZ\x90\x00" + b"\x00" * 200
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
ZIP = b"PK\x03\x04" + b"\x00" * 200
ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpeg", "image/png": "png"}


def upload(app, content, name="documento.pdf", limit=1024 * 1024):
    with app.test_request_context("/en/"):
        g.lang = "en"
        return uploads.store(
            FileStorage(io.BytesIO(content), filename=name),
            allowed=ALLOWED,
            max_bytes=limit,
            owner_id=1,
        )


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (ELF, "certificato.pdf"),
        (MZ, "verbale.pdf"),
        (SVG, "foto.png"),
        (ZIP, "documenti.pdf"),
        (b"just some text", "nota.pdf"),
    ],
)
def test_a_disguised_file_is_refused_and_nothing_is_kept(app, content, name):
    before = set(uploads_dir(app).iterdir()) if uploads_dir(app).exists() else set()
    with pytest.raises(uploads.UploadError, match="not a document of an accepted type"):
        upload(app, content, name)
    assert set(uploads_dir(app).iterdir()) == before


def test_an_oversized_file_is_refused_and_nothing_is_kept(app):
    before = set(uploads_dir(app).iterdir()) if uploads_dir(app).exists() else set()
    with pytest.raises(uploads.UploadError, match="too large"):
        upload(app, PDF + b"0" * 2048, limit=1024)
    assert set(uploads_dir(app).iterdir()) == before


def test_a_real_pdf_is_stored_under_a_random_name_with_its_hash(app):
    import hashlib

    attachment = upload(app, PDF, name="../../etc/passwd/..\\verbale invalidità.pdf")
    assert attachment.filename == "verbale invalidità.pdf"
    assert attachment.mime_type == "application/pdf"
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = uploads_dir(app) / attachment.stored_name
    assert attachment.stored_name not in attachment.filename
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    # Encrypted at rest: the bytes on disk are not the document, reading decrypts them.
    assert PDF not in stored.read_bytes()
    with app.app_context():
        assert uploads.read(attachment) == PDF
    stored.unlink()


def test_a_key_rotation_keeps_every_document_readable(app):
    from cryptography.fernet import Fernet, MultiFernet

    attachment = upload(app, PDF)
    old = app.extensions["attachment_cipher"]
    rotated = MultiFernet([Fernet(Fernet.generate_key()), *old._fernets])
    app.extensions["attachment_cipher"] = rotated
    try:
        with app.app_context():
            before = (uploads_dir(app) / attachment.stored_name).read_bytes()
            assert uploads.rotate_all([attachment]) == 1
            after = (uploads_dir(app) / attachment.stored_name).read_bytes()
            assert after != before and uploads.read(attachment) == PDF
            app.extensions["attachment_cipher"] = MultiFernet(rotated._fernets[:1])
            assert uploads.read(attachment) == PDF  # the old key is no longer needed
    finally:
        app.extensions["attachment_cipher"] = old
        (uploads_dir(app) / attachment.stored_name).unlink()


def uploads_dir(app):
    from pathlib import Path

    return Path(app.config["UPLOAD_DIR"])

"""The PDF receipt: a real PDF, readable text, several pages when needed, never a crash."""

import datetime as dt
import io
from dataclasses import replace

import flask_babel
import pypdf
import pytest

from portal import create_app
from portal.requests.receipt import ReceiptData, render_receipt

DATA = ReceiptData(
    reference="PUA-VIA-2026-000123",
    service_title="Assistenza domiciliare (SAD)",
    submitted_at=dt.datetime(2026, 11, 26, 9, 42, tzinfo=dt.UTC),
    applicant_name="Niccolò Rossi",
    applicant_fiscal_code="RSSNCC80A01L833X",
    beneficiary_name="Lucía Bianchi",
    beneficiary_fiscal_code="BNCLCU40A41L833Y",
    comune="Viareggio",
    desk_name="PUA Versilia",
    desk_contacts="Via Regia 1, Viareggio · pua@example.invalid · 0584 000000",
    deadline=dt.date(2027, 1, 10),
    answers=[
        ("Who needs help", [("Name", "Lucía"), ("Lives alone", "Sì")]),
        ("Needs", [("Describe the situation", "Ha bisogno di aiuto, costo stimato 120 €.")]),
    ],
    attachments=[("certificato-medico.pdf", "ab" * 32)],
    portal_name="Portale PUA",
    request_url="https://pua.example.invalid/it/area/richieste/PUA-VIA-2026-000123",
)


@pytest.fixture(scope="module")
def receipt_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("receipt")
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SEARCH_INDEX_DIR": str(tmp),
            "AUTH_KEYS_FILE": str(tmp / "k.json"),
        }
    )


def _render(app, data, locale="en"):
    with app.test_request_context(f"/{locale}/"), flask_babel.force_locale(locale):
        return render_receipt(data)


def _reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in _reader(pdf).pages)


def test_receipt_is_a_pdf_with_the_reference_and_the_details(receipt_app):
    pdf = _render(receipt_app, DATA)

    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    for expected in (
        "Receipt of your request",
        "Reference number",
        "PUA-VIA-2026-000123",
        "Sent on",
        "Niccolò Rossi (RSSNCC80A01L833X)",
        "Lucía Bianchi",
        "Assistenza domiciliare (SAD)",
        "Viareggio",
        "PUA Versilia",
        "January 10, 2027",
        "What happens next",
        "Who needs help",
        "120 €",
        "certificato-medico.pdf",
        "ab" * 32,
        "This receipt was produced automatically; keep it.",
        f"Page 1 of {len(_reader(pdf).pages)}",
    ):
        assert expected in text
    # Sent at 09:42 UTC is 10:42 in Rome (winter time).
    assert "10:42" in text


def test_metadata_has_title_and_creation_date(receipt_app):
    metadata = _reader(_render(receipt_app, DATA)).metadata

    assert "PUA-VIA-2026-000123" in metadata.title
    assert metadata.creation_date is not None


def test_no_beneficiary_line_when_the_request_is_for_the_applicant(receipt_app):
    data = replace(DATA, beneficiary_name=None, beneficiary_fiscal_code=None)

    text = _text(_render(receipt_app, data))

    assert "Beneficiary" not in text
    assert "Lucía Bianchi" not in text


def test_long_answers_continue_on_more_pages(receipt_app):
    long_answer = "Una risposta molto lunga, con accenti e più parole. " * 600
    data = replace(DATA, answers=[("Needs", [("Describe the situation", long_answer)])])

    pdf = _render(receipt_app, data)

    pages = _reader(pdf).pages
    assert len(pages) > 1
    assert f"Page 1 of {len(pages)}" in pages[0].extract_text()
    # Every page says whose receipt it is.
    assert all("PUA-VIA-2026-000123" in page.extract_text() for page in pages)


def test_empty_unusual_and_non_latin_answers_do_not_break_the_receipt(receipt_app):
    answers = [
        (
            "مرحبا",
            [
                ("Empty", ""),
                ("Arabic", "أحتاج إلى مساعدة في المنزل"),
                ("Chinese", "我需要帮助"),
                ("Hindi", "मुझे मदद चाहिए"),
                ("Controls", "a\x00b\x1b\tc\r\nd\u200b"),
                ("One long word", "x" * 5000),
            ],
        ),
        ("", []),
    ]
    data = replace(DATA, answers=answers, attachments=[], desk_contacts="")

    pdf = _render(receipt_app, data)

    text = _text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert "Not answered" in text
    assert "No attachments." in text


def test_italian_locale_keeps_the_data_and_formats_dates_in_italian(receipt_app):
    text = _text(_render(receipt_app, DATA, locale="it"))

    assert "PUA-VIA-2026-000123" in text
    assert "Niccolò Rossi" in text
    assert "10 gennaio 2027" in text
    assert "January" not in text


def test_missing_fonts_are_reported_clearly(receipt_app, tmp_path, monkeypatch):
    monkeypatch.setitem(receipt_app.config, "PDF_FONT_DIR", str(tmp_path))

    with pytest.raises(FileNotFoundError, match="fonts-dejavu-core"):
        _render(receipt_app, DATA)


def _fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in _reader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.mark.parametrize(
    ("locale", "font", "label"),
    [
        ("ar", "DejaVuSans", "إيصال"),  # DejaVu has Arabic; HarfBuzz joins it
        ("ur", "DejaVuSans", "رسید"),
        ("pa", "NotoSansGurmukhi", "ਰਸੀਦ"),
        ("hi", "NotoSansDevanagari", "रसीद"),
        ("bn", "NotoSansBengali", "রসিদ"),
        ("zh", "DroidSansFallback", "回执"),
    ],
)
def test_a_receipt_in_another_script_embeds_a_font_that_draws_its_labels(
    receipt_app, locale, font, label
):
    title = _render(receipt_app, DATA, locale=locale)
    with receipt_app.test_request_context(f"/{locale}/"), flask_babel.force_locale(locale):
        heading = flask_babel.gettext("Receipt of your request")
    assert heading != "Receipt of your request"  # the catalog speaks the language
    assert any(font in name for name in _fonts(title)), _fonts(title)
    assert _reader(title).metadata.title.startswith(heading)
    assert label in heading

"""The PDF receipt a person gets when they send a request: what they sent, when, to whom, and
what happens next. It is their proof of submission, so it must render whatever they typed."""

import datetime as dt
import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import format_date, get_locale, get_translations, gettext
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
# Scripts DejaVu lacks are looked up in these fonts, installed by setup.sh: Noto (Arabic, Urdu,
# Indic scripts...; Debian's fonts-noto-core) and Droid Sans Fallback (Chinese;
# fonts-droid-fallback).
FALLBACK_FONTS = (
    (Path("/usr/share/fonts/truetype/noto"), "Noto*-Regular.ttf"),
    (Path("/usr/share/fonts/truetype/droid"), "DroidSansFallback*.ttf"),
)
ROME = ZoneInfo("Europe/Rome")
FONT = "dejavu"
GREY = (90, 90, 90)
BOX = (235, 240, 247)
_NEXT = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


@dataclass(frozen=True)
class ReceiptData:
    reference: str  # e.g. "PUA-VIA-2026-000123"
    service_title: str
    submitted_at: dt.datetime  # timezone-aware; printed in Europe/Rome
    applicant_name: str
    applicant_fiscal_code: str
    beneficiary_name: str | None  # None when the request is for the applicant
    beneficiary_fiscal_code: str | None
    comune: str  # beneficiary's comune of residence
    desk_name: str  # the PUA desk that handles it
    desk_contacts: str  # address / email / phone as one line, may be ""
    deadline: dt.date  # answer due by
    answers: list[tuple[str, list[tuple[str, str]]]]  # (step title, [(question, answer)])
    attachments: list[tuple[str, str]]  # (file name, sha256 hex)
    portal_name: str
    request_url: str  # where to follow the request online


class _ReceiptPDF(FPDF):
    """Header and footer on every page, so a loose page still says whose receipt it is."""

    def __init__(self, data: ReceiptData, clean):
        super().__init__(format="A4")
        self.data = data
        self.clean = clean
        self.set_auto_page_break(auto=True, margin=22)
        self.set_margins(18, 18, 18)

    def header(self):
        self.set_font(FONT, "", 9)
        self.set_text_color(*GREY)
        self.cell(0, 5, self.clean(self.data.portal_name), new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 5, self.clean(self.data.reference), align="R")
        self.ln(6)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)
        self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-16)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 4, gettext("This receipt was produced automatically; keep it."))
        self.set_x(self.l_margin)
        pages = gettext("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 4, pages, align="R")


def render_receipt(data: ReceiptData) -> bytes:
    """The receipt as an A4 PDF in the current locale."""
    font_dir = Path(current_app.config.get("PDF_FONT_DIR", DEFAULT_FONT_DIR))
    regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise FileNotFoundError(
            f"DejaVu Sans not found in {font_dir} (Debian package fonts-dejavu-core; "
            "scripts/setup.sh installs it, PDF_FONT_DIR points elsewhere)"
        )
    labels = _ui_characters(str(get_locale() or "it"))
    fallbacks = _fallback_fonts(_missing_chars(_all_text(data) + labels, regular))
    clean = _cleaner(regular, fallbacks)

    pdf = _ReceiptPDF(data, clean)
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    for number, path in enumerate(fallbacks):
        pdf.add_font(f"fallback{number}", "", str(path))
    if fallbacks:
        pdf.set_fallback_fonts(
            [f"fallback{number}" for number in range(len(fallbacks))], exact_match=False
        )
    # HarfBuzz (uharfbuzz) joins Arabic letters right to left and shapes the Indic scripts.
    pdf.set_text_shaping(True)
    title = gettext("Receipt of your request")
    pdf.set_title(clean(f"{title} {data.reference}"))
    pdf.set_subject(clean(data.service_title))
    pdf.set_author(clean(data.portal_name))
    pdf.set_creator(clean(data.portal_name))
    pdf.set_lang(str(get_locale() or "it"))
    pdf.set_creation_date(dt.datetime.now(dt.UTC))
    pdf.add_page()

    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    _summary_box(pdf, data, clean)
    _details(pdf, data, clean)
    _section(pdf, gettext("What happens next"))
    _paragraph(
        pdf,
        gettext(
            "The PUA desk reviews your request and may contact you or ask you for documents. "
            "While it waits for your answer, the time limit stops and starts again when you "
            "reply. You can follow your request online at %(url)s",
            url=clean(data.request_url),
        ),
    )
    _answers(pdf, data, clean)
    _attachments(pdf, data, clean)
    return bytes(pdf.output())


def _summary_box(pdf: FPDF, data: ReceiptData, clean) -> None:
    sent_on = format_datetime(
        data.submitted_at.astimezone(ROME), "long", tzinfo=ROME, locale=get_locale()
    )
    pdf.set_fill_color(*BOX)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 6, gettext("Reference number"), fill=True, padding=(3, 4, 0, 4), **_NEXT)
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, clean(data.reference), fill=True, padding=(0, 4, 1, 4), **_NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 6, gettext("Sent on"), fill=True, padding=(0, 4, 0, 4), **_NEXT)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, sent_on, fill=True, padding=(0, 4, 3, 4), **_NEXT)
    pdf.ln(4)


def _details(pdf: FPDF, data: ReceiptData, clean) -> None:
    _field(
        pdf, gettext("Applicant"), clean(_person(data.applicant_name, data.applicant_fiscal_code))
    )
    if data.beneficiary_name:
        beneficiary = _person(data.beneficiary_name, data.beneficiary_fiscal_code)
        _field(pdf, gettext("Beneficiary"), clean(beneficiary))
    _field(pdf, gettext("Service"), clean(data.service_title))
    _field(pdf, gettext("Comune of residence"), clean(data.comune))
    desk = data.desk_name + (f"\n{data.desk_contacts}" if data.desk_contacts else "")
    _field(pdf, gettext("PUA desk"), clean(desk))
    _field(pdf, gettext("Answer due by"), format_date(data.deadline, "long"))


def _answers(pdf: FPDF, data: ReceiptData, clean) -> None:
    _section(pdf, gettext("Your answers"))
    for step_title, pairs in data.answers:
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, 7, clean(step_title), **_NEXT)
        pdf.ln(1)
        for question, answer in pairs:
            _field(pdf, clean(question), clean(answer) or gettext("Not answered"))
        pdf.ln(2)


def _attachments(pdf: FPDF, data: ReceiptData, clean) -> None:
    _section(pdf, gettext("Attachments"))
    if not data.attachments:
        _paragraph(pdf, gettext("No attachments."))
        return
    # The fingerprint lets the person prove later which exact file they sent.
    _paragraph(pdf, gettext("Each file is identified by its SHA-256 fingerprint."))
    for name, sha256 in data.attachments:
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, 5, clean(name), **_NEXT)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 4, f"SHA-256 {clean(sha256)}", **_NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1.5)


def _section(pdf: FPDF, title: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 8, title, **_NEXT)
    pdf.ln(1)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5, text, align="L", **_NEXT)
    pdf.ln(1)


def _field(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font(FONT, "B", 9)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 5, label, **_NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(0, 6, value, align="L", **_NEXT)
    pdf.ln(1.5)


def _person(name: str, fiscal_code: str | None) -> str:
    return f"{name} ({fiscal_code})" if fiscal_code else name


def _all_text(data: ReceiptData) -> str:
    parts = [data.portal_name, data.reference, data.service_title, data.applicant_name]
    parts += [data.beneficiary_name or "", data.comune, data.desk_name, data.desk_contacts]
    for step_title, pairs in data.answers:
        parts.append(step_title)
        parts += [text for pair in pairs for text in pair]
    parts += [name for name, _ in data.attachments]
    return "".join(parts)


@functools.cache
def _ui_characters(locale: str) -> str:
    """Every character of the locale's UI catalog, once: the receipt's labels come from it."""
    catalog = getattr(get_translations(), "_catalog", {})
    return "".join(sorted(set("".join(str(text) for text in catalog.values()))))


def _missing_chars(text: str, regular: Path) -> set[int]:
    covered = _coverage(str(regular))
    return {ord(char) for char in text if ord(char) not in covered and char.isprintable()}


def _script_fonts(missing: set[int]) -> list[Path]:
    """The fonts named after the scripts of the missing characters ("DEVANAGARI LETTER KA" ->
    NotoSansDevanagari, CJK ideographs -> Droid Sans Fallback): tried first, so that a receipt
    does not read the character maps of hundreds of fonts to find them."""
    scripts = {unicodedata.name(chr(code), "").split(" ")[0] for code in missing}
    wanted = {
        "DroidSansFallbackFull.ttf" if script == "CJK" else f"NotoSans{script.title()}-Regular.ttf"
        for script in scripts
        if script
    }
    return [path for path in _noto_fonts() if path.name in wanted]


def _fallback_fonts(missing: set[int]) -> list[Path]:
    """The fewest installed Noto fonts that draw the characters DejaVu lacks."""
    chosen = []
    for path in [*_script_fonts(missing), *_noto_fonts()]:
        if path in chosen:
            continue
        if not missing:
            break
        found = missing & _coverage(str(path))
        if found:
            chosen.append(path)
            missing -= found
    return chosen


def _cleaner(regular: Path, fallbacks: list[Path]):
    """Text safe to draw: controls dropped, characters no font has shown as a replacement mark,
    so an unusual character typed by the person can never stop the receipt."""
    covered = set(_coverage(str(regular)))
    for path in fallbacks:
        covered |= _coverage(str(path))
    placeholder = "\ufffd" if 0xFFFD in covered else "?"

    def clean(text: str | None) -> str:
        text = unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n"))
        out = []
        for char in text:
            if char == "\n":
                out.append(char)
            elif char in "\t\r":
                out.append(" ")
            elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
                continue
            else:
                out.append(char if ord(char) in covered else placeholder)
        return "".join(out).strip()

    return clean


@functools.cache
def _coverage(path: str) -> frozenset[int]:
    font = TTFont(path, lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


@functools.cache
def _noto_fonts() -> tuple[Path, ...]:
    # Sans before serif, the general Noto Sans first: it matches DejaVu's look best.
    found = [path for folder, pattern in FALLBACK_FONTS for path in folder.glob(pattern)]
    found.sort(
        key=lambda p: (
            p.name != "NotoSans-Regular.ttf",
            "Serif" in p.name,
            not p.name.startswith("NotoSans"),
            p.name,
        )
    )
    return tuple(found)

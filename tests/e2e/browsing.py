"""What the browser tests do on a page: check it with axe-core, photograph it, fill a request
step the way a person would (a valid answer to every question it shows)."""

import datetime as dt
import re

from axe_playwright_python.sync_playwright import Axe

# WCAG 2.0 and 2.1, levels A and AA.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

_axe = Axe()

SERVICE = "assistenza-domiciliare-sad"

PUBLIC_PAGES = {
    "home": "/{lang}/",
    "services": "/{lang}/servizi/",
    "service": f"/{{lang}}/servizi/{SERVICE}?comune=viadana",
    "topics": "/{lang}/categorie/",
    "topic": "/{lang}/categorie/anziani",
    "life-events": "/{lang}/eventi-della-vita/",
    "life-event": "/{lang}/eventi-della-vita/invecchiare-a-casa",
    "comuni": "/{lang}/comuni/",
    "comune": "/{lang}/comuni/viadana",
    "desk": "/{lang}/pua/viadana",
    "search": "/{lang}/cerca?q=assistenza+domiciliare+anziani",
    "search-nothing": "/{lang}/cerca?q=zqxwvy&comune=viadana",
    "login": "/{lang}/accedi",
    "accessibility": "/{lang}/accessibilita",
    "privacy": "/{lang}/privacy",
    "not-found": "/{lang}/servizi/servizio-che-non-esiste",
}


def staff_pages(lang: str, reference: str) -> dict[str, str]:
    """The back office and editorial pages, with ``reference`` as the request shown."""
    return {
        "backoffice-inbox": "/backoffice/",
        "backoffice-request": f"/backoffice/richieste/{reference}",
        "backoffice-dashboard": "/backoffice/cruscotto",
        "backoffice-routing": "/backoffice/instradamento",
        "translation-status": f"/{lang}/redazione/traduzioni",
    }


def check_page(page, artifacts, name: str) -> None:
    """Zero axe violations; one h1; nothing wider than the window (WCAG 1.4.10: no sideways
    scrolling on a phone); a screenshot of the whole page kept as an artifact."""
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    results = _axe.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name}: {page.url}\n{results.generate_report()}"
    assert page.locator("h1").count() == 1, f"{name}: {page.locator('h1').count()} h1"
    wide, window = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert wide <= window, f"{name}: the page is {wide} px wide in a {window} px window"


def text_value(name: str, kind: str) -> str:
    lowered = name.lower()
    if "fiscal" in lowered:
        return "VRDGPP40H10I225K"
    if "iban" in lowered:
        return "IT60X0542811101000000123456"
    if lowered.endswith("-postcode"):
        return "46019"
    if lowered.endswith("-street"):
        return "Via Roma 1"
    if lowered.endswith("-municipality"):
        return "Viadana"
    if kind == "email" or "email" in lowered:
        return "prova@esempio.it"
    if kind == "tel" or "phone" in lowered:
        return "0375 123456"
    return "Testo di prova"


def _date_value(low: str | None, high: str | None) -> str:
    if low:
        return low
    if high:
        return (dt.date.fromisoformat(high) - dt.timedelta(days=365 * 30)).isoformat()
    return "1950-03-15"


def choose(page, option) -> None:
    """Tick a radio button or checkbox by its label, as a person does (Bootstrap Italia draws
    the box on the label)."""
    page.locator(f"label[for='{option.get_attribute('id')}']").click()
    assert option.is_checked()


def follow(page, control) -> None:
    """Click a link or a form's button and wait until the page it leads to has loaded.

    Playwright's click returns once the next page starts to arrive; reading the page then can
    see the old one, or half of the new one."""
    with page.expect_navigation():
        control.click()


def fill_step(page) -> None:
    """Answer every question of the request step on screen, then save it."""
    form = page.locator("main form[enctype='multipart/form-data']")
    names = form.locator("input[type=radio]").evaluate_all(
        "els => [...new Set(els.map(e => e.name))]"
    )
    for name in names:
        group = form.locator(f"input[type=radio][name='{name}']")
        if group.locator(":scope:checked").count():
            continue
        preferred = [
            form.locator(f"input[type=radio][name='{name}'][value='{v}']") for v in ("self", "no")
        ]
        choose(page, next((p for p in preferred if p.count()), group.first))
    boxes = form.locator("input[type=checkbox]").evaluate_all(
        "els => [...new Set(els.map(e => e.name))]"
    )
    for name in boxes:
        group = form.locator(f"input[type=checkbox][name='{name}']")
        if not group.locator(":scope:checked").count():
            choose(page, group.first)
    for field in form.locator("input[type=text], input[type=email], input[type=tel]").all():
        if not field.input_value():
            field.fill(text_value(field.get_attribute("name"), field.get_attribute("type")))
    for field in form.locator("input[type=number]").all():
        if not field.input_value():
            field.fill(field.get_attribute("min") or "1")
    for field in form.locator("input[type=date]").all():
        if not field.input_value():
            field.fill(_date_value(field.get_attribute("min"), field.get_attribute("max")))
    for field in form.locator("textarea").all():
        if not field.input_value():
            field.fill("Una risposta scritta per la prova.")
    for field in form.locator("select").all():
        values = field.locator("option").evaluate_all("os => os.map(o => o.value)")
        if not field.input_value():
            field.select_option("viadana" if "viadana" in values else next(v for v in values if v))
    for field in form.locator("input[type=file]").all():
        field.set_input_files(
            {"name": "documento.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
    follow(page, form.locator("button[type=submit]"))
    errors = page.locator("#error-summary")
    assert not errors.count(), errors.inner_text()


def file_request(page, base: str, service: str, lang: str = "it") -> str:
    """File a request for ``service`` as the logged-in citizen, every step answered; return
    its reference."""
    page.goto(f"{base}/{lang}/servizi/{service}/richiesta")
    follow(page, page.locator("main form button[type=submit]"))
    while not page.url.endswith("/riepilogo"):
        fill_step(page)
    choose(page, page.locator("input[name=consent]"))
    follow(page, page.locator("main form button[type=submit]").last)
    found = re.search(r"/richieste/([^/]+)/inviata$", page.url)
    assert found, page.url
    return found.group(1)

"""A request filed with the keyboard alone, every focused control visibly marked; and a request
whose language is changed half-way, keeping every answer."""

import re

from tests.e2e.browsing import choose, fill_step, follow, text_value
from tests.e2e.conftest import CITIZEN, log_in

ACTIVE = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {
    tag: e.tagName.toLowerCase(), type: (e.type || '').toLowerCase(), name: e.name || '',
    value: e.value || '', checked: !!e.checked, text: (e.innerText || '').trim(),
    inForm: !!e.closest('main form'), href: e.getAttribute('href') || '',
    focusMark: style.outlineStyle !== 'none' || style.boxShadow !== 'none',
    // A date input's focus is on its day/month/year segment, which the browser highlights.
    nativeFocus: e.type === 'date' && !e.matches(':focus'),
    group: e.name
      ? [...document.querySelectorAll(`[name="${e.name}"]`)].some(o => o.checked) : false,
  };
}"""


def tab(page, times=1):
    for _ in range(times):
        page.keyboard.press("Tab")
    return page.evaluate(ACTIVE)


def enter(page) -> None:
    """Press Enter on a link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def tab_until(page, wanted, limit=250):
    for _ in range(limit):
        active = tab(page)
        if wanted(active):
            return active
    raise AssertionError("the keyboard never reached it")


def keyboard_step(page) -> None:
    """Answer a step with Tab, Space, arrows and typing; save it with Enter."""
    page.locator("h1").focus()
    answered = set()
    for _ in range(250):
        active = tab(page)
        if not active["inForm"]:
            continue
        assert active["focusMark"] or active["nativeFocus"], f"no visible focus on {active}"
        kind, name = active["type"], active["name"]
        if active["tag"] == "button" and kind == "submit":
            enter(page)
            assert not page.locator("#error-summary").count(), page.locator(
                "#error-summary"
            ).inner_text()
            return
        if name in answered or name == "csrf_token":
            continue
        if kind == "radio":
            page.keyboard.press("Space")
            answered.add(name)
        elif kind == "checkbox":
            if not active["group"]:
                page.keyboard.press("Space")
            answered.add(name)
        elif active["tag"] == "select":
            page.keyboard.type("Viadana")
            answered.add(name)
        elif kind == "date":
            if not active["value"]:
                page.keyboard.type("15031950")  # day, month, year: the segments of it-IT
            answered.add(name)
        elif active["tag"] == "textarea" or kind in ("text", "email", "tel", "number"):
            if not active["value"]:
                page.keyboard.type("1" if kind == "number" else text_value(name, kind))
            answered.add(name)
    raise AssertionError("the step's submit button was never reached")


def test_a_request_filed_with_the_keyboard_alone(browser, live_portal, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    page = context.new_page()
    page.bring_to_front()  # focus styles apply to the window that has the system focus
    log_in(page, live_portal, CITIZEN)
    page.goto(f"{live_portal}/it/servizi/corsi-italiano-l2")
    # From the top of the card: the skip link first, then on to the online request.
    first = tab(page)
    assert first["href"] == "#main-content" and first["focusMark"]
    tab_until(page, lambda a: a["tag"] == "a" and "/richiesta" in a["href"])
    enter(page)
    tab_until(page, lambda a: a["inForm"] and a["type"] == "submit")
    enter(page)
    for _ in range(10):
        if page.url.endswith("/riepilogo"):
            break
        keyboard_step(page)
    assert page.url.endswith("/riepilogo")
    tab_until(page, lambda a: a["name"] == "consent")
    page.keyboard.press("Space")
    tab_until(page, lambda a: a["inForm"] and a["type"] == "submit" and a["focusMark"])
    enter(page)
    assert re.search(r"/richieste/[^/]+/inviata$", page.url), page.url
    page.screenshot(path=str(artifacts / "it-desktop-keyboard-receipt.png"), full_page=True)
    context.close()


def test_changing_language_half_way_keeps_the_answers(browser, live_portal):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="it-IT")
    page = context.new_page()
    log_in(page, live_portal, CITIZEN)
    page.goto(f"{live_portal}/it/servizi/assistenza-domiciliare-sad/richiesta")
    follow(page, page.locator("main form button[type=submit]"))
    first_step = page.url
    fill_step(page)
    second_step = page.url
    assert "/it/" in second_step and second_step != first_step
    page.goto(first_step)
    checked = page.locator("main form input:checked").evaluate_all(
        "els => els.map(e => e.name + '=' + e.value)"
    )
    assert checked
    page.goto(second_step)

    page.locator(".language-menu summary").click()
    follow(page, page.locator(".language-switcher a[hreflang='ar']"))
    assert page.url == second_step.replace("/it/", "/ar/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    follow(page, page.locator("a.back-link"))
    assert page.url == first_step.replace("/it/", "/ar/")
    now_checked = page.locator("main form input:checked").evaluate_all(
        "els => els.map(e => e.name + '=' + e.value)"
    )
    assert now_checked == checked
    page.locator(".language-menu summary").click()
    follow(page, page.locator(".language-switcher a[hreflang='en']"))
    while not page.url.endswith("/riepilogo"):
        fill_step(page)
    assert "/en/" in page.url
    assert page.locator("html").get_attribute("lang") == "en"
    choose(page, page.locator("input[name=consent]"))
    follow(page, page.locator("main form button[type=submit]").last)
    assert re.search(r"/en/area-personale/richieste/[^/]+/inviata$", page.url), page.url
    context.close()

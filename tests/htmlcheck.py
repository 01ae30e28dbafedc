"""Checks every HTML page the tests fetch: valid HTML, a <title>, one <h1>, unique ids."""

from collections import Counter

import html5lib
from flask.testing import FlaskClient

XHTML = "{http://www.w3.org/1999/xhtml}"


class PageProblem(AssertionError):
    pass


def check_page(body: str, url: str) -> None:
    """Raise PageProblem naming the URL when the page breaks a rule every page must keep."""
    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=True)
    tree = parser.parse(body)
    errors = [f"{pos}: {code} {data}" for pos, code, data in parser.errors]
    if errors:
        raise PageProblem(f"{url}: invalid HTML: {errors[:5]}")
    titles = [t for t in tree.iter(f"{XHTML}title") if (t.text or "").strip()]
    if len(titles) != 1:
        raise PageProblem(f"{url}: needs exactly one non-empty <title>, has {len(titles)}")
    h1s = list(tree.iter(f"{XHTML}h1"))
    if len(h1s) != 1:
        raise PageProblem(f"{url}: needs exactly one <h1>, has {len(h1s)}")
    ids = Counter(el.get("id") for el in tree.iter() if el.get("id"))
    repeated = [name for name, count in ids.items() if count > 1]
    if repeated:
        raise PageProblem(f"{url}: repeated ids {repeated}")
    html = next(tree.iter(f"{XHTML}html"))
    if not html.get("lang"):
        raise PageProblem(f"{url}: <html> has no lang")


class CheckingClient(FlaskClient):
    """A test client that checks every HTML response it receives.

    Each request gets a fresh application context (so a fresh `g`), as it would in production,
    even while the test itself holds one for its database work."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if response.mimetype == "text/html" and response.status_code != 304:
            url = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "?")
            check_page(response.get_data(as_text=True), url)
        return response

"""Reading pages as a user would: parsed HTML and the text of its parts."""

import html5lib

XHTML = "{http://www.w3.org/1999/xhtml}"


def parse(response):
    return html5lib.parse(response.get_data(as_text=True), namespaceHTMLElements=False)


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def find_all(tree, xpath: str):
    return tree.findall(xpath)


def find_one(tree, xpath: str):
    found = tree.findall(xpath)
    assert len(found) == 1, f"{xpath}: {len(found)} matches"
    return found[0]


def by_data_element(tree, name: str):
    return tree.findall(f".//*[@data-element='{name}']")


def csrf_token(response) -> str:
    tree = parse(response)
    return find_one(tree, ".//input[@name='csrf_token']").get("value")

"""A form with no translation in the reader's language shows its questions in Italian, and
says so in the markup: each Italian part carries lang="it" dir="ltr" (WCAG 3.1.2), so a screen
reader reads it with an Italian voice and an Arabic page keeps its question marks in place.
The portal's own questions are translated and carry nothing."""

import pytest

from tests.pages import find_all, find_one, parse
from tests.requests.test_filing import citizen, fill_in  # noqa: F401 (fixture)

SERVICE = "assistenza-domiciliare-sad"


def italian_parts(tree) -> set[str]:
    return {
        " ".join("".join(e.itertext()).split())
        for e in find_all(tree, ".//main//*[@lang='it']")
        if e.get("dir") == "ltr"
    }


@pytest.mark.parametrize("lang", ["ar", "uk"])
def test_the_summary_marks_each_italian_question_and_answer(citizen, lang):  # noqa: F811
    summary = parse(citizen.get(fill_in(citizen, SERVICE, lang=lang)))
    parts = italian_parts(summary)
    assert "In che cosa ha bisogno di aiuto?" in parts  # the form's question, not translated
    assert "Di che cosa ha bisogno la persona" in parts  # the step's title
    assert any("Igiene personale" in part for part in parts)  # a chosen answer's label
    page_lang = find_one(summary, ".").get("lang")
    assert page_lang == lang
    # The portal's own question (for whom) is in the reader's language: nothing marked.
    assert not any("Per chi" in part for part in parts)


def test_a_step_marks_its_italian_label_hint_and_choices_in_arabic(citizen):  # noqa: F811
    summary_url = fill_in(citizen, SERVICE, lang="ar")
    step = parse(citizen.get(summary_url.replace("/riepilogo", "/bisogni")))
    parts = italian_parts(step)
    assert "Di che cosa ha bisogno la persona" in parts  # h1
    assert "In che cosa ha bisogno di aiuto?" in parts  # legend
    assert any(part.startswith("Scegli tutto quello") for part in parts)  # hint
    assert "Igiene personale e bagno" in parts  # a choice's label


def test_nothing_is_marked_when_the_page_is_in_italian(citizen):  # noqa: F811
    summary_url = fill_in(citizen, SERVICE)
    assert not find_all(parse(citizen.get(summary_url)), ".//main//*[@lang]")
    step = parse(citizen.get(summary_url.replace("/riepilogo", "/bisogni")))
    assert not find_all(step, ".//main//*[@lang]")

"""UI message catalogs: `update` re-extracts the .pot and merges it into every locale;
`check [LOCALE...]` fails when the .pot is stale, a locale lacks a translation, or a placeholder
differs.

English is the language of the message ids, so the English catalog is filled from them."""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from portal.config import defaults

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
SOURCE_LOCALE = "en"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def locales() -> tuple[str, ...]:
    return defaults(str(ROOT / "instance"))["SUPPORTED_LOCALES"]


def pybabel(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"pybabel {args[0]} failed:\n{done.stderr}")


def extract(target: Path) -> None:
    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        str(target),
        ".",
    )


def read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def message_keys(catalog) -> set:
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context) for m in catalog if m.id}


def update() -> None:
    extract(POT)
    for locale in locales():
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            pybabel(
                "update",
                "-i",
                str(POT),
                "-d",
                "translations",
                "-l",
                locale,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        else:
            pybabel("init", "-i", str(POT), "-d", "translations", "-l", locale)
        finish(po, fill=locale == SOURCE_LOCALE)
    pybabel("compile", "-d", "translations")


def finish(po: Path, fill: bool) -> None:
    """Clear the "fuzzy" mark `init` puts on new catalogs; fill the source locale from its ids."""
    catalog = read(po)
    catalog.fuzzy = False
    for message in catalog:
        if fill and message.id and not any(_strings(message.string)):
            message.string = message.id
    with po.open("wb") as handle:
        write_po(handle, catalog, width=100)


def _strings(value) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def placeholders(text: str) -> set[str]:
    return {match.group(1) or match.group(0) for match in PLACEHOLDER.finditer(text or "")}


def placeholder_issues(message) -> list[str]:
    """A translation must use the id's placeholders and no others (plural forms may drop num)."""
    ids = _strings(message.id)
    allowed = set().union(*(placeholders(i) for i in ids))
    required = placeholders(ids[0]) - {"num"} if len(ids) > 1 else placeholders(ids[0])
    issues = []
    for text in _strings(message.string):
        found = placeholders(text)
        if not found <= allowed or not required <= found:
            issues.append(f"placeholders {sorted(found)} where {sorted(required)} are expected")
    return issues


def check(only: tuple[str, ...] = ()) -> list[str]:
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        extract(fresh)
        if message_keys(read(fresh)) != message_keys(read(POT)):
            problems.append("translations/messages.pot is stale: run `make i18n`")
        expected = message_keys(read(fresh))
    for locale in only or locales():
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            problems.append(f"{locale}: no catalog")
            continue
        catalog = read(po)
        missing = expected - message_keys(catalog)
        if missing:
            problems.append(f"{locale}: {len(missing)} messages not merged: run `make i18n`")
        for message in catalog:
            if not message.id:
                continue
            label = f"{locale}: {_strings(message.id)[0][:60]!r}"
            strings = _strings(message.string)
            if message.fuzzy:
                problems.append(f"{label} is fuzzy")
            if not all(strings):
                problems.append(f"{label} is untranslated")
                continue
            problems.extend(f"{label}: {issue}" for issue in placeholder_issues(message))
    return problems


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
        return 0
    only = tuple(sys.argv[2:])  # `check fr ar`: just those catalogs
    problems = check(only)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"i18n check: {len(problems)} problems in {len(only or locales())} locales")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

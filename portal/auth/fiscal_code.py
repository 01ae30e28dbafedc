"""Italian fiscal codes (codice fiscale): normalisation and validation.

SPID releases the fiscal number as ``TINIT-<code>``, CIE as the bare code; the portal keeps
the bare, upper-case 16-character code as the stable key of a person. The check itself
(shape, dates, omocodia, check character) is python-stdnum's."""

import re

from stdnum.it import codicefiscale


def normalise(value: str | None) -> str | None:
    """The bare upper-case code from a claim value (``TINIT-`` prefix and spaces removed)."""
    if not value or not isinstance(value, str):
        return None
    code = re.sub(r"\s+", "", value).upper()
    if code.startswith("TINIT-"):
        code = code[len("TINIT-") :]
    return code


def is_valid(code: str | None) -> bool:
    """Whether ``code`` is a personal fiscal code (16 characters) with the right check character."""
    code = normalise(code)
    return bool(code) and len(code) == 16 and codicefiscale.is_valid(code)

"""Italian fiscal codes (codice fiscale): normalisation and the check character.

SPID releases the fiscal number as ``TINIT-<code>``, CIE as the bare code; the portal keeps
the bare, upper-case 16-character code as the stable key of a person.
"""

import re

_SHAPE = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)

# Values of the characters in odd (1st, 3rd, ...) positions; digits count as the letter
# of the same rank (0 -> A, 1 -> B, ...).
_ODD = [
    1,
    0,
    5,
    7,
    9,
    13,
    15,
    17,
    19,
    21,
    2,
    4,
    18,
    20,
    11,
    3,
    6,
    8,
    12,
    14,
    16,
    10,
    22,
    25,
    24,
    23,
]


def _rank(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A")


def check_character(first15: str) -> str:
    """The 16th character of a fiscal code whose first 15 characters are given."""
    total = 0
    for position, char in enumerate(first15.upper(), start=1):
        rank = _rank(char)
        total += _ODD[rank] if position % 2 else rank
    return chr(ord("A") + total % 26)


def normalise(value: str | None) -> str | None:
    """The bare upper-case code from a claim value (``TINIT-`` prefix and spaces removed)."""
    if not value:
        return None
    code = re.sub(r"\s+", "", value).upper()
    if code.startswith("TINIT-"):
        code = code[len("TINIT-") :]
    return code


def is_valid(code: str | None) -> bool:
    """Whether ``code`` is a well-formed fiscal code with the right check character."""
    code = normalise(code)
    return bool(code and _SHAPE.match(code) and check_character(code[:15]) == code[15])

"""Builds the front-end files that the npm packages do not ship ready to serve (run by setup.sh):

- `bootstrap-italia.rtl.min.css`, Bootstrap Italia mirrored with rtlcss, for Arabic and Urdu;
- `static/vendor/fonts/scripts.css` (and `zh.css`, for Chinese pages): Noto faces for the
  scripts Titillium Web lacks (Cyrillic,
  Arabic, Devanagari, Gurmukhi, Bengali, Simplified Chinese), declared under the family name
  "Titillium Web" with their unicode ranges, so every element that asks for Titillium falls back
  to them glyph by glyph; and "Noto Nastaliq Urdu", the script Urdu readers expect.
  Browsers download a face only when a page has characters in its range."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"
WEIGHTS = (400, 700)
ALIAS = "Titillium Web"

# package -> (subsets kept, family to declare)
FACES = {
    "noto-sans": ({"cyrillic", "cyrillic-ext"}, ALIAS),
    "noto-sans-arabic": ({"arabic"}, ALIAS),
    "noto-sans-devanagari": ({"devanagari"}, ALIAS),
    "noto-sans-gurmukhi": ({"gurmukhi"}, ALIAS),
    "noto-sans-bengali": ({"bengali"}, ALIAS),
    "noto-nastaliq-urdu": ({"arabic"}, "Noto Nastaliq Urdu"),
}
# Chinese needs a hundred slices: their own stylesheet, linked on Chinese pages only.
CHINESE = {"noto-sans-sc": ({"chunks"}, ALIAS)}  # the numbered [N] slices
BLOCK = re.compile(r"/\* (?P<name>[^*]+?) \*/\s*@font-face\s*\{(?P<body>[^}]*)\}")


def build_rtl() -> None:
    css = VENDOR / "bootstrap-italia" / "css"
    source, target = css / "bootstrap-italia.min.css", css / "bootstrap-italia.rtl.min.css"
    subprocess.run(
        [str(MODULES / ".bin" / "rtlcss"), "--silent", str(source), str(target)], check=True
    )


def faces(package: str, subsets: set[str], family: str, out: Path) -> list[str]:
    rules = []
    for weight in WEIGHTS:
        stylesheet = MODULES / "@fontsource" / package / f"{weight}.css"
        for block in BLOCK.finditer(stylesheet.read_text(encoding="utf-8")):
            # "noto-sans-arabic-arabic-400-normal" -> "arabic"; "noto-sans-sc-[12]-..." -> "[12]"
            subset = block["name"].removeprefix(f"{package}-").removesuffix(f"-{weight}-normal")
            wanted = subset.startswith("[") if "chunks" in subsets else subset in subsets
            if not wanted:
                continue
            body = block["body"]
            woff2 = re.search(r"url\(\./files/([^)]+\.woff2)\)", body)[1]
            shutil.copy2(MODULES / "@fontsource" / package / "files" / woff2, out / woff2)
            ranges = re.search(r"unicode-range:\s*([^;]+);", body)[1]
            rules.append(
                "@font-face{"
                f'font-family:"{family}";font-style:normal;font-weight:{weight};'
                f'font-display:swap;src:url("{package}/{woff2}") format("woff2");'
                f"unicode-range:{ranges}}}"
            )
    if not rules:
        sys.exit(f"build_assets: no {sorted(subsets)} faces found in @fontsource/{package}")
    return rules


def build_fonts() -> None:
    target = VENDOR / "fonts"
    shutil.rmtree(target, ignore_errors=True)
    for name, packages in (("scripts.css", FACES), ("zh.css", CHINESE)):
        lines = ["/* Built by scripts/build_assets.py from the @fontsource packages (OFL-1.1). */"]
        for package, (subsets, family) in packages.items():
            out = target / package
            out.mkdir(parents=True)
            lines.extend(faces(package, subsets, family, out))
        (target / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build_rtl()
    build_fonts()

"""A study's acronyms as the `acronym` field indexes them: as written and run together.

People type trial names without their hyphens (DAPAHF for DAPA-HF, KEYNOTE189), so
each acronym is indexed both ways, and so are hyphenated names in a title that look
like trial names.
"""

from __future__ import annotations

import re

_HYPHENATED = re.compile(r"(?<![\w-])\w+(?:-\w+)+(?![\w-])")


def acronym_text(acronyms: list[str], *titles: str | None) -> str:
    """Each acronym as written and run together: DAPA-HF is found as DAPAHF too.

    Hyphenated names in a title that look like trial names (capitals or digits:
    NeoIM-Lung, EDGE-Gastric) are run together as well, since people type them so.
    """
    forms: list[str] = []
    named = [
        m.group(0)
        for title in titles
        for m in _HYPHENATED.finditer(title or "")
        if sum(ch.isupper() for ch in m.group(0)) >= 2 or any(ch.isdigit() for ch in m.group(0))
    ]
    for acronym in dict.fromkeys([*acronyms, *named]):
        forms.append(acronym)
        joined = "".join(ch for ch in acronym if ch.isalnum())
        if joined != acronym and not joined.isdigit() and joined not in forms:
            forms.append(joined)
    return " ".join(forms)

"""Write a hostile pages folder: every bad case we know of, around good pages.

Returns what a correct ingester must do with each file, so tests can check it:
`good` (NCT IDs that must be indexed) and `bad` (file -> a word its reason must contain).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pagemaker import make_page

XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
JS_URL = "javascript:window.__pwned=1"
SCRIPTS = "Ελληνικά Русский 中文 日本語 한국어 עברית العربية हिन्दी \u200f\u202eRTL\u202c"


@dataclass
class Hostile:
    root: Path
    good: set[str] = field(default_factory=set)
    bad: dict[str, str] = field(default_factory=dict)


def _fm(nct: str, extra: str = "", title: str = "Fine") -> str:
    return f"---\ntitle: {title}\nnct_id: {nct}\n{extra}---\n# {title}\n"


def write_hostile(root: Path, good_pages: int = 40) -> Hostile:
    root.mkdir(parents=True, exist_ok=True)
    h = Hostile(root)

    def good(nct: str, text: str | bytes) -> None:
        path = root / f"{nct}.md"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        h.good.add(nct)

    def bad(name: str, data: str | bytes, reason: str) -> None:
        path = root / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        h.bad[name] = reason

    for i in range(1, good_pages + 1):
        good(f"NCT0100{i:04d}", make_page(f"NCT0100{i:04d}", f"Ordinary asthma study {i}"))

    # FORMAT.md's list
    bad("NCT02000001.md", "", "empty")
    bad("NCT02000002.md", "# Title only\n\nNo frontmatter, no ID.\n", "no frontmatter")
    bad("NCT02000003.md", "---\ntitle: [unclosed\nnct_id: NCT02000003\n---\n", "YAML")
    bad("NCT02000004.md", "---\ntitle: No id\n---\n# No id\n", "no nct_id")
    bad("NCT02000005.md", _fm("NCT12"), "invalid nct_id")
    bad("NCT02000006.md", _fm("NCT02999999"), "file name says")
    good("NCT02000007", _fm("NCT02000007"))
    (root / "dup").mkdir()
    bad("dup/NCT02000007.md", _fm("NCT02000007", title="Duplicate"), "duplicate")
    bad("NCT02000008.md", _fm("NCT02000008").encode() + b"\xc3\x28 invalid", "UTF-8")
    good("NCT02000009", b"\xef\xbb\xbf" + _fm("NCT02000009").encode())
    good("NCT02000010", _fm("NCT02000010").replace("\n", "\r\n"))
    good(
        "NCT02000011",
        _fm("NCT02000011")
        + "\n## Detailed Description\n\n"
        + ("enormous section text " * 120_000)
        + "\n",
    )
    good(
        "NCT02000012",
        make_page(
            "NCT02000012",
            XSS,
            sponsor=XSS,
            conditions=(XSS,),
            countries=(XSS,),
            summary=f"{XSS} asthma {XSS}",
            interventions=((XSS, "DRUG"),),
        )
        .replace(
            'canonical_url: "https://mirror.example/NCT02000012.md"', f'canonical_url: "{JS_URL}"'
        )
        .replace(
            'clinicaltrials_gov: "https://clinicaltrials.gov/study/NCT02000012"',
            f'clinicaltrials_gov: "{JS_URL}"',
        ),
    )
    good("NCT02000013", _fm("NCT02000013", "canonical_url: ftp://example.org/x\n"))
    good(
        "NCT02000014",
        _fm(
            "NCT02000014",
            "sponsor: [a, b]\ncountries: 42\nphase: 2023-01-01\noverall_status: {x: 1}\n",
        ),
    )
    # issue 6's additions
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    bad("NCT02000015.md", _fm("NCT02000015", bomb), "aliases")
    bad("NCT02000016.md", _fm("NCT02000016", "x: " + "[" * 10_000 + "]" * 10_000 + "\n"), "nest")
    with open(root / "NCT02000017.md", "wb") as handle:  # 50 MB
        handle.write(_fm("NCT02000017").encode())
        chunk = b"x" * (1 << 20)
        for _ in range(50):
            handle.write(chunk)
    h.bad["NCT02000017.md"] = "limit"
    bad("NCT02000018.md", _fm("NCT02000018") + "y" * (5 << 20) + "\n", "limit")
    bad("NCT02000019.md", os.urandom(4096).replace(b"\x00", b"\x01") + b"\x00\xff", "NUL")
    os.symlink("/etc/passwd", root / "NCT02000020.md")
    h.bad["NCT02000020.md"] = "outside"
    (root / "NCT02000021.md").mkdir()
    h.bad["NCT02000021.md"] = "directory"
    unreadable = root / "NCT02000022.md"
    unreadable.write_text(_fm("NCT02000022"))
    unreadable.chmod(0)
    if os.access(unreadable, os.R_OK):  # root reads anything: then it is simply a good page
        h.good.add("NCT02000022")
    else:
        h.bad["NCT02000022.md"] = "cannot read"
    bad("NCT02000023.md", _fm("NCT02000023") + "text\x00with NUL\n", "NUL")
    good(
        "NCT02000024",
        make_page(
            "NCT02000024",
            f"Scripts {SCRIPTS}",
            summary=SCRIPTS,
            sponsor=SCRIPTS,
            conditions=(SCRIPTS,),
        ),
    )
    return h

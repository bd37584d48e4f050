"""How place names are compared: folded, so that the ways people write a name meet.

ClinicalTrials.gov sites, GeoNames and people typing into a search box spell the same
place differently ("St. Louis", "Saint Louis"; "Münster", "Muenster", "Munster";
"Korea, Republic of", "South Korea"). Names are compared after `fold`, and country
names through the alias table below, which lists every spelling of a country found
in the real corpus that GeoNames' own country names miss.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# abbreviations of the first word people write both ways
_WORD_FORMS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "pt": "port"}
_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"})


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lowercase ASCII words separated by single spaces: accents and punctuation gone,
    St/Mt/Ft read as Saint/Mount/Fort."""
    lowered = text.lower().translate(_LETTERS)
    plain = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode("ascii")
    words = _NOT_WORD.sub(" ", plain.replace("'", "").replace("’", "")).split()
    return " ".join(_WORD_FORMS.get(word, word) for word in words)


# Country spellings of ClinicalTrials.gov (and of people) that GeoNames' country names
# do not match once folded; ISO 3166 codes.
COUNTRY_ALIASES: dict[str, str] = {
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "russian federation": "RU",
    "russia": "RU",
    "korea republic of": "KR",
    "republic of korea": "KR",
    "south korea": "KR",
    "korea": "KR",
    "korea democratic peoples republic of": "KP",
    "north korea": "KP",
    "turkey turkiye": "TR",
    "turkiye": "TR",
    "turkey": "TR",
    "czech republic": "CZ",
    "czechia": "CZ",
    "iran islamic republic of": "IR",
    "iran": "IR",
    "moldova republic of": "MD",
    "moldova": "MD",
    "cote divoire": "CI",
    "cote d ivoire": "CI",
    "ivory coast": "CI",
    "congo the democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "drc": "CD",
    "congo": "CG",
    "macedonia the former yugoslav republic of": "MK",
    "north macedonia": "MK",
    "macedonia": "MK",
    "former yugoslavia": "RS",
    "former serbia and montenegro": "RS",
    "serbia and montenegro": "RS",
    "reunion": "RE",
    "palestinian territories occupied": "PS",
    "palestinian territory occupied": "PS",
    "palestine": "PS",
    "lao peoples democratic republic": "LA",
    "laos": "LA",
    "cape verde": "CV",
    "cabo verde": "CV",
    "syrian arab republic": "SY",
    "syria": "SY",
    "tanzania united republic of": "TZ",
    "tanzania": "TZ",
    "viet nam": "VN",
    "vietnam": "VN",
    "taiwan province of china": "TW",
    "taiwan": "TW",
    "hong kong": "HK",
    "macau": "MO",
    "macao": "MO",
    "venezuela bolivarian republic of": "VE",
    "bolivia plurinational state of": "BO",
    "libyan arab jamahiriya": "LY",
    "libya": "LY",
    "brunei darussalam": "BN",
    "micronesia federated states of": "FM",
    "virgin islands us": "VI",
    "virgin islands u s": "VI",
    "us virgin islands": "VI",
    "swaziland": "SZ",
    "eswatini": "SZ",
    "burma": "MM",
    "myanmar": "MM",
    "holy see vatican city state": "VA",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "america": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "uae": "AE",
    "prc": "CN",
    "peoples republic of china": "CN",
    "mainland china": "CN",
}

# Sites named by a district, base or campus that GeoNames lists under its city: the
# commonest unplaced names of the real corpus (docs/geo.md), by country code.
CITY_ALIASES: dict[tuple[str, str], str] = {
    ("AR", "caba"): "buenos aires",
    ("AR", "ciudad autonoma de buenos aires"): "buenos aires",
    ("AR", "ciudad autonoma de buenos aire"): "buenos aires",
    ("AR", "ciudad de buenos aires"): "buenos aires",
    ("US", "travis air force base"): "fairfield",
    ("US", "keesler afb"): "biloxi",
    ("US", "keesler air force base"): "biloxi",
    ("US", "fort sam houston"): "san antonio",
    ("US", "lackland afb"): "san antonio",
    ("US", "lackland air force base"): "san antonio",
    ("US", "fort gordon"): "augusta",
    ("US", "research triangle park"): "durham",
    ("US", "togus"): "augusta",
    ("US", "tarzana"): "los angeles",
    ("US", "panorama city"): "los angeles",
    ("US", "harbor city"): "los angeles",
    ("US", "greenbrae"): "larkspur",
    ("US", "tuscallosa"): "tuscaloosa",
    ("CA", "north york"): "toronto",
    ("CA", "scarborough"): "toronto",
    ("CA", "fleurimont"): "sherbrooke",
    ("PR", "santurce"): "san juan",
    ("PR", "rio piedras"): "san juan",
    ("IL", "tel hashomer"): "ramat gan",
    ("FR", "nantes saint herblain"): "saint herblain",
    ("DK", "hellerup"): "gentofte",
    ("TH", "bangkoknoi"): "bangkok",
}

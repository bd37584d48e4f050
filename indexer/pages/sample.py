"""Write the built-in sample corpus: realistic mirror pages made up by this project.

The service must run anywhere, without the real mirror, so this generator writes a
few hundred studies in the exact page format: every status, single and multi-phase
studies, all study types, countries whose names contain commas, long and short
texts, and pages with sections missing. Deterministic for a seed.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from .vocab import INTERVENTION_TYPES, STATUSES

MIRROR_URL = "https://parkinsonspathways.com/agent/trials/{}.md"
CTGOV_URL = "https://clinicaltrials.gov/study/{}"

CONDITIONS = [
    ("Breast Cancer", ["tumour", "mammography", "HER2", "hormone receptor"]),
    ("Non-Small Cell Lung Cancer", ["EGFR", "tumour", "chemotherapy", "PD-L1"]),
    ("Diabetes Mellitus, Type 2", ["glycaemic control", "HbA1c", "insulin", "metformin"]),
    ("Hypertension", ["blood pressure", "systolic", "cardiovascular risk"]),
    ("Heart Failure", ["ejection fraction", "hospitalisation", "NT-proBNP"]),
    ("Myocardial Infarction", ["heart attack", "troponin", "coronary"]),
    ("Parkinson Disease", ["motor symptoms", "dopamine", "tremor", "UPDRS"]),
    ("Alzheimer Disease", ["cognition", "amyloid", "memory", "dementia"]),
    ("Asthma", ["inhaler", "exacerbations", "FEV1", "airway"]),
    ("COVID-19", ["SARS-CoV-2", "pneumonia", "vaccination", "viral load"]),
    ("Major Depressive Disorder", ["mood", "HAM-D", "remission", "anhedonia"]),
    ("Rheumatoid Arthritis", ["joint swelling", "DAS28", "synovitis"]),
    ("Chronic Kidney Disease", ["eGFR", "dialysis", "proteinuria"]),
    ("Stroke", ["rehabilitation", "thrombolysis", "motor recovery"]),
    ("Obesity", ["body weight", "BMI", "lifestyle"]),
    ("Anaemia", ["haemoglobin", "iron", "fatigue"]),
    ("Lymphoma, Non-Hodgkin", ["CD20", "relapse", "remission"]),
    ("Malaria", ["Plasmodium falciparum", "parasitaemia", "artemisinin"]),
    ("Hepatitis C, Chronic", ["sustained virologic response", "HCV RNA"]),
    ("Paediatric Epilepsy", ["seizure frequency", "children", "EEG"]),
]
INTERVENTIONS = {
    "DRUG": [
        "Metformin",
        "Pembrolizumab",
        "Placebo",
        "Atorvastatin",
        "Semaglutide",
        "Dapagliflozin",
        "Levodopa",
        "Remdesivir",
        "Sertraline",
        "Methotrexate",
    ],
    "DEVICE": ["Continuous Glucose Monitor", "Wearable ECG Patch", "Deep Brain Stimulator"],
    "BIOLOGICAL": ["mRNA Vaccine", "Rituximab", "Adalimumab"],
    "PROCEDURE": ["Laparoscopic Surgery", "Catheter Ablation", "Physiotherapy Session"],
    "RADIATION": ["Stereotactic Body Radiotherapy", "Whole Brain Radiotherapy"],
    "BEHAVIORAL": ["Cognitive Behavioural Therapy", "Exercise Programme", "Diet Counselling"],
    "GENETIC": ["Gene Panel Testing"],
    "DIETARY_SUPPLEMENT": ["Vitamin D3", "Omega-3 Fatty Acids", "Iron Supplement"],
    "COMBINATION_PRODUCT": ["Drug-Eluting Stent"],
    "DIAGNOSTIC_TEST": ["PET/CT Imaging", "Liquid Biopsy"],
    "OTHER": ["Standard of Care", "Questionnaire"],
}
SPONSORS = [
    "National Cancer Institute (NCI)",
    "Assistance Publique - Hôpitaux de Paris",
    "Mayo Clinic",
    "University Hospital, Basel, Switzerland",
    "AstraZeneca",
    "Novo Nordisk A/S",
    "Merck Sharp & Dohme LLC",
    "Seoul National University Hospital",
    "Tongji Hospital, Huazhong University of Science and Technology",
    "Karolinska Institutet",
    "University of Oxford",
    "Peking Union Medical College Hospital",
    "Pfizer",
    "Instituto Nacional de Cancerologia, Mexico",
    "Rigshospitalet, Denmark",
]
PLACES = {
    "United States": [
        ("Rochester", "Minnesota"),
        ("Boston", "Massachusetts"),
        ("Houston", "Texas"),
    ],
    "France": [("Paris", None), ("Lyon", None)],
    "Korea, Republic of": [("Seoul", None), ("Busan", None)],
    "China": [("Wuhan", "Hubei"), ("Beijing", "Beijing")],
    "Germany": [("Berlin", None), ("Munich", "Bavaria")],
    "United Kingdom": [("Oxford", "Oxfordshire"), ("London", None)],
    "Iran, Islamic Republic of": [("Tehran", None)],
    "Tanzania, United Republic of": [("Dar es Salaam", None)],
    "Brazil": [("São Paulo", "SP")],
    "Sweden": [("Stockholm", None)],
    "Japan": [("Tokyo", None)],
    "Mexico": [("Mexico City", None)],
}
PHASE_SETS = [
    ["PHASE1"],
    ["PHASE2"],
    ["PHASE3"],
    ["PHASE4"],
    ["EARLY_PHASE1"],
    ["NA"],
    ["PHASE1", "PHASE2"],
    ["PHASE2", "PHASE3"],
]
ACRONYMS = [
    "KEYSTONE-12",
    "DAPA-CKD",
    "SPRINTER",
    "HOPE-3",
    "AURORA",
    "TRIDENT-2",
    "BRAVE",
    "COMPASS-HF",
    "ELEVATE",
    "PIONEER-7",
]
SENTENCES = [
    "This study evaluates whether {iv} improves outcomes in adults with {cond}.",
    "Participants will be randomised to {iv} or standard care and followed for {weeks} weeks.",
    "The primary hypothesis is that {iv} reduces {kw} compared with usual care.",
    "Secondary aims include safety, tolerability and quality of life in {cond}.",
    "Investigators will measure {kw} at baseline and at each follow-up visit.",
    "Eligible patients are recruited from outpatient clinics and referred by their physicians.",
    "Data on {kw} will be collected with validated questionnaires [v2.1].",
]
_MD_SPECIAL = re.compile(r"([\\`*_\[\]])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _yaml(text: str) -> str:
    plain = re.match(r"^[A-Za-z0-9(][^:#\"'\n]*$", text) and not re.match(r"^[0-9.+-]+$", text)
    return text if plain else json.dumps(text, ensure_ascii=False)


def _date(rng: random.Random, start: int, end: int, month_only: float = 0.2) -> str:
    year = rng.randint(start, end)
    month = rng.randint(1, 12)
    if rng.random() < month_only:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def _paragraph(rng: random.Random, n: int, **kw: str) -> str:
    return " ".join(
        rng.choice(SENTENCES).format(weeks=rng.choice([12, 24, 52]), **kw) for _ in range(n)
    )


def render_sample_page(i: int, rng: random.Random) -> tuple[str, str]:
    """One page (NCT ID, text) for sample study number i."""
    nct = f"NCT9{i:07d}"
    cond, keywords = CONDITIONS[i % len(CONDITIONS)]
    extra_cond = rng.sample([c for c, _ in CONDITIONS if c != cond], k=rng.choice([0, 0, 1, 2]))
    conditions = [cond, *extra_cond]
    status = (
        STATUSES[i % len(STATUSES)]
        if i < 3 * len(STATUSES)
        else rng.choice(
            ["RECRUITING"] * 5
            + ["COMPLETED"] * 6
            + ["NOT_YET_RECRUITING", "TERMINATED", "ACTIVE_NOT_RECRUITING", "UNKNOWN"] * 2
        )
    )
    study_type = rng.choices(
        ["INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"], weights=[75, 22, 3]
    )[0]
    phases = rng.choice(PHASE_SETS) if study_type == "INTERVENTIONAL" else []
    iv_types = rng.sample(INTERVENTION_TYPES, k=rng.choice([1, 1, 2, 3]))
    interventions = [(rng.choice(INTERVENTIONS[t]), t) for t in iv_types]
    iv_name = interventions[0][0]
    acronym = ACRONYMS[i % len(ACRONYMS)] if i % 7 == 0 else None
    title = f"{iv_name} for {cond}" + (f" ({acronym})" if acronym else "")
    if i % 11 == 0:
        title = f"Effect of {iv_name}: A Randomised Trial in {cond}"
    countries = rng.sample(list(PLACES), k=rng.choice([1, 1, 1, 2, 3, 5]))
    sponsor = SPONSORS[(i * 7) % len(SPONSORS)]
    enrollment = rng.choice([12, 30, 60, 120, 250, 500, 1200, 4000])
    start = _date(rng, 2008, 2025)
    last_update = _date(rng, 2019, 2026, month_only=0)
    kw = rng.choice(keywords)

    fm = ["---", f"title: {_yaml(title)}", f"nct_id: {nct}", f"overall_status: {status}"]
    if phases:
        fm.append(f"phase: {_yaml(', '.join(phases))}")
    fm += [
        f"sponsor: {_yaml(sponsor)}",
        f"study_type: {study_type}",
        f"primary_condition: {_yaml(cond)}",
    ]
    if len(countries) == 1:
        fm.append(f"countries: {_yaml(countries[0])}")
    else:
        fm.append("countries:")
        fm += [f"  - {_yaml(c)}" for c in countries]
    fm += [
        f'canonical_url: "{MIRROR_URL.format(nct)}"',
        f'clinicaltrials_gov: "{CTGOV_URL.format(nct)}"',
        f"ct_last_update_post_date: {last_update}",
        f'last_seen_at: "2026-{rng.randint(4, 10):02d}-{rng.randint(1, 28):02d}T06:30:26.088Z"',
        "source: ClinicalTrials.gov (mirrored, no enrichment)",
        "---",
    ]

    body = [f"# {_md(title)}", ""]
    if i % 5:
        body += [f"**Official Title:** {_md('A Study of ' + iv_name + ' in ' + cond)}", ""]
    body += [
        f"**NCT ID:** [{nct}]({CTGOV_URL.format(nct)})",
        "",
        "## Key Facts",
        "",
        f"- **Status:** {status}",
    ]
    if phases:
        body.append(f"- **Phase:** {', '.join(phases)}")
    body += [
        f"- **Study Type:** {study_type}",
        f"- **Target Enrollment:** {enrollment}",
        f"- **Lead Sponsor:** {_md(sponsor)}",
        f"- **Conditions:** {_md(', '.join(conditions))}",
        f"- **Start Date:** {start}",
    ]
    if i % 4:
        body.append(f"- **Completion Date:** {_date(rng, 2026, 2031)}")
    body += [f"- **CT.gov Last Update:** {last_update}", ""]
    fill = {"iv": iv_name, "cond": cond.lower(), "kw": kw}
    body += ["## Brief Summary", "", _md(_paragraph(rng, rng.choice([1, 2, 3]), **fill)), ""]
    if i % 3:
        paragraphs = [
            _md(_paragraph(rng, rng.randint(3, 9), **fill)) for _ in range(rng.choice([1, 2, 4]))
        ]
        body += ["## Detailed Description", "", "\n\n".join(paragraphs), ""]
    if i % 9:
        min_age = rng.choice(["18 Years", "18 Years", "6 Months", "12 Years", "65 Years", None])
        max_age = rng.choice(["80 Years", "75 Years", "17 Years", "N/A", None])
        sex = rng.choice(["ALL", "ALL", "ALL", "FEMALE", "MALE"])
        body += ["## Eligibility", ""]
        if min_age:
            body.append(f"- **Minimum age:** {min_age}")
        if max_age:
            body.append(f"- **Maximum age:** {max_age}")
        body += [
            f"- **Sex:** {sex}",
            f"- **Healthy Volunteers:** {rng.choice(['Yes', 'No', 'No'])}",
            "",
            "```",
            "Inclusion Criteria:",
            "",
            f"* Diagnosis of {cond}",
            "* Able to give consent",
            "",
            "Exclusion Criteria:",
            "",
            "* Pregnancy",
            "```",
            "",
        ]
    if study_type == "INTERVENTIONAL":
        body += [
            "## Arms",
            "",
            f"- **{_md(iv_name)} arm** (EXPERIMENTAL) — Participants receive {_md(iv_name)}.",
            "- **Control** (PLACEBO_COMPARATOR) — Participants receive usual care.",
            "",
        ]
    body += ["## Interventions", ""]
    body += [
        f"- **{_md(name)}** ({kind}) — {_md(name)} as described in the protocol."
        for name, kind in interventions
    ]
    body += [
        "",
        "## Primary Outcomes",
        "",
        f"- **Change in {_md(kw)}** _(time frame: {rng.choice([12, 24, 52])} weeks)_ — "
        f"Measured at each visit.",
        "",
    ]
    sites = []
    for country in countries:
        for city, state in PLACES[country][: rng.randint(1, len(PLACES[country]))]:
            parts = [f"{city} General Hospital", city, state, country]
            sites.append(", ".join(_md(p) for p in parts if p))
    more = rng.choice([0, 0, 0, 14])
    body += [f"## Locations ({len(sites) + more})", ""]
    body += [
        f"- {site} — _{rng.choice(['RECRUITING', 'COMPLETED', 'NOT_YET_RECRUITING'])}_"
        for site in sites
    ]
    if more:
        body.append(f"- … and {more} more locations")
    body += [
        "",
        "## Recent Field Changes (last 30 days)",
        "",
        f"- `status.overallStatus` — added _({last_update[:7]}-01)_",
        "",
        "---",
        "",
        f"*Canonical: {MIRROR_URL.format(nct)}*  ",
        f"*Source data (authoritative): {CTGOV_URL.format(nct)}*  ",
        "*This page is a raw mirror with no AI summary, no editorial enrichment, and no "
        "Parkinson's-specific filtering.*",
        "",
    ]
    return nct, "\n".join(fm + body)


def write_sample(out_dir: Path | str, n: int = 300, seed: int = 42) -> int:
    """Write n sample pages into out_dir (created if needed); returns how many."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n):
        nct, text = render_sample_page(i, rng)
        (out / f"{nct}.md").write_text(text, encoding="utf-8")
    return n

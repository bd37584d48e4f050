"""Write the built-in sample corpus: realistic mirror pages made up by this project.

The service must run anywhere, without the real mirror, so this generator writes a
few hundred studies in the exact page format: every status, single and multi-phase
studies, all study types, countries whose names contain commas, long and short
texts, and pages with sections missing. Deterministic for a seed.
"""

from __future__ import annotations

import random
from pathlib import Path

from .render import PageContent, md, render_page
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


MIN_AGES = ["18 Years", "18 Years", "6 Months", "12 Years", "65 Years", None]
SITE_STATUSES = ["RECRUITING", "COMPLETED", "NOT_YET_RECRUITING"]


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

    last_seen = f"2026-{rng.randint(4, 10):02d}-{rng.randint(1, 28):02d}T06:30:26.088Z"
    completion = _date(rng, 2026, 2031) if i % 4 else None
    fill = {"iv": iv_name, "cond": cond.lower(), "kw": kw}
    summary = md(_paragraph(rng, rng.choice([1, 2, 3]), **fill))
    description = []
    if i % 3:
        description = [
            md(_paragraph(rng, rng.randint(3, 9), **fill)) for _ in range(rng.choice([1, 2, 4]))
        ]
    eligibility: dict[str, str | None] = {}
    criteria: list[str] = []
    if i % 9:
        eligibility = {
            "min_age": rng.choice(MIN_AGES),
            "max_age": rng.choice(["80 Years", "75 Years", "17 Years", "N/A", None]),
            "sex": rng.choice(["ALL", "ALL", "ALL", "FEMALE", "MALE"]),
            "healthy_volunteers": rng.choice(["Yes", "No", "No"]),
        }
        criteria = [
            "Inclusion Criteria:",
            "",
            f"* Diagnosis of {cond}",
            "* Able to give consent",
            "",
            "Exclusion Criteria:",
            "",
            "* Pregnancy",
        ]
    arms = []
    if study_type == "INTERVENTIONAL":
        arms = [
            (f"{iv_name} arm", "EXPERIMENTAL", f"Participants receive {md(iv_name)}."),
            ("Control", "PLACEBO_COMPARATOR", "Participants receive usual care."),
        ]
    weeks = rng.choice([12, 24, 52])
    places = []
    for country in countries:
        for city, state in PLACES[country][: rng.randint(1, len(PLACES[country]))]:
            parts = [f"{city} General Hospital", city, state, country]
            places.append(", ".join(md(p) for p in parts if p))
    more = rng.choice([0, 0, 0, 14])
    sites = [(site, rng.choice(SITE_STATUSES)) for site in places]
    page = PageContent(
        nct_id=nct,
        title=title,
        status=status,
        phases=phases,
        study_type=study_type,
        sponsor=sponsor,
        conditions=conditions,
        countries=countries,
        canonical_url=MIRROR_URL.format(nct),
        ctgov_url=CTGOV_URL.format(nct),
        last_update=last_update,
        last_seen_at=last_seen,
        source="ClinicalTrials.gov (mirrored, no enrichment)",
        official_title=f"A Study of {iv_name} in {cond}" if i % 5 else None,
        enrollment=enrollment,
        start_date=start,
        completion_date=completion,
        summary=summary,
        description=description,
        criteria=criteria,
        arms=arms,
        interventions=[
            (name, kind, f"{md(name)} as described in the protocol.")
            for name, kind in interventions
        ],
        outcomes=[(f"Change in {kw}", f"{weeks} weeks", "Measured at each visit.")],
        sites=sites,
        more_sites=more,
        field_changes=[f"`status.overallStatus` — added _({last_update[:7]}-01)_"],
        **eligibility,
    )
    return nct, render_page(page)


def write_sample(out_dir: Path | str, n: int = 300, seed: int = 42) -> int:
    """Write n sample pages into out_dir (created if needed); returns how many."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n):
        nct, text = render_sample_page(i, rng)
        (out / f"{nct}.md").write_text(text, encoding="utf-8")
    return n

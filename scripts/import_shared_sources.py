"""One-off curation step: turn ../shared/seeds and ../shared/corpus-sources into corpus/.

The product never reads ../shared; this script records how the bundled corpus
was made, and the reviewed judgements it adds (document ids, subjects, evidence
levels, key limitations, conflict-of-interest notes) sit here in plain sight.
Run it again only to regenerate the corpus from new source material:

    .venv/bin/python scripts/import_shared_sources.py ../shared corpus
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

CHECKED = "2026-11-22"

SEEDS = {
    "004_9179da5e84f78337": "pak-2012-adsc-case-report",
    "000_d6e4eaf9b4234674": "caring-medical-core-decompression",
}

# (seed id, reference number) -> (abstract document id, subjects, evidence level)
# Evidence levels follow the Oxford CEBM scale for treatment questions
# (2 = systematic review of mixed trials, 3 = cohort, 4 = case series/report,
# 5 = technique note, mechanism review); animal and laboratory work gets none.
REFERENCE_CURATION = {
    ("000_d6e4eaf9b4234674", 1): ("abstract-olsen-2016-tantalum-rod", ["humans"], 3),
    ("000_d6e4eaf9b4234674", 2): (None, ["humans"], 4),
    ("000_d6e4eaf9b4234674", 3): ("abstract-yin-2016-simvastatin", ["humans"], 3),
    ("000_d6e4eaf9b4234674", 4): ("abstract-guadilla-2012-arthroscopic-prp", ["humans"], 5),
    ("000_d6e4eaf9b4234674", 5): ("abstract-papakostidis-2016-cell-therapy-review", ["humans"], 2),
    ("000_d6e4eaf9b4234674", 6): (None, [], None),
    ("000_d6e4eaf9b4234674", 7): (None, [], None),
    ("000_d6e4eaf9b4234674", 8): ("abstract-shao-2015-msc-review", ["none"], 5),
    ("000_d6e4eaf9b4234674", 9): (None, ["cells", "animals"], None),
    ("000_d6e4eaf9b4234674", 10): ("abstract-yun-2016-dogs-osteoarthritis", ["dogs"], None),
    ("000_d6e4eaf9b4234674", 11): ("abstract-dehghan-2015-dogs-distraction", ["dogs"], None),
    ("000_d6e4eaf9b4234674", 12): (None, ["rats"], None),
    ("000_d6e4eaf9b4234674", 13): (None, ["cells"], None),
    ("000_d6e4eaf9b4234674", 14): (None, ["none"], 5),
    ("000_d6e4eaf9b4234674", 15): ("abstract-ibrahim-2012-prp-case", ["humans"], 4),
    ("000_d6e4eaf9b4234674", None): (None, ["humans"], 4),
    ("004_9179da5e84f78337", 29): ("abstract-hernigou-2002-bone-marrow-grafting", ["humans"], 4),
    ("004_9179da5e84f78337", 30): (None, ["humans"], 3),
    ("004_9179da5e84f78337", 31): ("abstract-gangji-2005-bone-marrow-cells", ["humans"], 3),
    ("004_9179da5e84f78337", 32): (None, ["humans"], 4),
    ("004_9179da5e84f78337", 33): ("abstract-wang-2010-concentrated-bone-marrow", ["humans"], 4),
    ("004_9179da5e84f78337", 34): ("abstract-pak-2011-adsc-case-series", ["humans"], 4),
}

# Limitations of the case report that every answer quoting it must show.
KEY_LIMITATION_PREFIXES = (
    "Only two patients",
    "Sample: two men",
    "No biopsy was done",
    "MRI results may contain artifacts",
    "Neovascularization was not demonstrated",
    "Short and unequal follow-up",
    "Outcomes are largely patient-reported",
    # the clinic page
    "Clinic web page marketing its own services",
    "Single clinic author; no disclosure",
    "Overstated efficacy claim",
    "Cites an animal study",
    "Relies on a single case report",
)

# Reviewer-noted limitations of abstracts, each backed by a quote from the abstract.
ABSTRACT_LIMITATIONS = {
    "abstract-yun-2016-dogs-osteoarthritis": [
        ("Animal study in dogs with surgically induced knee osteoarthritis, not people with osteonecrosis.", "Beagle dogs"),
    ],
    "abstract-dehghan-2015-dogs-distraction": [
        ("Animal study of limb lengthening in dogs, not people with osteonecrosis.", "Distraction osteogenesis (DO) is a surgical procedure used to generate large volumes of new bone for limb lengthening."),
    ],
    "abstract-guadilla-2012-arthroscopic-prp": [
        ("Describes a surgical technique; the abstract reports no patient outcomes.", "The purpose is to describe a noninvasive arthroscopic procedure as an alternative to open surgery for avascular necrosis of the hip."),
    ],
    "abstract-ibrahim-2012-prp-case": [
        ("A single patient; one case cannot show that a treatment works.",
         "This case report describes a novel nonsurgical approach for treating advanced-stage degenerative AVN of the hip with the use of autologous platelet-rich plasma."),
        ("The authors only suggest a potential use; the report does not show that the treatment works.",
         "The report suggests the potential utility of platelet-rich plasma for the treatment of degenerative AVN."),
    ],
}

CONFLICT_MARKETING = (
    "Written by a clinic that sells the treatments it describes (Prolotherapy, platelet-rich plasma, "
    "stem cell therapy); the page discloses no conflict of interest."
)

FIELD_NAMES = {"journal": "venue", "title": "title", "authors": "authors", "year": "year",
               "doi": "doi", "pmid": "pmid", "n": "n_patients", "study_type": "study_type",
               "volume": "venue", "issue": "venue", "pages": "venue"}


def _unverified(fields: list[str]) -> list[str]:
    return sorted({FIELD_NAMES.get(f, f) for f in fields})


def _first_int(value) -> int | None:
    if isinstance(value, int):
        return value
    m = re.search(r"\b(1[89]\d\d|20\d\d)\b", str(value or ""))
    return int(m.group(1)) if m else None


def _limitations(items: list[dict]) -> list[dict]:
    out = []
    for it in items:
        m = re.match(r"\[(stated|implied)\]\s*(.*)", it["limitation"], re.DOTALL)
        kind = "stated" if m and m.group(1) == "stated" else "reviewer"
        text = m.group(2) if m else it["limitation"]
        out.append({"text": text, "quote": it["quote"], "kind": kind,
                    "key": text.startswith(KEY_LIMITATION_PREFIXES)})
    return out


def _reference_entry(seed: str, ref: dict) -> dict:
    doc_id, subjects, _level = REFERENCE_CURATION[(seed, ref["cited_in"].get("ref_number"))]
    return {
        "number": ref["cited_in"].get("ref_number"),
        "citation": ref["citation"],
        "study_type": ref["study_type"],
        "subjects": subjects,
        "n": ref["n"],
        "doc_id": doc_id if ref.get("abstract") else None,
        "note": ref.get("notes") or None,
    }


def write_doc(out: Path, doc_id: str, text: str, meta: dict) -> None:
    meta = {"id": doc_id, **meta}
    (out / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    (out / f"{doc_id}.meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def import_seeds(shared: Path, out: Path) -> None:
    refs = json.loads((shared / "corpus-sources/references.json").read_text(encoding="utf-8"))
    lims = json.loads((shared / "corpus-sources/limitations.json").read_text(encoding="utf-8"))
    docs = {d["seed_id"]: d for d in refs["documents"]}

    pak = docs["004_9179da5e84f78337"]
    write_doc(out, SEEDS[pak["seed_id"]], (shared / "seeds/004_9179da5e84f78337.txt").read_text(encoding="utf-8"), {
        "title": pak["title"], "authors": pak["authors"], "year": pak["year"],
        "venue": f"{pak['journal']} {pak['volume']}({pak['issue'].split()[0]}):{pak['pages']}",
        "publisher": None, "url": None, "doi": None, "pmid": pak["pmid"],
        "source_type": "research", "study_type": "Case report (2 patients, uncontrolled, no biopsy)",
        "evidence_level": 4, "subjects": ["humans"], "n_patients": 2, "peer_reviewed": True,
        "date_shown": "2012", "date_checked": CHECKED, "conflict_of_interest": None, "partial": None,
        "notes": "Text extracted from a PDF: sections out of order, words hyphenated across lines; the article's "
                 "reference list is not in the extracted text (references 29-34 identified from the text). " + pak["notes"],
        "cited_by": None,
        "references": [_reference_entry(pak["seed_id"], r) for r in refs["references"] if r["cited_in"]["seed_id"] == pak["seed_id"]],
        "limitations": _limitations(lims[pak["seed_id"]]),
        "unverified": _unverified(pak["fields_not_confirmed_in_stored_sources"]),
    })

    clinic = docs["000_d6e4eaf9b4234674"]
    write_doc(out, SEEDS[clinic["seed_id"]], (shared / "seeds/000_d6e4eaf9b4234674.txt").read_text(encoding="utf-8"), {
        "title": clinic["title"], "authors": ["Ross Hauser"], "year": 2017,
        "venue": "Caring Medical website (Prolotherapy news)", "publisher": "Caring Medical",
        "url": clinic["url"], "doi": None, "pmid": None,
        "source_type": "marketing", "study_type": "Clinic website (advertising, not research)",
        "evidence_level": None, "subjects": [], "n_patients": None, "peer_reviewed": False,
        "date_shown": "© 2017 (no publication date on the page)", "date_checked": CHECKED,
        "conflict_of_interest": CONFLICT_MARKETING, "partial": None,
        "notes": clinic["notes"], "cited_by": None,
        "references": [_reference_entry(clinic["seed_id"], r) for r in refs["references"] if r["cited_in"]["seed_id"] == clinic["seed_id"]],
        "limitations": _limitations(lims[clinic["seed_id"]]),
        "unverified": ["year"],
    })

    for ref in refs["references"]:
        if not ref.get("abstract"):
            continue
        seed = ref["cited_in"]["seed_id"]
        doc_id, subjects, level = REFERENCE_CURATION[(seed, ref["cited_in"].get("ref_number"))]
        abstract = ref["abstract"]
        partial = ref["abstract_status"] if ref["abstract_status"] != "full" else None
        limitations = [{"text": t, "quote": q, "kind": "reviewer", "key": True}
                       for t, q in ABSTRACT_LIMITATIONS.get(doc_id, [])]
        venue = ref["journal"]
        write_doc(out, doc_id, abstract, {
            "title": ref["title"], "authors": ref["authors"], "year": ref["year"],
            "venue": venue, "publisher": None, "url": ref["abstract_source"].split()[0] if ref["abstract_source"] else None,
            "doi": ref["doi"], "pmid": ref["pmid"], "source_type": "abstract",
            "study_type": ref["study_type"], "evidence_level": level, "subjects": subjects,
            "n_patients": ref["n"] if "humans" in subjects else None,
            "peer_reviewed": True, "date_shown": str(ref["year"]), "date_checked": CHECKED,
            "conflict_of_interest": None, "partial": partial,
            "notes": ref.get("notes") or None,
            "cited_by": f"{SEEDS[seed]} reference {ref['cited_in'].get('ref_number')}",
            "references": [], "limitations": limitations,
            "unverified": _unverified(ref["fields_not_confirmed_in_stored_sources"]),
        })


def _header(text: str) -> tuple[dict[str, str], str]:
    head, body = text.split("\n---\n", 1)
    fields: dict[str, str] = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields, body


def import_public_domain(shared: Path, out: Path) -> None:
    for path in sorted((shared / "corpus-sources/public-domain").glob("*.txt")):
        fields, body = _header(path.read_text(encoding="utf-8"))
        title = re.sub(r"\s*\(title taken.*\)$", "", fields["Title"])
        date = fields.get("Date", "")
        date_shown = None if date.startswith("not") else re.sub(r"\s*\(.*\)$", "", date)
        partial = fields.get("Partial", "")
        publisher = fields.get("Publisher", "")
        notes = " ".join(v for k, v in fields.items() if k in ("Note", "Sections-included", "Archived-copy", "Retrieved-from"))
        write_doc(out, path.stem, body.lstrip("\n"), {
            "title": title, "authors": [], "year": _first_int(date_shown),
            "venue": None, "publisher": publisher, "url": fields["URL"].split()[0],
            "doi": None, "pmid": None, "source_type": "patient_education",
            "study_type": "Government patient information", "evidence_level": None,
            "subjects": [], "n_patients": None, "peer_reviewed": False,
            "date_shown": date_shown, "date_checked": CHECKED, "conflict_of_interest": None,
            "partial": partial if partial.lower().startswith("yes") else None,
            "notes": notes or None, "cited_by": None, "references": [], "limitations": [],
            "unverified": ["title"] if "title taken" in fields["Title"] else [],
        })


def main(argv: list[str]) -> int:
    shared, out = Path(argv[0]), Path(argv[1])
    if out.exists():
        for p in out.glob("*"):
            p.unlink() if p.is_file() else shutil.rmtree(p)
    out.mkdir(parents=True, exist_ok=True)
    import_seeds(shared, out)
    import_public_domain(shared, out)
    print(f"wrote {len(list(out.glob('*.meta.json')))} documents to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Make a clinic's corpus from public patient pages, to try "Adding documents" end to end (README).

    .venv/bin/python scripts/clinic_example.py ../shared/bench/medquad /tmp/clinic

Writes /tmp/clinic/corpus/ (one page per bone or joint topic of MedQuAD's NIH answers, with a sidecar)
and /tmp/clinic/questions.jsonl: the MedQuAD dev questions those pages answer, MedQuAD-style questions about
each page's topic ("What are the treatments for Gout?"), and as many questions in the same style about
conditions the pages do not cover, each put in the dev or test split by a hash of its text. Then:

    edubot build --corpus /tmp/clinic/corpus
    edubot calibrate --corpus /tmp/clinic/corpus --questions /tmp/clinic/questions.jsonl
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

TOPICS = (
    "Arthritis", "Back Pain", "Bone Density", "Bursitis", "Carpal Tunnel Syndrome", "Fibromyalgia", "Fractures", "Gout",
    "Hip Injuries and Disorders", "Hip Replacement", "Infectious Arthritis", "Juvenile Arthritis",
    "Knee Injuries and Disorders", "Knee Replacement", "Osteoarthritis", "Osteogenesis Imperfecta", "Osteoporosis",
    "Paget's Disease of Bone", "Psoriatic Arthritis", "Rheumatoid Arthritis", "Scoliosis", "Shoulder Injuries and Disorders",
    "Spine Injuries and Disorders", "Sprains and Strains", "Tendinitis", "Whiplash", "Tailbone Disorders", "Bone Grafts",
)


def split_of(text: str) -> str:
    return "dev" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2 == 0 else "test"


def main(medquad: str, out: str) -> None:
    src, dst = Path(medquad), Path(out)
    docs = [json.loads(line) for line in (src / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    by_topic: dict[str, list[dict]] = {}
    for d in docs:
        if d["title"] in TOPICS:
            by_topic.setdefault(d["title"], []).append(d)
    corpus = dst / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    doc_of: dict[str, str] = {}
    for topic, answers in sorted(by_topic.items()):
        doc_id = re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-")
        (corpus / f"{doc_id}.txt").write_text(f"{topic}\n\n" + "\n\n".join(a["text"] for a in answers) + "\n", encoding="utf-8")
        meta = {"id": doc_id, "title": topic, "authors": [], "publisher": "National Institutes of Health", "year": None,
                "source_type": "patient_education", "limitations": [], "unverified": ["year"],
                "notes": "MedQuAD answer text (NIH patient pages, CC BY 4.0), joined per topic"}
        (corpus / f"{doc_id}.meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        for a in answers:
            doc_of[a["_id"]] = doc_id
    queries = {json.loads(line)["_id"]: json.loads(line)["text"] for line in (src / "queries.jsonl").read_text(encoding="utf-8").splitlines()}
    relevant: dict[str, set[str]] = {}
    for line in (src / "qrels" / "dev.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].strip().isdigit() and int(parts[2]) > 0:
            relevant.setdefault(parts[0], set()).add(parts[1])
    answerable = [q for q, ds in relevant.items() if ds & set(doc_of)]
    others = [q for q, ds in relevant.items() if not ds & set(doc_of)]
    others = sorted(others, key=lambda q: hashlib.sha256(q.encode()).hexdigest())[: len(answerable)]
    rows = [(q, queries[q], "answered") for q in answerable] + [(q, queries[q], "no_answer") for q in others]
    templates = ("What is (are) {}?", "What are the symptoms of {}?", "What are the treatments for {}?")
    elsewhere = sorted({d["title"] for d in docs} - set(TOPICS) - {t for t in {d["title"] for d in docs}
                                                                   if any(w in t.lower() for w in ("bone", "joint", "osteo", "arthr"))},
                       key=lambda t: hashlib.sha256(t.encode()).hexdigest())[: len(by_topic)]
    for i, topic in enumerate(sorted(by_topic)):
        for j, t in enumerate(templates):
            rows.append((f"page-{i}-{j}", t.format(topic), "answered"))
            rows.append((f"other-{i}-{j}", t.format(elsewhere[i]), "no_answer"))
    with open(dst / "questions.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({"id": qid, "question": text, "expect": expect, "split": split_of(text)}) + "\n" for qid, text, expect in rows)
    answerable = [r for r in rows if r[2] == "answered"]
    others = [r for r in rows if r[2] == "no_answer"]
    print(f"{len(by_topic)} pages in {corpus}; {len(answerable)} answerable and {len(others)} unanswerable questions "
          f"in {dst / 'questions.jsonl'}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""The latest `edubot eval` and `edubot eval-beir` results, with the questions that failed."""

import json

import streamlit as st

from ui.common import config, disclaimer, md_escape

st.title("Evaluation")
disclaimer()
reports = config().reports_dir

eval_path = reports / "eval.json"
if eval_path.exists():
    report = json.loads(eval_path.read_text())
    m = report["metrics"]
    st.subheader("Question set")
    st.caption(f"{m['questions']} questions, {m['answerable']} answerable · {eval_path}")
    keys = ["hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "abstention_precision", "abstention_recall",
            "urgent_recall", "advice_precision", "advice_recall", "limitations_complete", "status_accuracy"]
    st.dataframe([{"metric": k, "value": m[k]} for k in keys], hide_index=True)
    st.bar_chart({k: m[k] or 0 for k in keys})
    st.subheader(f"Questions that failed ({len(report['failures'])})")
    st.dataframe([{"question": r["question"], "expected": r["expect"], "got": r["status"],
                   "first relevant quote shown": r["first_relevant_rank"],
                   "in the ranking": r.get("retrieval_rank")} for r in report["failures"]], hide_index=True)
else:
    st.info("No evaluation yet: run `edubot eval`.")

beir = sorted(reports.glob("beir-*.json")) if reports.exists() else []
for path in beir:
    r = json.loads(path.read_text())
    st.subheader(md_escape(f"BEIR · {r['dataset']} · {r['split']}"))
    st.caption(md_escape(f"{r['queries']} queries, {r['documents']} documents, default pipeline: {r['default']}"))
    rows = [{"system": name, **vals} for name, vals in r["systems"].items()]
    st.dataframe(rows, hide_index=True)
    st.bar_chart({row["system"]: row["ndcg@10"] for row in rows})

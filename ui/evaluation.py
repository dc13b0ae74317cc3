"""Every evaluation and benchmark that has saved results, with its targets, date and version.

Reads the JSON reports `edubot eval`, `edubot eval-beir` (and any other
command) keep in the reports folder. No file path is shown: the page names
each report by what it measured.
"""

import json
from datetime import UTC, datetime
from importlib import metadata

import altair as alt
import streamlit as st

from ui.access import require_staff
from ui.common import config, md_escape, style

st.set_page_config(page_title="EduBot · Evaluation", layout="wide")
require_staff()
style()
st.title("Evaluation", anchor=False)

# Targets from the issues and README ("Evaluation"); a metric without a target has no line.
QUESTION_TARGETS = {"hit@5": 0.95, "abstention_precision": 0.9, "abstention_recall": 0.9, "urgent_recall": 1.0,
                    "limitations_complete": 1.0}
BEIR_TARGETS = {"nfcorpus": {"ndcg@10": 0.355}}
QUESTION_METRICS = ["hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "retrieval_hit@5", "retrieval_hit@10",
                    "abstention_precision", "abstention_recall", "urgent_recall", "advice_precision", "advice_recall",
                    "limitations_complete", "status_accuracy"]


def run_info(report: dict, path) -> str:
    """When and with which version a report was made: its own fields where it records them."""
    when = report.get("run_at") or report.get("date")
    if not when:
        saved = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        when = saved.strftime("%Y-%m-%d %H:%M UTC") + " (when the report was saved)"
    version = report.get("version") or report.get("edubot_version")
    if not version:
        try:
            version = metadata.version("edubot") + " (installed now; the report does not record its version)"
        except metadata.PackageNotFoundError:
            version = "not recorded"
    return f"Run: {when} · EduBot version {version}"


def bars(values: dict, targets: dict, title: str) -> alt.LayerChart:
    """Horizontal bars (long metric names stay readable) with a tick at each target."""
    data = [{"metric": k, "value": float(v), "target": targets.get(k)} for k, v in values.items() if v is not None]
    base = alt.Chart(alt.Data(values=data))
    bar = base.mark_bar(color="#2f4a8a").encode(
        y=alt.Y("metric:N", sort=None, title=None, axis=alt.Axis(labelLimit=400)),
        x=alt.X("value:Q", title=title, scale=alt.Scale(domain=[0, 1])),
        tooltip=["metric:N", "value:Q", "target:Q"])
    goal = base.transform_filter("datum.target != null").mark_tick(color="#b3261e", thickness=3, size=22).encode(
        y=alt.Y("metric:N", sort=None), x="target:Q")
    return (bar + goal).properties(height=max(120, 28 * len(data)))


reports = config().reports_dir
found = False

eval_path = reports / "eval.json"
if eval_path.exists():
    found = True
    report = json.loads(eval_path.read_text(encoding="utf-8"))
    m = report["metrics"]
    st.subheader("EduBot's question set (`edubot eval`)")
    st.caption(md_escape(f"{m['questions']} questions, {m['answerable']} answerable · {run_info(report, eval_path)}"))
    st.dataframe([{"metric": k, "value": m.get(k), "target": QUESTION_TARGETS.get(k),
                   "met": None if QUESTION_TARGETS.get(k) is None or m.get(k) is None else m[k] >= QUESTION_TARGETS[k]}
                  for k in QUESTION_METRICS if k in m], hide_index=True)
    st.altair_chart(bars({k: m.get(k) for k in QUESTION_METRICS if k in m}, QUESTION_TARGETS,
                         "value (red tick: target)"), width="stretch")
    failures = report.get("failures", [])
    st.subheader(f"Questions that failed ({len(failures)})")
    st.dataframe([{"question": r["question"], "expected": r["expect"], "got": r["status"],
                   "first relevant quote shown": r.get("first_relevant_rank"),
                   "in the ranking": r.get("retrieval_rank")} for r in failures], hide_index=True)

for path in sorted(reports.glob("beir-*.json")) if reports.exists() else []:
    found = True
    r = json.loads(path.read_text(encoding="utf-8"))
    dataset = str(r.get("dataset", "?"))
    st.subheader(md_escape(f"BEIR · {dataset} · {r.get('split', '?')} (`edubot eval-beir`)"))
    st.caption(md_escape(f"{r.get('queries')} queries, {r.get('documents')} documents, default pipeline: "
                         f"{r.get('default')} · {run_info(r, path)}"))
    rows = [{"system": name, **vals} for name, vals in r.get("systems", {}).items()]
    st.dataframe(rows, hide_index=True)
    target = BEIR_TARGETS.get(dataset.lower(), {}).get("ndcg@10")
    st.altair_chart(bars({row["system"]: row.get("ndcg@10") for row in rows},
                         {row["system"]: target for row in rows} if target else {},
                         "nDCG@10" + (f" (red tick: target {target})" if target else "")), width="stretch")

known = {"eval.json"}
for path in sorted(reports.glob("*.json")) if reports.exists() else []:
    if path.name in known or path.name.startswith("beir-"):
        continue
    found = True  # any other benchmark's saved results (e.g. `edubot bench`), shown as they are
    r = json.loads(path.read_text(encoding="utf-8"))
    st.subheader(md_escape(f"{path.stem.replace('-', ' ').capitalize()}"))
    st.caption(md_escape(run_info(r, path) if isinstance(r, dict) else ""))
    st.json(r, expanded=False)

if not found:
    st.info("No results yet: run `edubot eval` or `edubot eval-beir DIR` and they appear here.")

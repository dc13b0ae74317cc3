"""The staff lookup's pure pieces: first words, highlighted matches, the CSV file and its name."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from ui.common import h

_WORD = re.compile(r"[A-Za-z0-9]{3,}")
_IGNORE = frozenset("the and for with what does did was were are how why who when which this that from have has".split())  # noqa: SIM905


def first_words(text: str, n: int = 14) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def highlighted(text: str, query: str) -> str:
    """The passage as HTML with the query's words marked (every piece of text escaped)."""
    terms = sorted({w.lower().rstrip("s") for w in _WORD.findall(query) if w.lower() not in _IGNORE}, key=len, reverse=True)
    if not terms:
        return "<div class='eb-docview'>" + h(text) + "</div>"
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out += [h(text[last:m.start()]), "<mark>", h(m.group(0)), "</mark>"]
        last = m.end()
    out.append(h(text[last:]))
    return "<div class='eb-docview'>" + "".join(out) + "</div>"


def results_csv(rows: list[dict], query: str, filters: str) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs keep "—" as "—"), each row with its query and filters."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["query", "filters", *rows[0]] if rows else ["query", "filters"])
    writer.writeheader()
    writer.writerows({"query": query, "filters": filters, **r} for r in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_name(day: date) -> str:
    return f"edubot-search-{day.isoformat()}.csv"

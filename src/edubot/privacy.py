"""Keeping what patients type private.

By default nothing a user types is written anywhere. Staff may turn on an
analytics log (``EDUBOT_ANALYTICS_LOG=path``); it records each question only
after identifiers are removed, with the answer's status and the passage ids shown.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_NAME = r"[A-Z][a-zA-Z'’-]+(?:\s+[A-Z][a-zA-Z'’-]+){0,3}"
_STREET = r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|parkway)"

# Order matters: specific patterns first, so a date of birth is not half-eaten by the phone pattern.
REDACTIONS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b(?:my name is|i am called|i'm called|this is|name:)\s+" + _NAME, re.IGNORECASE), "[name]"),
    (re.compile(r"\b(?:[Ii] am|[Ii]['’]m)\s+(?=[A-Z][a-z]+\b(?:\s+[A-Z][a-z]+)?\s*(?:[,.]|and|$))" + _NAME), "[name]"),
    (re.compile(r"\b(?:born on|born|dob|d\.o\.b\.?|date of birth)\s*[:\-]?\s*(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|"
                + _MONTHS + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTHS + r"\.?,?\s+\d{4})", re.IGNORECASE),
     "[date of birth]"),
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b"), "[date]"),
    (re.compile(r"\b(?:mrn|medical record(?: number)?|record (?:no|number|#)|patient (?:id|number|no)|chart (?:no|number))\s*[:#]?\s*[A-Z0-9-]{4,}\b", re.IGNORECASE),
     "[record number]"),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[id number]"),
    (re.compile(r"(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\b\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b"), "[phone]"),
    (re.compile(r"\b\d{1,6}\s+(?:[A-Za-z0-9.'-]+\s+){1,4}" + _STREET + r"\b\.?(?:,?\s*(?:apt|suite|unit|#)\s*\w+)?", re.IGNORECASE), "[address]"),
    (re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"), "[postcode]"),
]


def redact(text: str) -> str:
    """The question with names, emails, phone numbers, dates of birth, record numbers and addresses removed."""
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class AnalyticsLog:
    """An append-only JSON-lines log of redacted questions; only ever created when staff ask for it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, question: str, status: str, passage_ids: list[str], feedback: str | None = None,
               reason: str | None = None) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "question": redact(question),
            "status": status,
            "passages": passage_ids,
        }
        if feedback is not None:
            entry["feedback"] = feedback
        if reason is not None:  # one of the app's fixed reasons (templates.FEEDBACK_REASONS), never free text
            entry["reason"] = reason
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def analytics_log(path: str | None) -> AnalyticsLog | None:
    """The log staff turned on, or None (the default: nothing is written)."""
    return AnalyticsLog(Path(path)) if path else None

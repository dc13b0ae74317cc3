"""Every fixed sentence a user can see, and nothing else.

This is the one reviewed place for EduBot's own words. Everything else shown
to a patient is a verbatim quote from the corpus. Changing text here changes
what patients read: have it reviewed.
"""

from __future__ import annotations

from .corpus import DocMeta, Reference

DISCLAIMER = (
    "EduBot is for education only and is not medical advice. It shows quotes from published sources; "
    "please talk to your own clinician about your care."
)

ANSWERED = "Here is what my sources say. Each quote shows where it comes from and how strong that evidence is."

NO_ANSWER = "I could not find anything in my sources that answers this question. Please ask your clinician."

NOT_ENGLISH = (
    "I can only read questions in English, and my sources are in English. "
    "Please ask your clinician, or try asking in English."
)

SUGGESTIONS_INTRO = "Here are some questions my sources can answer:"

URGENT = (
    "This may be an emergency. Call 911 (or your local emergency number) now, or go to the nearest emergency department. "
    "If you are thinking about suicide or harming yourself, call or text 988 (Suicide & Crisis Lifeline, US) now. "
    "EduBot cannot help in an emergency."
)

URGENT_HELP = (
    "If this is an emergency, call 911 (or your local emergency number) now. "
    "If you are thinking about suicide or harming yourself, call or text 988 (US)."
)
# The same line for messages that may not be in English (Spanish, the most common other language here).
URGENT_HELP_OTHER_LANGUAGES = "Si es una emergencia, llame al 911 (o al número de emergencias de su país) ahora."


def with_help(message: str, other_languages: bool = False) -> str:
    """A non-emergency reply with the fixed line on where to get urgent help, so a missed emergency still points somewhere."""
    return f"{message} {URGENT_HELP}" + (f" {URGENT_HELP_OTHER_LANGUAGES}" if other_languages else "")


PERSONAL_ADVICE = (
    "I cannot advise on your personal care, such as which treatment to choose, how much of a medicine to take, "
    "or whether to stop or change a medicine. Please ask your clinician."
)

PERSONAL_ADVICE_WITH_PASSAGES = (PERSONAL_ADVICE + " " + URGENT_HELP
                                 + " Below is general educational information from my sources.")

INTERNAL_ERROR = "Something went wrong while answering this question. Please try again, or ask your clinician."
INVALID_EMPTY = "Please type a question."
INVALID_TOO_LONG = "Your question is {length} characters long; the limit is {limit}. Please shorten it."
INVALID_UNREADABLE = "I could not find a question in that. Please type your question in words."

# Questions the corpus answers (checked by the evaluation set's tests).
SUGGESTED_QUESTIONS = (
    "What is osteonecrosis?",
    "What is core decompression?",
    "Are stem cell treatments approved by the FDA?",
    "Was a biopsy done in the stem cell case report?",
)

# Labels around the quotes, in the app and in `edubot ask`.
APP_TITLE = "EduBot"
STARTERS_INTRO = "Try one of these questions:"
SOURCES_PANEL = "Every source EduBot can quote"
CHAT_PLACEHOLDER = "Ask about osteonecrosis, core decompression or stem cell treatments"
LOADING = "Preparing EduBot's sources…"
BUILDING = "Building the search index (first start, or the corpus changed)…"
BUILD_PROGRESS = "Indexing passages: {done} of {total}"
READY = "EduBot is ready"
LIMITATIONS_TITLE = "Limitations of these sources"
CONFLICT_NOTE = "Conflict of interest: {note}"
KEY_SENTENCE = "Key sentence"
SOURCE_LABEL = "Source"

GROUP_TITLES = {
    "research": "Research",
    "patient_education": "Patient information",
    "marketing": "Clinic website · advertising, not research",
}

LIMITATION_KINDS = {
    "stated": "stated by the authors",
    "reviewer": "noted by our reviewers",
}

UNVERIFIED_NOTE = "Not verified: {fields}"
PARTIAL_NOTE = "Partial copy of the source"


def group_of(source_type: str) -> str:
    """Research findings and abstracts together; marketing always on its own."""
    return {"research": "research", "abstract": "research"}.get(source_type, source_type)


def _study_kind(study_type: str | None) -> str:
    if not study_type:
        return ""
    short = study_type.split("(")[0].split(";")[0].split(":")[0].strip()
    return short[:1].lower() + short[1:] if short else ""


def _subjects_phrase(subjects: tuple[str, ...], n: int | None) -> str:
    animals = [s for s in subjects if s in ("rats", "mice", "dogs", "animals")]
    if animals:
        return f"animal study ({', '.join(animals)})"
    if subjects == ("cells",):
        return "laboratory study (cells)"
    if n:
        return f"{n} patient" + ("" if n == 1 else "s")
    return ""


def evidence_label(meta: DocMeta) -> str:
    """e.g. "Peer-reviewed case report · 2 patients · level 4", "Clinic website · marketing"."""
    if meta.source_type == "marketing":
        return "Clinic website · marketing"
    if meta.source_type == "patient_education":
        label = "Government patient information" if meta.publisher and any(
            w in meta.publisher for w in ("National Institute", "Food and Drug", "National Library", "U.S.")) else "Patient information"
        return label + (" · partial copy" if meta.partial else "")
    parts = []
    kind = _study_kind(meta.study_type)
    if meta.source_type == "research":
        parts.append(("Peer-reviewed " if meta.peer_reviewed else "") + (kind or "research"))
    else:
        parts.append("Abstract")
        if kind:
            parts.append(kind)
    who = _subjects_phrase(meta.subjects, meta.n_patients)
    if who:
        parts.append(who)
    if meta.evidence_level:
        parts.append(f"level {meta.evidence_level}")
    return " · ".join(parts)


def cites_label(ref: Reference) -> str:
    """What a cited reference actually studied, e.g. "cites: case report, 1 patient"."""
    bits = [_study_kind(ref.study_type) or "study of unknown design"]
    who = _subjects_phrase(ref.subjects, ref.n)
    if who:
        bits.append(who)
    return "cites: " + ", ".join(bits)


def citation_text(meta: DocMeta, section: str | None = None, page: int | None = None) -> str:
    """A copy-ready citation: authors (year). Title. Venue. Section, page."""
    authors = ", ".join(meta.authors) if meta.authors else (meta.publisher or "Unknown author")
    year = meta.year or "n.d."
    parts = [f"{authors} ({year}). {meta.title.rstrip('.')}."]
    if meta.venue:
        parts.append(f"{meta.venue.rstrip('.')}.")
    elif meta.publisher and meta.authors:
        parts.append(f"{meta.publisher}.")
    if meta.doi:
        parts.append(f"doi:{meta.doi}.")
    elif meta.pmid:
        parts.append(f"PMID {meta.pmid}.")
    elif meta.url:
        parts.append(meta.url)
    where = [w for w in (f"Section: {section}" if section else "", f"page {page}" if page else "") if w]
    if where:
        parts.append(", ".join(where) + ".")
    return " ".join(parts)


# ---------------------------------------------------------------- the patient app: short answers in plain words

SPINNER = "Looking through EduBot's sources…"
NEW_CHAT = "New chat"
URGENT_HELP_LINE = URGENT_HELP  # the same fixed line, always beside the chat input
URGENT_BANNER_DISMISS = "I have read this"
READ_WITH_EARLIER = "I read this together with your earlier question: “{question}”"
ASK_ON_ITS_OWN = "Ask it on its own instead"
MORE_SOURCES = "More sources ({n})"
MORE_FROM_SOURCE = "{n} more from this source"
SHOW_IN_DOCUMENT = "Show in document"
IN_DOCUMENT_CAPTION = "The quote, highlighted, in its paragraph of the source"
SOURCE_LINKS = {"pubmed": "Open on PubMed", "doi": "Open the journal page", "url": "Open the source page"}
KEY_LIMITS = "Limits of this source"
ALL_LIMITS = "All {n} limits of this source, in full"
ALSO_NOTED = "Also noted: {text}"
LIMIT_BY = {"stated": "the authors say", "reviewer": "our reviewers say"}
CITED_REFERENCE = "What reference [{number}] studied: {label}"
MARKETING_CARD = "Advertising: a clinic promoting treatments it sells. Not research."
CONFLICT_WARNING = "Conflict of interest: {note}"
FEEDBACK_PROMPT = "Was this helpful?"
FEEDBACK_UP = "Helpful"
FEEDBACK_DOWN = "Not helpful"
FEEDBACK_THANKS = "Thank you, your feedback was noted."
FEEDBACK_REASON = "What was wrong? (optional)"
FEEDBACK_REASONS = (
    "It did not answer my question",
    "Hard to understand",
    "Too long",
    "The sources look wrong",
    "Something else",
)
STARTERS_LABEL = "Questions you can ask"

# Plain words for the strength of a source, by its Oxford CEBM level (1 strongest).
EVIDENCE_STRENGTH = {
    1: "strongest kind of evidence",
    2: "strong evidence",
    3: "moderate evidence",
    4: "weak evidence",
    5: "very weak evidence",
}
NOT_IN_PEOPLE = "not tested in people"
STRENGTH_NOT_RATED = "strength not rated"

# Study designs in plain words: the first keyword found in a sidecar's study_type decides.
STUDY_KINDS = (
    ("meta-analysis", "Review combining several studies"),
    ("systematic review", "Review combining several studies"),
    ("narrative review", "Overview article, no new patient data"),
    ("randomi", "Randomised trial"),
    ("trial", "Small controlled trial"),
    ("cohort", "Study comparing groups"),
    ("case series", "Case series"),
    ("case report", "Case report"),
    ("technique", "Description of a surgical technique"),
    ("technical note", "Description of a surgical technique"),
    ("review", "Review article"),
    ("animal", "Animal study"),
)


def plain_evidence_label(meta: DocMeta) -> str:
    """A patient-readable evidence label, e.g. "Case report of 2 patients — weak evidence".

    Built only from reviewed sidecar fields (study type, subjects, number of
    patients, evidence level) and the fixed words above.
    """
    if meta.source_type == "marketing":
        return "Clinic advertising — not research"
    if meta.source_type == "patient_education":
        official = meta.publisher and any(
            w in meta.publisher for w in ("National Institute", "Food and Drug", "National Library", "U.S."))
        return ("Government health information" if official else "Health information") + " — general facts, not a study"
    study = (meta.study_type or "").lower()
    kind = next((words for key, words in STUDY_KINDS if key in study), "Study")
    animals = [s for s in meta.subjects if s in ("rats", "mice", "dogs", "animals")]
    if animals:
        return f"Animal study in {', '.join(animals)} — {NOT_IN_PEOPLE}"
    if tuple(meta.subjects) == ("cells",):
        return f"Laboratory study of cells — {NOT_IN_PEOPLE}"
    who = f" of {meta.n_patients} patient" + ("" if meta.n_patients == 1 else "s") if meta.n_patients else ""
    strength = EVIDENCE_STRENGTH.get(meta.evidence_level or 0, STRENGTH_NOT_RATED)
    return f"{kind}{who} — {strength}"
CITED_REFERENCES = "References this quote cites ({n})"
MARKETING_CHIP = "Advertising, not research"


def quote_location(section: str | None, page: int | None) -> str:
    """Where in its source a quote stands, e.g. "From the section “Discussion”, page 4"."""
    parts = [f"From the section “{section}”" if section else "", f"page {page}" if page else ""]
    return ", ".join(p for p in parts if p)
SOURCE_DATES = "Date on the source: {shown} · last checked by us: {checked}"
DATE_NOT_SHOWN = "not shown"

"""Who may see the staff pages: a session that gave the staff password from the environment.

The password is ``EDUBOT_STAFF_PASSWORD``, read where the app starts (I/O at
the edge) and compared in constant time. With no password set, the staff
pages do not exist in the patient app at all.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

PASSWORD_ENV = "EDUBOT_STAFF_PASSWORD"


def staff_password() -> str | None:
    return os.environ.get(PASSWORD_ENV) or None


def password_matches(entered: str, expected: str | None) -> bool:
    """Constant-time comparison; no password configured means no one matches."""
    if not expected:
        return False
    return hmac.compare_digest((entered or "").encode("utf-8"), expected.encode("utf-8"))


def is_staff() -> bool:
    return bool(st.session_state.get("staff")) and staff_password() is not None


def require_staff() -> None:
    """Stop a page here unless this session signed in as staff."""
    if not is_staff():
        st.error("This page is for clinic staff.")
        st.stop()

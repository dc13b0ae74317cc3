"""EduBot's web app: a thin Streamlit layer over the edubot library.

    bash scripts/start.sh          # loads the engine, then serves (python -m ui.serve)
    .venv/bin/streamlit run app.py # also works; the engine then loads on the first visit

Patients see only the chat (with its source list). The staff pages exist only
for a session that signed in at /staff-sign-in with EDUBOT_STAFF_PASSWORD.
"""

import streamlit as st

from ui.access import is_staff

st.set_page_config(page_title="EduBot", page_icon="📚", layout="centered")
chat = st.Page("ui/chat.py", title="Ask EduBot", default=True)
sign_in = st.Page("ui/signin.py", title="Staff sign-in", url_path="staff-sign-in")
if is_staff():
    page = st.navigation([chat, st.Page("ui/staff.py", title="Staff lookup", url_path="staff"),
                          st.Page("ui/evaluation.py", title="Evaluation", url_path="evaluation"), sign_in])
else:
    page = st.navigation([chat, sign_in], position="hidden")
page.run()

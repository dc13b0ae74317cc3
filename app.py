"""EduBot's web app: a thin Streamlit layer over the edubot library.

    .venv/bin/streamlit run app.py
"""

import streamlit as st

st.set_page_config(page_title="EduBot", page_icon="📚", layout="wide")
page = st.navigation([
    st.Page("ui/chat.py", title="Ask EduBot", default=True),
    st.Page("ui/staff.py", title="Staff lookup"),
    st.Page("ui/evaluation.py", title="Evaluation"),
])
page.run()

"""Staff sign-in (reached only by its address, /staff-sign-in; patients never see a link to it)."""

import time

import streamlit as st

from ui.access import PASSWORD_ENV, is_staff, password_matches, staff_password
from ui.common import style

style()
st.title("Staff sign-in", anchor=False)
if staff_password() is None:
    st.info(f"Staff pages are turned off on this server. Start it with {PASSWORD_ENV} set to turn them on.")
elif is_staff():
    st.success("Signed in as staff: the Staff lookup and Evaluation pages are in the menu.")
    if st.button("Sign out"):
        st.session_state["staff"] = False
        st.rerun()
else:
    with st.form("sign-in"):
        entered = st.text_input("Staff password", type="password")
        if st.form_submit_button("Sign in"):
            if password_matches(entered, staff_password()):
                st.session_state["staff"] = True
                st.rerun()
            time.sleep(1.0)  # slows guessing
            st.error("That password is not right.")

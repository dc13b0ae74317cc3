"""End to end: `streamlit run` on a loopback port, driven by Debian's headless Chromium.

scripts/test.sh (and so CI) installs the chromium and chromium-driver packages when missing.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from edubot.config import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(built):
    port = _free_port()
    log = open(ARTIFACTS.mkdir(exist_ok=True) or ARTIFACTS / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start; see test-artifacts/streamlit.log")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture()
def browser(tmp_path):
    assert os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), \
        "Chromium is missing: scripts/test.sh installs Debian's chromium and chromium-driver"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def test_ask_in_a_real_browser(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 120)
    browser.get(server)
    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")))
    box.send_keys("stem cell therapy for avascular necrosis of the hip", Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Limitations of these sources"))
    time.sleep(1)
    body = browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(ARTIFACTS / "e2e-chat.png"))
    assert "Peer-reviewed case report · 2 patients · level 4" in body or "Abstract ·" in body
    assert "Clinic website · advertising, not research" in body  # the marketing label
    assert re.search(r"\(\d{4}\)\. .+ Section: ", body)  # a citation
    assert "Limitations of these sources" in body
    assert "educational" in body.lower() or "education only" in body.lower()
    assert "adipose" in body.lower() or "stem cell" in body.lower()  # a quoted passage
    # what the patient typed is in no server log
    log = (ARTIFACTS / "streamlit.log").read_text()
    assert "avascular necrosis of the hip" not in log


def test_simultaneous_sessions_share_one_engine(server, browser):
    """Three tabs open at once on a fresh server: three sessions, one model and index load."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server)
    for _ in range(2):
        browser.switch_to.new_window("tab")
        browser.get(server)
    for handle in browser.window_handles:
        browser.switch_to.window(handle)
        WebDriverWait(browser, 120).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")))
    log = (ARTIFACTS / "streamlit.log").read_text()
    assert log.count("edubot: engine loaded") == 1

#!/usr/bin/env python3
"""End-to-end test of the web workstation in a real headless Chromium.

Builds an archive from samples/ with the build's `chartdesk ingest`, creates
users with `chartdesk users`, starts `chartdesk web` on a free loopback port
and drives the screens with Selenium (Debian's python3-selenium and
chromium-driver): log in, search, open a hit and check that the highlight
box lies over the hit word on the page image, open the chart, resolve a
review item and find its audit entry in the Audit screen, see a restricted
document refused to a user without the grant, and be logged out after the
idle timeout. Saves a screenshot of every screen into CD_E2E_OUT/screenshots.

Exit status: 0 passed, 1 failed, 77 skipped (meson's convention) when
`chartdesk web`, Selenium, Chromium or chromedriver is missing.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
WAIT = 60  # seconds any one thing may take to appear on a loaded machine


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def fail(why):
    raise AssertionError(why)


CHARTDESK = os.environ.get("CD_CHARTDESK")
SAMPLES = os.environ.get("CD_SAMPLES")
OUT = os.environ.get("CD_E2E_OUT") or tempfile.gettempdir()
if not CHARTDESK or not os.access(CHARTDESK, os.X_OK):
    skip(f"CD_CHARTDESK does not name the chartdesk binary ({CHARTDESK!r}); run through meson test")
if not SAMPLES or not os.path.isdir(SAMPLES):
    skip(f"CD_SAMPLES does not name the samples folder ({SAMPLES!r})")

probe = subprocess.run([CHARTDESK, "web", "--help"], capture_output=True, text=True)
if probe.returncode != 0 or "--listen" not in probe.stdout + probe.stderr:
    skip("`chartdesk web` does not exist in this build yet (the web server, issue 15): "
         + (probe.stderr.strip().splitlines() or ["no output"])[0])

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    skip(f"Selenium is not installed for {sys.executable} ({e}): apt-get install python3-selenium")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
if not CHROMIUM or not DRIVER:
    skip("chromium and chromium-driver are needed: apt-get install chromium chromium-driver")

PASSWORD = "e2e-correct-horse-battery"
# a saved search's name is the user's own text: markup in it must show as text
XSS_NAME = "<img src=x onerror=window.cdXss=1> pneumonia"
USERS = {
    # login: roles
    "ann": ["archivist", "restricted"],
    "bob": ["archivist"],
    "ida": ["indexer"],
    "aud": ["auditor"],
    "eve": ["scanner"],   # reads a chart only by breaking the glass
}


def run(args, stdin=None, ok=(0,)):
    r = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if r.returncode not in ok:
        fail(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r.stdout


class Server:
    """`chartdesk web` in the foreground, on a port the system picks; the
    URL is the line it prints on stdout."""

    def __init__(self, work, archive, users, idle, taxonomy, name):
        env = dict(os.environ, CHARTDESK_TAXONOMY=taxonomy)
        self.log_path = os.path.join(work, f"web-{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [CHARTDESK, "web", "--archive", archive, "--listen", "127.0.0.1:0", "--users", users,
             "--idle-timeout", str(idle)],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        self.url = None
        found = threading.Event()

        def read():
            for line in self.proc.stdout:
                m = re.search(r"https?://[^\s]+", line)
                if m and not self.url:
                    self.url = m.group(0).rstrip("/") + "/"
                    found.set()
        threading.Thread(target=read, daemon=True).start()
        if not found.wait(WAIT) or self.proc.poll() is not None:
            self.stop()
            fail(f"`chartdesk web` printed no URL within {WAIT} s; its log:\n" + open(self.log_path).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Browser:
    def __init__(self, work):
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1600,1000", "--force-device-scale-factor=1", "--lang=en-US",
                  f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=work)}"]:
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.d = webdriver.Chrome(service=Service(DRIVER), options=opts)
        self.d.set_script_timeout(WAIT)
        self.shots = os.path.join(OUT, "screenshots")
        os.makedirs(self.shots, exist_ok=True)

    def wait(self, what, fn, timeout=WAIT):
        try:
            # screens redraw: an element found a moment ago may be gone
            return WebDriverWait(self.d, timeout, poll_frequency=0.2,
                                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                                 ).until(lambda d: fn())
        except TimeoutException:
            self.shot("failure")
            fail(f"waited {timeout} s for {what}; page text:\n{self.d.find_element(By.TAG_NAME, 'body').text[:2000]}"
                 f"\nbrowser log:\n{self.console()}")

    def el(self, css):
        found = self.d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def need(self, css, what=None):
        return self.wait(what or css, lambda: self.el(css) if self.el(css) and self.el(css).is_displayed() else None)

    def images_loaded(self, css):
        """Waits until every image matching css has loaded (for screenshots)."""
        self.wait(f"images {css} to load", lambda: self.d.execute_script(
            "const i = [...document.querySelectorAll(arguments[0])];"
            "return i.length > 0 && i.every(x => x.complete && x.naturalWidth > 0);", css))

    def shot(self, name):
        path = os.path.join(self.shots, f"{name}.png")
        self.d.save_screenshot(path)
        return path

    def console(self):
        try:
            return "\n".join(f"{e['level']} {e['message']}" for e in self.d.get_log("browser"))
        except Exception:  # the log is a Chromium extension; best effort
            return ""

    def fetch(self, path):
        """GET path from the page (with its cookie): [status, body text]."""
        return self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin', cache: 'no-store'})"
            ".then(async r => done([r.status, await r.text()])).catch(e => done([0, String(e)]));", path)

    def quit(self):
        self.d.quit()


def login(b, url, user, password=PASSWORD):
    b.d.get(url + "#/login")
    b.need("#login-user", "the login form")
    b.el("#login-user").clear()
    b.el("#login-user").send_keys(user)
    b.el("#login-password").send_keys(password)
    b.el("#login-submit").click()
    b.need("#topbar #logout", f"{user} logged in")


def logout(b):
    b.el("#logout").click()
    b.need("#login-form", "the login form after logging out")


def main():
    work = tempfile.mkdtemp(prefix="e2e-web-", dir=OUT)
    print("work folder (kept if the test fails):", work)
    archive = os.path.join(work, "samples.archive")
    users = os.path.join(work, "users.conf")

    run([CHARTDESK, "mpi", "import", archive, os.path.join(SAMPLES, "mpi.csv")])
    run([CHARTDESK, "ingest", "-q", archive, SAMPLES], ok=(0, 3))
    docs = [json.loads(line) for line in run([CHARTDESK, "export", "--json", "--words", archive]).splitlines()]
    docs = [d for d in docs if "pages" in d]

    def doc_with(word):
        for d in docs:
            for p in d["pages"]:
                if any(w[6].lower().strip(".,;:") == word for w in p.get("words", [])):
                    return d, p
        fail(f"no archived page of the samples has the word {word!r}")
    hit_doc, hit_page = doc_with("pneumonia")
    # a type other than the search hit's is made restricted for the server
    restricted_doc = next((d for d in docs if d["type"] == "consent-form"), None) or \
        next(d for d in docs if d["type"] and d["type"] != hit_doc["type"] and d["patient"])
    restricted_type = restricted_doc["type"]
    taxonomy_src = os.environ.get("CHARTDESK_TAXONOMY")
    taxonomy = os.path.join(work, "taxonomy.conf")
    text = open(taxonomy_src).read()
    if f"[{restricted_type}]\n" not in text:
        fail(f"{taxonomy_src} has no group [{restricted_type}]")
    open(taxonomy, "w").write(text.replace(f"[{restricted_type}]\n", f"[{restricted_type}]\nrestricted=true\n", 1))
    review_items = json.loads(run([CHARTDESK, "review", "list", "--json", archive]) or "[]")
    if isinstance(review_items, dict):
        review_items = review_items.get("items", [])
    if not review_items:
        fail("the samples left nothing in the review queue; the review scenario needs an item")

    for login_name, roles in USERS.items():
        args = [CHARTDESK, "users", "--users", users, "add", login_name, "--full-name", login_name.title() + " E2e",
                "--password-stdin"]
        for r in roles:
            args += ["--role", r]
        run(args, stdin=PASSWORD + "\n")

    run([CHARTDESK, "users", "--users", users, "break-glass", "eve", "--reason", "e2e: ED, patient unconscious",
         "--minutes", "60"])

    server = Server(work, archive, users, 900, taxonomy, "main")
    idle_server = None
    passed = False
    b = Browser(work)
    try:
        url = server.url

        # --- log in: a wrong password is refused, the right one opens Find
        b.d.get(url)
        b.need("#login-form", "the login screen")
        b.shot("01-login")
        b.el("#login-user").send_keys("ann")
        b.el("#login-password").send_keys("not-the-password")
        b.el("#login-submit").click()
        err = b.need("#login-error", "the wrong-password message")
        if "wrong" not in err.text.lower():
            fail(f"a wrong password shows {err.text!r}")
        login(b, url, "ann")
        b.need("#find-q", "the Find screen after login")

        # --- search: hits with the word highlighted in the snippet, facets
        b.el("#find-q").send_keys("pneumonia", Keys.ENTER)
        link = b.need(f'.hit[data-document="{hit_doc["id"]}"] .hit-link', "the pneumonia hit")
        marks = [m.text.lower() for m in b.d.find_elements(By.CSS_SELECTOR, ".hit .snippet mark")]
        if not any("pneumonia" in m for m in marks):
            fail(f"no snippet highlights 'pneumonia' (marks: {marks})")
        if not b.d.find_elements(By.CSS_SELECTOR, ".facet .facet-item"):
            fail("the search shows no facet counts")
        b.shot("02-find")
        # saved searches: this one saved and listed, its name (markup) as text
        b.need('[data-action="save-search"]').click()
        name = b.need("#ask-text", "the saved search's name")
        name.clear()
        name.send_keys(XSS_NAME)
        b.need('dialog [data-action="confirm"]').click()
        b.wait("the saved search listed", lambda: any(
            e.text == XSS_NAME for e in b.d.find_elements(By.CSS_SELECTOR, ".saved-link")))
        if b.d.find_elements(By.CSS_SELECTOR, ".saved img") or b.d.execute_script("return window.cdXss"):
            fail("a saved search's name was taken as markup")
        link = b.need(f'.hit[data-document="{hit_doc["id"]}"] .hit-link', "the pneumonia hit")

        # --- open the hit: the box over the page image covers the word's box
        link.click()
        b.need(".page-image", "the page image")
        b.images_loaded(".page-image")
        b.images_loaded(".thumb:first-child img")
        box = b.need(".hit-box", "a hit box over the page")
        words = json.loads(b.fetch(f"/api/v1/pages/{hit_page['id']}/words")[1])

        def check_boxes(label, turned=False):
            # turned right a quarter: the image's box on screen is the turned
            # page, and a word at (x, y, w, h) lies at (H - y - h, x, h, w)
            geo = b.d.execute_script("""
                const img = document.querySelector('.page-image').getBoundingClientRect();
                return {img: [img.left, img.top, img.width, img.height],
                        boxes: [...document.querySelectorAll('.hit-box')].map(e => {
                          const r = e.getBoundingClientRect();
                          return [r.left, r.top, r.width, r.height, e.dataset.text]; })};""")
            il, it, iw, ih = geo["img"]
            scale = (ih if turned else iw) / words["width"]
            targets = [w for w in words["words"] if re.sub(r"\W", "", w["text"].lower()) == "pneumonia"]
            if not targets or not geo["boxes"]:
                fail(f"{label}: no word 'pneumonia' ({len(targets)}) or no hit box ({len(geo['boxes'])})")
            for w in targets:
                if turned:
                    want = [il + iw - (w["y"] + w["h"]) * scale, it + w["x"] * scale, w["h"] * scale, w["w"] * scale]
                else:
                    want = [il + w["x"] * scale, it + w["y"] * scale, w["w"] * scale, w["h"] * scale]
                if not any(all(abs(a - e) <= 1.5 for a, e in zip(bx[:4], want)) for bx in geo["boxes"]):
                    fail(f"{label}: no hit box lies over the word box {w} scaled to {want}; boxes {geo['boxes']}, "
                         f"image {geo['img']}")
            for bx in geo["boxes"]:
                if bx[0] < il - 1 or bx[1] < it - 1 or bx[0] + bx[2] > il + iw + 1 or bx[1] + bx[3] > it + ih + 1:
                    fail(f"{label}: hit box {bx} lies outside the image {geo['img']}")
        check_boxes("fit to width")
        if "pneumonia" not in b.need("#ocr-text mark", "the hit marked in the OCR text").text.lower():
            fail("the OCR text beside the page does not mark the hit")
        b.shot("03-viewer")
        # zoom in with the keyboard: image and boxes scale together
        before = b.el(".page-image").size["width"]
        b.el("#page-frame").send_keys("+")
        b.wait("the zoomed page", lambda: b.el(".page-image") and b.el(".page-image").size["width"] > before)
        b.need(".hit-box", "a hit box on the zoomed page")
        check_boxes("zoomed in")
        b.el("#page-frame").send_keys("w")
        b.wait("fit to width again", lambda: b.el(".page-image") and b.el(".page-image").size["width"] == before)
        # turned right for viewing: the boxes turn with the image
        b.el("#page-frame").send_keys("r")
        b.wait("the page turned right", lambda: b.el('.page-box[data-rotation="90"] .hit-box'))
        check_boxes("turned right", turned=True)
        b.el("#page-frame").send_keys("R")
        b.wait("the page upright again", lambda: b.el('.page-box[data-rotation="0"] .hit-box'))

        # --- the chart of the hit's patient
        mrn = hit_doc["patient"]["mrn"]
        b.d.get(url + f"#/chart/{mrn}")
        header = b.need("#patient-header", "the patient header")
        if mrn not in header.text:
            fail(f"the chart header does not show MRN {mrn}: {header.text!r}")
        b.need(f'.marker[data-document="{hit_doc["id"]}"]', "the document on the timeline")
        b.shot("04-chart")

        # --- restricted: ann (granted) reads it, bob (not granted) is refused
        b.d.get(url + f"#/doc/{restricted_doc['id']}")
        b.need(".page-image", "the restricted document for a user with the grant")
        logout(b)
        login(b, url, "bob")
        b.d.get(url + f"#/doc/{restricted_doc['id']}")
        refused = b.need("#document-refused", "the refusal of a restricted document").text
        if b.el(".page-image"):
            fail("a user without the restricted grant sees the restricted page image")
        status, _ = b.fetch(f"/api/v1/pages/{restricted_doc['pages'][0]['id']}/image?width=200")
        if status != 404:
            fail(f"the restricted page image answers {status} to a user without the grant, not 404")
        b.shot("05-restricted-refused")
        # nor does a search for a word of it list it
        word = next(w[6] for w in restricted_doc["pages"][0]["words"] if re.fullmatch(r"[A-Za-z]{6,}", w[6]))
        b.d.get(url + "#/find?q=" + word)
        b.need("#results .results-title, #results .error", f"the results for {word!r}")
        if b.el(f'.hit[data-document="{restricted_doc["id"]}"]'):
            fail(f"a search for {word!r} lists the restricted document to a user without the grant")
        print(f"restricted {restricted_type} document {restricted_doc['id']}: {refused}")
        logout(b)

        # --- review: ida resolves an item, saying why
        login(b, url, "ida")
        b.d.get(url + "#/review")
        first = b.need("#review-table .item-link", "an open review item")
        item_id = first.text.lstrip("#")
        first.click()
        b.need("#review-page .page-image", "the item's page image")
        b.need("#compare", "identifiers beside candidates")
        b.images_loaded("#review-page .page-image")
        b.shot("06-review")
        # she takes the item first: the queue then names her as its assignee
        b.need('[data-action="claim"]', "the take-this-item button").click()
        b.wait("the item to be hers", lambda: b.el('[data-action="unclaim"]') or
               (b.el("#status.error") and fail("taking the item failed: " + b.el("#status").text)))
        b.wait("the queue to name her", lambda: "ida" in b.need("#review-table").text)
        b.need('[data-action="resolve"]').click()
        why = f"e2e: page checked against the paper chart, item {item_id}"
        b.need("#ask-why", "the why field").send_keys(why)
        b.need('dialog [data-action="confirm"]').click()
        b.wait("the item to be resolved", lambda: b.el(".review-item .notice") or
               (b.el("#status.error") and fail("resolving failed: " + b.el("#status").text)))
        b.d.get(url + "#/batches")
        b.need(".batch", "the ingest batch")
        b.wait("the live progress stream", lambda: b.el("#live-state").text == "live")
        b.shot("07-batches")
        logout(b)

        # --- eve breaks the glass to read a chart: the auditor sees it marked
        login(b, url, "eve")
        b.d.get(url + f"#/doc/{hit_doc['id']}")
        b.need(".page-image", "a chart read under break-the-glass")
        logout(b)

        # --- the auditor finds the decision in the Audit screen
        login(b, url, "aud")
        b.d.get(url + "#/audit")
        row = b.need('#audit-table tr[data-action="review-resolve"]', "the review-resolve audit entry")
        if "ida" not in row.text:
            fail(f"the review-resolve entry does not name ida: {row.text!r}")
        b.need('#audit-table tr.break-glass .badge.break-glass', "a break-the-glass entry marked")
        b.shot("08-audit")
        csv_href = b.el("#audit-csv").get_attribute("href")
        status, body = b.fetch(csv_href)
        if status != 200 or "review-resolve" not in body or "\n" not in body:
            fail(f"the audit CSV download answers {status}: {body[:300]!r}")
        logout(b)

        # --- idle timeout: a second server ending sessions after 6 s (long enough
        # for a loaded machine to draw a screen between two requests)
        idle_server = Server(work, archive, users, 6, taxonomy, "idle")
        login(b, idle_server.url, "ann")
        b.d.get(idle_server.url + f"#/chart/{mrn}")
        b.need("#patient-header", "the chart on the idle server")
        msg = b.need("#login-message", "the login screen after the idle timeout")
        if b.el("#patient-header") or "chart" in b.d.current_url:
            fail("the chart stayed on screen (or in the address) after the idle timeout")
        if "Your session ended after" not in msg.text:
            fail(f"the idle message reads {msg.text!r}")
        status, _ = b.fetch("/api/v1/session")
        if status != 401:
            fail(f"after the idle timeout GET /session answers {status}, not 401")
        b.shot("09-idle-logout")
        # the same person logging in again is back on the chart
        b.el("#login-user").send_keys("ann")
        b.el("#login-password").send_keys(PASSWORD)
        b.el("#login-submit").click()
        b.need("#patient-header", "the chart again after logging in again")

        # the screens kept to the strict Content-Security-Policy and threw nothing
        bad = [line for line in b.console().splitlines()
               if "Content Security Policy" in line or "Uncaught" in line or "SyntaxError" in line]
        if bad:
            fail("the browser reported:\n" + "\n".join(bad))
        print("all scenarios passed; screenshots in", b.shots)
        passed = True
    finally:
        b.quit()
        server.stop()
        if idle_server:
            idle_server.stop()
    # the archive, logs and browser profile stay only when something failed
    if passed:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)

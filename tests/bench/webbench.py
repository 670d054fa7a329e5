#!/usr/bin/python3
"""The web workstation's server, measured (issue 15): page image time to
first byte and search API latency, p50/p99, on the samples and on a large
archive. Never run by the test suite; figures in the README ("The web
workstation (server)").

  tests/bench/webbench.py [--copies 400] [--rounds 200]

1. The samples (samples/*.tif, *.png) are ingested with chart-intake into
   build/bench/web/samples.archive (once; reused).
2. A large archive is made from it by copying its documents and pages
   --copies times with SQL (each copy a new document with the same text and
   image: the FTS index and the images table grow as a real archive's would;
   a benchmark fixture, not something the product does).
3. `chartdesk web` serves each on a loopback port; one logged-in archivist
   asks for every page image at width 1000 (cold: first rendering; warm: the
   cache) and runs searches for words of the sample pages. Time to first
   byte is measured from sending the request to the end of the response
   headers (http.client, one keep-alive connection).
"""
import argparse
import http.client
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CHARTDESK_BUILD", os.path.join(ROOT, "build"))
CHARTDESK = os.path.join(BUILD, "core", "cli", "chartdesk")
OUT = os.path.join(BUILD, "bench", "web")
PASSWORD = "bench password 2026"
QUERIES = ["patient", "discharge", "history", "radiology", "pain", "blood pressure", "consent", "medication",
           "chest", "follow up", "normal", "diagnosis", "emergency", "nursing", "laboratory", "operative"]


def env():
    e = dict(os.environ, OMP_THREAD_LIMIT="1")
    e.setdefault("CHARTDESK_AUDIT_KEY", os.path.join(OUT, "audit.key"))
    e["CHARTDESK_USERS"] = os.path.join(OUT, "users.conf")
    return e


def run(argv, stdin=None):
    subprocess.run(argv, input=stdin, env=env(), check=True, stdout=subprocess.DEVNULL, text=True)


def samples_archive():
    path = os.path.join(OUT, "samples.archive")
    if os.path.exists(path):
        return path
    inputs = sorted(os.path.join(ROOT, "samples", f) for f in os.listdir(os.path.join(ROOT, "samples"))
                    if f.endswith((".tif", ".png")))
    run([CHARTDESK, "mpi", "import", path, os.path.join(ROOT, "samples", "mpi.csv")])
    run([CHARTDESK, "ingest", "--quiet", path] + inputs)
    return path


def large_archive(source, copies):
    path = os.path.join(OUT, "large-%d.archive" % copies)
    if os.path.exists(path):
        return path
    # through SQLite, so that what is still in the source's WAL is copied too
    src = sqlite3.connect(source)
    db = sqlite3.connect(path + ".tmp")
    src.backup(db)
    src.close()
    docs = db.execute("SELECT id FROM documents ORDER BY id").fetchall()
    cols_d = "batch_id, patient_mrn, status, type, type_confidence, date, title, created"
    cols_p = ("batch_id, seq, kind, reason, source_path, source_page, xres, yres, image_sha256, rotation, skew, "
              "text, words, confidence, problems, facts, created")
    for c in range(copies):
        for (doc,) in docs:
            cur = db.execute("INSERT INTO documents (%s) SELECT %s FROM documents WHERE id = ?" % (cols_d, cols_d),
                             (doc,))
            new = cur.lastrowid
            # spread the copies over the years, as an archive of decades is
            db.execute("UPDATE documents SET date = printf('%04d', 1990 + ? % 35) || substr(coalesce(date, "
                       "'2000-01-01'), 5) WHERE id = ?", (c, new))
            db.execute("INSERT INTO pages (document_id, %s) SELECT ?, %s FROM pages WHERE document_id = ?"
                       % (cols_p, cols_p), (new, doc))
        if c % 50 == 49:
            db.commit()
    db.commit()
    db.close()
    os.rename(path + ".tmp", path)
    return path


class Server:
    def __init__(self, archive):
        self.proc = subprocess.Popen([CHARTDESK, "web", "--archive", archive, "--listen", "127.0.0.1:0"],
                                     env=env(), stdout=subprocess.PIPE, text=True)
        url = self.proc.stdout.readline().strip()
        hostport = url.split("//", 1)[1].rstrip("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.conn = http.client.HTTPConnection(self.host, self.port)
        body = json.dumps({"user": "bench", "password": PASSWORD})
        self.conn.request("POST", "/api/v1/session", body, {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        r.read()
        assert r.status == 200, r.status
        cookie = r.getheader("Set-Cookie").split(";")[0]
        self.headers = {"Cookie": cookie}

    def get(self, path):
        """(seconds to the response headers, seconds to the whole body, status, body)"""
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        r = self.conn.getresponse()
        t1 = time.perf_counter()
        body = r.read()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t0, r.status, body

    def close(self):
        self.conn.close()
        self.proc.terminate()
        self.proc.wait()


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def row(name, values):
    ms = [v * 1000 for v in values]
    print("| %-44s | %6d | %8.1f | %8.1f |" % (name, len(ms), pct(ms, 50), pct(ms, 99)))


def page_ids(archive, limit):
    db = sqlite3.connect("file:%s?mode=ro" % archive, uri=True)
    ids = [r[0] for r in db.execute("SELECT id FROM pages WHERE image_sha256 IS NOT NULL AND document_id IS NOT "
                                    "NULL ORDER BY id LIMIT ?", (limit,))]
    n_pages = db.execute("SELECT count(*) FROM pages").fetchone()[0]
    db.close()
    return ids, n_pages


def bench(label, archive, rounds, images=True):
    ids, n_pages = page_ids(archive, 60)
    s = Server(archive)
    try:
        cold, warm, searches, totals, base = [], [], [], [], []
        for _ in range(rounds):
            ttfb, _, status, _ = s.get("/api/v1/session")
            base.append(ttfb)
        for pid in (ids if images else []):
            ttfb, _, status, body = s.get("/api/v1/pages/%d/image?width=1000" % pid)
            assert status == 200 and body[:4] == b"\x89PNG", status
            cold.append(ttfb)
        for _ in range(3 if images else 0):
            for pid in ids:
                ttfb, _, status, _ = s.get("/api/v1/pages/%d/image?width=1000" % pid)
                warm.append(ttfb)
        rng = random.Random(3)
        for i in range(rounds):
            q = QUERIES[i % len(QUERIES)]
            offset = rng.choice([0, 0, 0, 20, 40])
            _, total_time, status, body = s.get("/api/v1/search?q=%s&limit=20&offset=%d" %
                                                (q.replace(" ", "+"), offset))
            assert status == 200, (status, body[:200])
            searches.append(total_time)
            totals.append(json.loads(body)["total"])
        print("\n%s: %d pages (%s)\n" % (label, n_pages, os.path.basename(archive)))
        print("| %-44s | %6s | %8s | %8s |" % ("request", "n", "p50 ms", "p99 ms"))
        print("|%s|%s|%s|%s|" % ("-" * 46, "-" * 8, "-" * 10, "-" * 10))
        row("GET /session (no archive read; baseline)", base)
        if images:
            row("page image width=1000, first (TTFB)", cold)
            row("page image width=1000, cached (TTFB)", warm)
        row("search, 20 hits + total + facets (whole)", searches)
        print("\nsearch totals: median %d, max %d hits" % (statistics.median(totals), max(totals)))
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=400, help="copies of the samples in the large archive")
    ap.add_argument("--rounds", type=int, default=200, help="searches per archive")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    users = os.path.join(OUT, "users.conf")
    if not os.path.exists(users):
        run([CHARTDESK, "users", "add", "bench", "--role", "archivist", "--password-stdin"], stdin=PASSWORD + "\n")
    small = samples_archive()
    large = large_archive(small, args.copies)
    print("chartdesk web, %d cores, one client on one keep-alive connection" % (os.cpu_count() or 1))
    bench("samples", small, args.rounds)
    # the copies share the samples' stored images: their renderings would
    # all be cache hits, so images are measured on the samples only
    bench("large", large, args.rounds, images=False)


if __name__ == "__main__":
    sys.exit(main())

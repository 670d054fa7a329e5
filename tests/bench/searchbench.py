"""`bench.py search-scale`: search latency per query class on an archive of
N pages that the benchmark builds itself.

The archive is made the way an archive is: `chartdesk mpi import` creates it
(schema, audit key) with the patient index; then documents and pages go in
straight through SQL, in bulk, the full-text triggers indexing every page.
Page text is cut from the mtsamples transcriptions (../shared/data), every
page shares one stored image. Each query class is then run as a user runs
it (one `chartdesk search` process per query, `--no-service`) and
in-process (`--repeat`, the library's own time), beside the bare FTS5 query
(Python's sqlite3 on the same file), and each answer is checked against a
plain count in SQL.
"""
import csv
import datetime
import hashlib
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time

TYPES = [("progress-note", 30), ("laboratory-report", 20), ("radiology-report", 10), ("discharge-summary", 8),
         ("operative-report", 6), ("consultation", 8), ("history-physical", 8), ("nursing-note", 6),
         ("correspondence", 4)]
RARE = "zyxwrarebench"


def pages_of_text(data, size=1100):
    """The transcriptions cut into page-sized pieces at word boundaries."""
    pool = []
    with open(data, newline="") as f:
        for row in csv.DictReader(f):
            text = re.sub(r"\s+", " ", (row.get("transcription") or "").replace(",  ", ". ")).strip()
            while len(text) > 200:
                cut = text.rfind(" ", 0, size) if len(text) > size else len(text)
                cut = cut if cut > 200 else min(size, len(text))
                pool.append(text[:cut])
                text = text[cut:].strip()
    return pool


def build(chartdesk, env, workdir, n_pages, data, seed):
    archive = os.path.join(workdir, "scale.archive")
    done = os.path.join(workdir, "built")
    if os.path.exists(done):
        return archive
    for suffix in ("", "-wal", "-shm", ".lock", ".audit-anchor"):
        if os.path.exists(archive + suffix):
            os.unlink(archive + suffix)
    rnd = random.Random(seed)
    n_patients = max(20, n_pages // 40)
    patients_csv = os.path.join(workdir, "patients.csv")
    with open(patients_csv, "w") as f:
        f.write("mrn,family,given,dob\n")
        for i in range(n_patients):
            f.write("%08d,FAMILY%d,GIVEN%d,19%02d-%02d-%02d\n" % (10000000 + i, i, i, 30 + i % 60, 1 + i % 12,
                                                                   1 + i % 28))
    subprocess.run([chartdesk, "mpi", "import", archive, patients_csv], check=True, env=env, capture_output=True)
    pool = pages_of_text(data)
    t0 = time.monotonic()
    db = sqlite3.connect(archive, isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-200000")
    db.execute("BEGIN")
    # the pages go in without the full-text trigger and the index is built
    # from them once at the end ('rebuild': the same rows as the trigger
    # makes, 2.4 times less CPU at 100,000 pages); the trigger is put back
    # as it was, in the same transaction
    trigger = db.execute("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'pages_fts_insert'").fetchone()[0]
    db.execute("DROP TRIGGER pages_fts_insert")
    now = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    db.execute("INSERT INTO batches (started, finished, actor, workflow, inputs, status) "
               "VALUES (?, ?, 'bench', 'bench-bulk', '[]', 'finished')", (now, now))
    batch = db.execute("SELECT max(id) FROM batches").fetchone()[0]
    sample = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "samples", "01-discharge-progress.tif")
    blob = open(sample, "rb").read()
    sha = hashlib.sha256(blob).hexdigest()
    db.execute("INSERT OR IGNORE INTO images (sha256, format, width, height, depth, xres, yres, data) "
               "VALUES (?, 'tiff-g4', 2550, 3300, 1, 300, 300, ?)", (sha, blob))
    weights = [w for _, w in TYPES]
    names = [t for t, _ in TYPES]
    start = datetime.date(1990, 1, 1).toordinal()
    span = datetime.date(2025, 12, 31).toordinal() - start
    page = 0
    doc_id = db.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]
    docs, pages = [], []
    while page < n_pages:
        doc_id += 1
        n = min(rnd.choice([1, 1, 2, 3, 4, 5, 6, 7, 8, 8]), n_pages - page)
        date = datetime.date.fromordinal(start + rnd.randrange(span)).isoformat()
        dtype = rnd.choices(names, weights)[0]
        docs.append((doc_id, batch, "%08d" % (10000000 + rnd.randrange(n_patients)),
                     "review" if rnd.random() < 0.03 else "filed", dtype, date, dtype.replace("-", " ").title(), now))
        for seq in range(n):
            text = pool[rnd.randrange(len(pool))]
            if page == n_pages // 2:
                text += " " + RARE
            pages.append((batch, doc_id, seq, "bulk/box%d.tif" % (page // 5000), page, sha, text, now))
            page += 1
        if len(pages) >= 20000:
            flush(db, docs, pages)
            print("  %d pages (%.0f s)" % (page, time.monotonic() - t0), file=sys.stderr, flush=True)
    flush(db, docs, pages)
    print("  %d pages in; indexing their text (%.0f s)" % (page, time.monotonic() - t0), file=sys.stderr, flush=True)
    db.execute("INSERT INTO pages_fts (pages_fts) VALUES ('rebuild')")
    db.execute(trigger)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    open(done, "w").write("%d pages in %.0f s\n" % (n_pages, time.monotonic() - t0))
    return archive


def flush(db, docs, pages):
    db.executemany("INSERT INTO documents (id, batch_id, patient_mrn, status, type, date, title, created) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", docs)
    db.executemany("INSERT INTO pages (batch_id, document_id, seq, kind, source_path, source_page, image_sha256, "
                   "text, created) VALUES (?, ?, ?, 'page', ?, ?, ?, ?, ?)", pages)
    docs.clear()
    pages.clear()


def pick_word(db, share, n_pages, avoid=()):
    """A real word on about @share of the pages."""
    target = share * n_pages
    rows = db.execute("SELECT term, doc FROM temp.v WHERE doc BETWEEN ? AND ? AND length(term) >= 4 "
                      "AND term GLOB '[a-z]*' AND term NOT GLOB '*[0-9]*'",
                      (int(target * 0.7), int(target * 1.3) + 1)).fetchall()
    rows = [r for r in rows if r[0] not in avoid]
    rows.sort(key=lambda r: abs(r[1] - target))
    return rows[0][0] if rows else None


# The query classes' words and their plain counts take minutes to find at
# 10 M pages (a scan of the index's vocabulary, counts of words on most
# pages), and the archive's pages do not change between runs: they are
# kept in ARCHIVE.classes.json, for an archive of the same pages.
_memo = {}


def _memo_file(db):
    path = db.execute("PRAGMA database_list").fetchone()[2]
    return path + ".classes.json" if path else None


def _memo_load(db):
    f = _memo_file(db)
    if f is None:
        return {}
    key = "%d" % db.execute("SELECT coalesce(max(id), 0) FROM pages").fetchone()[0]
    if f not in _memo:
        try:
            with open(f) as fh:
                saved = json.load(fh)
        except (OSError, ValueError):
            saved = {}
        _memo[f] = saved if saved.get("pages") == key else {"pages": key}
    return _memo[f]


def _memo_save(db):
    f = _memo_file(db)
    if f is not None:
        with open(f + ".tmp", "w") as fh:
            json.dump(_memo[f], fh)
        os.replace(f + ".tmp", f)


def classes(db, n_pages):
    memo = _memo_load(db)
    if "classes" not in memo:
        memo["classes"] = _classes(db, n_pages)
        _memo_save(db)
    return [(name, list(argv)) for name, argv in memo["classes"]]


def _classes(db, n_pages):
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.v USING fts5vocab(main, pages_fts, row)")
    one = pick_word(db, 0.01, n_pages)
    most = pick_word(db, 0.75, n_pages)
    c1 = pick_word(db, 0.35, n_pages, (most,))
    c2 = pick_word(db, 0.30, n_pages, (most, c1))
    # a patient with about the average chart (~40 pages)
    mrn = db.execute("SELECT d.patient_mrn, count(*) c FROM documents d JOIN pages p ON p.document_id = d.id "
                     "WHERE d.patient_mrn IN (SELECT patient_mrn FROM documents LIMIT 200) "
                     "GROUP BY 1 ORDER BY abs(c - 40) LIMIT 1").fetchone()[0]
    return [
        ("rare word (1 page)", [RARE]),
        ("word on 1%% of pages (%s)" % one, [one]),
        ("word on 75%% of pages (%s)" % most, [most]),
        ("two common words (%s %s)" % (c1, c2), [c1, c2]),
        ("phrase (\"%s %s\")" % ("the", "patient"), ['"the patient"']),
        ("common word + --mrn (a chart)", [most, "--mrn", mrn]),
        ("1% word + --type + --from/--to (5 years)", [one, "--type", "laboratory-report", "--from", "2000-01-01",
                                                      "--to", "2004-12-31"]),
        ("common word + --type + --from/--to (a month)", [most, "--type", "radiology-report", "--from", "2010-03-01",
                                                          "--to", "2010-03-31"]),
        ("common word + --type (broad filter)", [most, "--type", "progress-note"]),
        ("--mrn alone (a patient's documents)", ["--mrn", mrn]),
        ("--type + year, no words", ["--type", "discharge-summary", "--from", "2015-01-01", "--to", "2015-12-31"]),
        ("--status review + year, no words", ["--status", "review", "--from", "2015-01-01", "--to", "2015-12-31"]),
    ]


def truth(db, argv):
    """The right total for a query, counted plainly in SQL (kept, as the classes are)."""
    memo = _memo_load(db).setdefault("truth", {})
    key = json.dumps(argv)
    if key not in memo:
        memo[key] = list(_truth(db, argv))
        _memo_save(db)
    return tuple(memo[key])


def _truth(db, argv):
    words, opts, i = [], {}, 0
    while i < len(argv):
        if argv[i].startswith("--"):
            opts[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            words.append(argv[i])
            i += 1
    where, params = ["1"], []
    for key, col, op in (("mrn", "d.patient_mrn", "="), ("type", "d.type", "="), ("from", "d.date", ">="),
                         ("to", "d.date", "<="), ("status", "d.status", "=")):
        if key in opts:
            where.append("%s %s ?" % (col, op))
            params.append(opts[key])
    if words:
        match = " ".join(w if w.startswith('"') else '"%s"' % w for w in words)
        sql = ("SELECT count(*) FROM pages_fts f JOIN pages p ON p.id = f.rowid LEFT JOIN documents d "
               "ON d.id = p.document_id WHERE pages_fts MATCH ? AND " + " AND ".join(where))
        return db.execute(sql, [match] + params).fetchone()[0], match
    sql = ("SELECT count(*) FROM documents d JOIN pages p ON p.document_id = d.id AND p.seq = 0 WHERE "
           + " AND ".join(where))
    return db.execute(sql, params).fetchone()[0], None


def fts_segments(db):
    """How many segments the full-text index has (its FTS5 structure record:
    a 4-byte cookie, then varints: levels, segments)."""
    row = db.execute("SELECT block FROM pages_fts_data WHERE id = 10").fetchone()
    if row is None:
        return None
    block, at, values = row[0], 4, []
    for _ in range(2):
        v = 0
        for k in range(9):
            c = block[at]
            at += 1
            if k == 8:
                v = (v << 8) | c
                break
            v = (v << 7) | (c & 0x7F)
            if not c & 0x80:
                break
        values.append(v)
    return values[1]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# Every search through the CLI commits its audit entry (an fdatasync of the
# WAL) and, as the archive's last connection, checkpoints it (four more
# syncs): the disk's sync latency is part of each run. Measured beside the
# archive, so that a slow run can be told from a slow search.
def sync_latency(workdir, n=50):
    path = os.path.join(workdir, "sync-probe")
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for i in range(n):
            os.pwrite(fd, os.urandom(4096), 4096 * (i % 16))
            t0 = time.perf_counter()
            os.fdatasync(fd)
            times.append(1000 * (time.perf_counter() - t0))
    finally:
        os.close(fd)
        os.unlink(path)
    return pct(times, 0.5), pct(times, 0.99)


def cmd_search_scale(args, build_dir, chartdesk, env, shared_data):
    data = args.mtsamples or os.path.join(shared_data or "", "mtsamples", "mtsamples-train.csv")
    if not os.path.exists(data):
        sys.exit("search-scale needs the mtsamples transcriptions: %s not found" % data)
    workdir = os.path.join(args.workdir or os.path.join(build_dir, "bench"), "search-scale-%d" % args.pages)
    os.makedirs(workdir, exist_ok=True)
    env = dict(env, CHARTDESK_AUDIT_KEY=os.path.join(workdir, "audit.key"))
    t = time.monotonic()
    archive = build(chartdesk, env, workdir, args.pages, data, args.seed)
    print("archive: %s, %s (%.1f MiB)" % (archive, open(os.path.join(workdir, "built")).read().strip(),
                                          os.path.getsize(archive) / 2 ** 20))
    if args.optimize:
        t0 = time.monotonic()
        p = subprocess.run([chartdesk, "archive", "optimize", "--json", archive], env=env, capture_output=True,
                           text=True)
        if p.returncode != 0:
            sys.exit("chartdesk archive optimize: %s" % p.stderr)
        merged = json.loads(p.stdout)
        print("search index: %d segments merged into %d by `chartdesk archive optimize` (%.0f s)"
              % (merged["segments_before"], merged["segments_after"], time.monotonic() - t0))
    db = sqlite3.connect(archive)
    segments = fts_segments(db)
    print("search index: %s segment%s%s" % (segments, "" if segments == 1 else "s",
                                            "" if args.optimize or segments == 1 else
                                            " (as built; --optimize merges them first)"))
    n_pages = db.execute("SELECT count(*) FROM pages").fetchone()[0]
    n_docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    print("%d pages, %d documents; %d runs per query class (%s); first: a class's first run, whose pages may "
          "not be in the OS page cache yet" % (n_pages, n_docs, args.runs,
                                                "p99 of %d runs is their slowest" % args.runs if args.runs < 100
                                                else "p99 leaves out the slowest %d" % (args.runs // 100)))
    if getattr(args, "backends", "sqlite") != "sqlite":
        import pgscale  # both backends side by side: tests/bench/pgscale.py
        pgscale.side_by_side(args, build_dir, chartdesk, env, workdir, archive, db, n_pages)
        print("\n(whole run %.0f s)" % (time.monotonic() - t))
        return
    if getattr(args, "against", None):
        cli_against(args, chartdesk, env, archive, db, n_pages)
        print("\n(whole run %.0f s)" % (time.monotonic() - t))
        return
    sync50, sync99 = sync_latency(workdir)
    print("this disk: fdatasync of 4 KiB p50 %.1f ms, p99 %.1f ms (50 syncs; a CLI search syncs 3-7 times); load %s"
          % (sync50, sync99, " ".join(open("/proc/loadavg").read().split()[:3])))
    print()
    print("| query | CLI first | CLI p50 | CLI p99 | in-process p50 | p99 | bare FTS5 p50 | plan | total | answer |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, argv in classes(db, n_pages):
        cmd = [chartdesk, "search", "--no-service", "--json", archive] + argv
        cli = []
        out = None
        for _ in range(args.runs):
            t0 = time.monotonic()
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
            cli.append(1000 * (time.monotonic() - t0))
            if p.returncode != 0:
                sys.exit("%s: %s" % (" ".join(cmd), p.stderr))
            out = json.loads(p.stdout)
        p = subprocess.run(cmd + ["--repeat", str(args.runs)], env=env, capture_output=True, text=True)
        inproc = [float(line.split()[1]) for line in p.stderr.splitlines() if line.startswith("search-ms ")]
        right, match = truth(db, argv)
        bare = []
        if match is not None and not any(a.startswith("--") for a in argv):
            # at most 5 runs, and one when it takes over a second (16 s at 10 M pages for a word on most)
            for _ in range(min(args.runs, 5)):
                t0 = time.monotonic()
                db.execute("SELECT rowid FROM pages_fts WHERE pages_fts MATCH ? ORDER BY rank LIMIT 20",
                           (match,)).fetchall()
                bare.append(1000 * (time.monotonic() - t0))
                if bare[-1] > 1000:
                    break
        total = out["total"]
        if out["total_is_estimate"]:
            ok = right >= total and len(out["hits"]) == min(20, right)
            shown = "≥ %d (of %d)" % (total, right)
        else:
            ok = right == total and len(out["hits"]) == min(20, right)
            shown = "%d" % total
        print("| %s | %.0f ms | %.0f ms | %.0f ms | %.1f ms | %.1f ms | %s | %s | %s | %s |"
              % (name, cli[0], pct(cli, 0.5), pct(cli, 0.99), pct(inproc, 0.5), pct(inproc, 0.99),
                 "%.1f ms" % pct(bare, 0.5) if bare else "—", out["plan"], shown, "right" if ok else "**WRONG**"),
              flush=True)
    if args.through:
        through(args, build_dir, chartdesk, env, workdir, archive, db, n_pages)
    if args.ingest:
        db.close()
        ingest_rates(args, chartdesk, env, workdir, archive, n_pages)
    print("\n(whole run %.0f s)" % (time.monotonic() - t))


def cli_run(cmd, env):
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s: %s" % (" ".join(cmd), p.stderr))
    return 1000 * (time.monotonic() - t0), json.loads(p.stdout)


# --against OTHER_BUILD: the CLI of this build and of another one (the same
# source before a change, say) on the same archive, their runs interleaved
# query by query, so that both see the same load; the answers must agree.
def cli_against(args, chartdesk, env, archive, db, n_pages):
    other = os.path.join(args.against, "core", "cli", "chartdesk")
    if not os.path.exists(other):
        sys.exit("--against: %s not found" % other)
    print("\nCLI time per query, this build against %s, runs interleaved (load %s)\n"
          % (args.against, " ".join(open("/proc/loadavg").read().split()[:3])))
    print("| query | other p50 | other p99 | this p50 | this p99 | answers |")
    print("|---|---|---|---|---|---|")
    for name, argv in classes(db, n_pages):
        tail = ["search", "--no-service", "--json", archive] + argv
        mine, theirs, same = [], [], True
        for _ in range(args.runs):
            t_other, out_other = cli_run([other] + tail, env)
            t_mine, out_mine = cli_run([chartdesk] + tail, env)
            theirs.append(t_other)
            mine.append(t_mine)
            same &= out_other["total"] == out_mine["total"] and \
                [h["page"] for h in out_other["hits"]] == [h["page"] for h in out_mine["hits"]]
        print("| %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %s |"
              % (name, pct(theirs, 0.5), pct(theirs, 0.99), pct(mine, 0.5), pct(mine, 0.99),
                 "the same" if same else "**DIFFER**"), flush=True)
    print("(load %s)" % " ".join(open("/proc/loadavg").read().split()[:3]))


# --through service,web: the same query classes as a station's user and a
# browser run them: `chartdesk search --service` (one process per query,
# chartdeskd's D-Bus Search on a private bus) and the web API's
# GET /api/v1/search (one logged-in archivist, one keep-alive connection),
# and page images through the web API.
BENCH_PASSWORD = "bench password 2026"


def start_service(build_dir, env, workdir, archive, archive_idle=None):
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                           text=True)
    address = bus.stdout.readline().strip()
    conf = os.path.join(workdir, "chartdeskd.conf")
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)
    with open(conf, "w") as f:
        f.write("[service]\narchive=%s\nbus=session\nstate-dir=%s\n" % (archive, state))
        if archive_idle is not None:
            f.write("archive-idle-seconds=%d\n" % archive_idle)
    senv = dict(env, DBUS_SESSION_BUS_ADDRESS=address)
    daemon = subprocess.Popen([os.path.join(build_dir, "core", "service", "chartdeskd"), "--config", conf],
                              env=senv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return bus, daemon, senv


def start_web(chartdesk, env, workdir, archive):
    import http.client
    users = os.path.join(workdir, "users.conf")
    wenv = dict(env, CHARTDESK_USERS=users)
    if not os.path.exists(users):
        subprocess.run([chartdesk, "users", "add", "bench", "--role", "archivist", "--password-stdin"],
                       input=BENCH_PASSWORD + "\n", env=wenv, check=True, capture_output=True, text=True)
    proc = subprocess.Popen([chartdesk, "web", "--archive", archive, "--listen", "127.0.0.1:0"], env=wenv,
                            stdout=subprocess.PIPE, text=True)
    host, port = proc.stdout.readline().strip().split("//", 1)[1].rstrip("/").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("POST", "/api/v1/session", json.dumps({"user": "bench", "password": BENCH_PASSWORD}),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("web login failed: %d" % r.status)
    return proc, conn, {"Cookie": r.getheader("Set-Cookie").split(";")[0]}


def web_query(argv):
    import urllib.parse
    words, params, i = [], {}, 0
    while i < len(argv):
        if argv[i].startswith("--"):
            params[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            words.append(argv[i])
            i += 1
    if words:
        params["q"] = " ".join(words)
    return "/api/v1/search?" + urllib.parse.urlencode(dict(params, limit=20))


def timed_get(conn, headers, path):
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    return 1000 * (time.perf_counter() - t0), r.status, body


def through(args, build_dir, chartdesk, env, workdir, archive, db, n_pages):
    wanted = set(args.through.split(","))
    bus = daemon = web = None
    try:
        if "service" in wanted:
            bus, daemon, senv = start_service(build_dir, env, workdir, archive, args.archive_idle)
            for _ in range(100):
                p = subprocess.run([chartdesk, "search", "--service", "--json", archive, "--mrn", "0"], env=senv,
                                   capture_output=True, text=True)
                if p.returncode == 0:
                    break
                time.sleep(0.2)
            else:
                sys.exit("chartdeskd did not answer: %s" % p.stderr)
        if "web" in wanted:
            web, conn, headers = start_web(chartdesk, env, workdir, archive)
        print()
        print("Through the service (`chartdesk search --service`, one process per query, D-Bus Search) and the "
              "web API (GET /api/v1/search, 20 hits with total and facets, whole response):")
        print()
        print("| query | service first | service p50 | service p99 | web API p50 | web API p99 | same total |")
        print("|---|---|---|---|---|---|---|")
        for name, argv in classes(db, n_pages):
            svc, wb, totals = [], [], set()
            for _ in range(args.runs):
                if bus is not None:
                    t0 = time.monotonic()
                    p = subprocess.run([chartdesk, "search", "--service", "--json", archive] + argv, env=senv,
                                       capture_output=True, text=True)
                    svc.append(1000 * (time.monotonic() - t0))
                    if p.returncode != 0:
                        sys.exit("service search failed: %s" % p.stderr)
                    totals.add(json.loads(p.stdout)["total"])
                if web is not None:
                    ms, status, body = timed_get(conn, headers, web_query(argv))
                    if status != 200:
                        sys.exit("web search failed: %d %s" % (status, body[:200]))
                    wb.append(ms)
                    totals.add(json.loads(body)["total"])
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, "%.0f ms" % svc[0] if svc else "—", "%.0f ms" % pct(svc, 0.5) if svc else "—", "%.0f ms" % pct(svc, 0.99) if svc else "—",
                "%.1f ms" % pct(wb, 0.5) if wb else "—", "%.1f ms" % pct(wb, 0.99) if wb else "—",
                "yes" if len(totals) == 1 else "**no** %s" % sorted(totals)), flush=True)
        if web is not None:
            rnd = random.Random(5)
            n = db.execute("SELECT max(id) FROM pages").fetchone()[0]
            first, again = [], []
            for pid in [rnd.randint(1, n) for _ in range(args.runs * 5)]:
                ms, status, body = timed_get(conn, headers, "/api/v1/pages/%d/image?width=1000" % pid)
                if status != 200 or body[:4] != b"\x89PNG":
                    sys.exit("page image %d: %d" % (pid, status))
                (again if first else first).append(ms)
            print()
            print("Page images through the web API (width=1000; every page of this archive shares one stored "
                  "image, so after the first these are the server's rendering cache, the access check and the "
                  "audit entry; first renderings of distinct images: tests/bench/webbench.py): first %.0f ms, "
                  "then p50 %.1f ms, p99 %.1f ms over %d pages" % (first[0], pct(again, 0.5), pct(again, 0.99),
                                                                   len(again)))
    finally:
        for proc in (web, daemon, bus):
            if proc is not None:
                proc.terminate()
                proc.wait()


# --ingest DIR: pages a minute of `chartdesk ingest DIR` into an empty
# archive and into this one (its pages stay: a second run finds them
# duplicates and says so), wall time and the CPU time of the ingest.
def ingest_one(chartdesk, env, archive, inputs):
    before = os.times()
    t0 = time.monotonic()
    p = subprocess.run([chartdesk, "ingest", "--json", "-q", archive, inputs], env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = os.times()
    if p.returncode != 0:
        sys.exit("ingest into %s failed: %s" % (archive, p.stderr))
    report = json.loads(p.stdout)
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return report, wall, cpu


def ingest_rates(args, chartdesk, env, workdir, archive, n_pages):
    empty = os.path.join(workdir, "empty.archive")
    for suffix in ("", "-wal", "-shm", ".lock", ".audit-anchor"):
        if os.path.exists(empty + suffix):
            os.unlink(empty + suffix)
    print()
    print("`chartdesk ingest %s` (load average before: %s):" % (args.ingest, open("/proc/loadavg").read().strip()))
    print()
    print("| into | pages | duplicates | wall | pages/min | CPU s | pages/CPU-min |")
    print("|---|---|---|---|---|---|---|")
    for name, path in (("an empty archive", empty), ("this archive (%d pages)" % n_pages, archive),
                       ("an empty archive, again", empty + "2")):
        report, wall, cpu = ingest_one(chartdesk, env, path, args.ingest)
        pages = report["pages_in"] - report["duplicate"]
        print("| %s | %d | %d | %.1f s | %.1f | %.1f | %.1f |" % (
            name, pages, report["duplicate"], wall, 60 * pages / wall if wall else 0, cpu,
            60 * pages / cpu if cpu else 0), flush=True)
        if path.endswith("2"):
            for suffix in ("", "-wal", "-shm", ".lock", ".audit-anchor"):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)

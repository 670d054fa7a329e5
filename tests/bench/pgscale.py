"""`bench.py search-scale --backends sqlite,postgresql`: the search benchmark
on both archive backends, side by side.

The SQLite archive searchbench.py built is loaded, row for row with its ids,
into a private PostgreSQL cluster (`pg-search-bench --serve`: the test
helper tests/cd-pg-cluster.c starts it and cd_pg_archive_open() makes the
schema; it lives until our pipe to it closes). The rows go in with COPY,
streamed from the SQLite file through psql, the pages' indexes dropped
during the load and made again after it (the server computes each page's
stored tsvector as on delivery), then VACUUM ANALYZE.

Each query class then runs on both backends as a user runs it (one
`chartdesk search` process per query: the SQLite file with --no-service,
postgresql://… on the server) and in-process (--repeat, the library's own
time). Each backend's total is checked against a plain SQL count on that
backend, and the two totals against each other: the server searches with
the `english` configuration (stemming, stop words), SQLite with FTS5's
unicode61 tokenizer, so a class whose word is an English stop word or has
other forms on these pages gets a word both backends count the same
(the table says which).
"""
import json
import os
import subprocess
import sys
import time

import searchbench

PAGE_COLUMNS = ("id, batch_id, document_id, seq, kind, reason, source_path, source_page, source_sha256, xres, yres, "
                "image_sha256, rotation, skew, text, words, confidence, problems, facts, created")
DOCUMENT_COLUMNS = "id, batch_id, patient_mrn, status, type, type_confidence, date, title, created"
PATIENT_COLUMNS = "id, mrn, family, given, middle, dob, sex, merged_into, source, updated"
IMAGE_COLUMNS = "sha256, format, width, height, depth, xres, yres, data"


class Server:
    """A private cluster with an empty archive, for as long as this object
    holds `pg-search-bench --serve`'s standard input open."""

    def __init__(self, build_dir):
        binary = os.path.join(build_dir, "tests", "pg-search-bench")
        if not os.path.exists(binary):
            sys.exit("--backends postgresql needs %s (meson compile -C build)" % binary)
        self.proc = subprocess.Popen([binary, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("uri "):
            self.proc.wait()
            sys.exit("pg-search-bench --serve did not start a cluster (exit %s)" % self.proc.returncode)
        self.uri = line[4:]

    def psql(self, sql, stdin=None):
        """Runs @sql (one statement or several -c ones) in one session and
        returns its rows as lists of fields."""
        argv = ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", self.uri]
        for statement in ([sql] if isinstance(sql, str) else sql):
            argv += ["-c", statement]
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("psql: %s\n%s" % (" ".join(argv[9:])[:500], p.stderr))
        return [line.split("\t") for line in p.stdout.splitlines() if line]

    def copy(self, table, columns, rows, before=()):
        """Streams @rows into @table with COPY (text format)."""
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.uri]
        for statement in list(before) + ["COPY %s (%s) FROM STDIN" % (table, columns)]:
            argv += ["-c", statement]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, text=True)
        n = 0
        chunk = []
        for row in rows:
            chunk.append("\t".join(field(v) for v in row))
            n += 1
            if len(chunk) >= 5000:
                p.stdin.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            p.stdin.write("\n".join(chunk) + "\n")
        p.stdin.close()
        if p.wait() != 0:
            sys.exit("COPY %s failed" % table)
        return n

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def field(v):
    """One value in COPY's text format."""
    if v is None:
        return "\\N"
    if isinstance(v, bytes):
        return "\\\\x" + v.hex()
    return (str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))


def load(server, db):
    """The SQLite archive's rows into the server's archive, ids kept."""
    t0 = time.monotonic()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    server.psql("INSERT INTO stations (name, first_delivery) VALUES ('bench', '%s')" % now)
    server.copy("batches", "id, station, source_batch_id, started, finished, actor, workflow, inputs, status",
                db.execute("SELECT id, 'bench', id, started, finished, actor, workflow, inputs, status FROM batches"))
    server.copy("patients", PATIENT_COLUMNS, db.execute("SELECT %s FROM patients" % PATIENT_COLUMNS))
    server.copy("images", IMAGE_COLUMNS, db.execute("SELECT %s FROM images" % IMAGE_COLUMNS))
    server.copy("documents", DOCUMENT_COLUMNS, db.execute("SELECT %s FROM documents ORDER BY id" % DOCUMENT_COLUMNS))
    # the pages' indexes are made again after the load, as the schema has them
    indexes = server.psql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'pages' "
                          "AND indexname <> 'pages_pkey'")
    server.psql(["DROP INDEX %s" % name for name, _ in indexes])
    # the rows come from one consistent archive: no per-row foreign-key
    # checks, and no triggers, so the pages' copies of their document's
    # type and date (cd_pg_search_prepare()) come with them
    columns, select = PAGE_COLUMNS, ", ".join("p." + c.strip() for c in PAGE_COLUMNS.split(","))
    if server.psql("SELECT count(*) FROM pg_attribute WHERE attrelid = 'pages'::regclass AND attname = 'doc_date'"
                   )[0][0] == "1":
        columns += ", doc_type, doc_date"
        select += ", d.type, d.date"
    n = server.copy("pages", columns,
                    db.execute("SELECT %s FROM pages p LEFT JOIN documents d ON d.id = p.document_id ORDER BY p.id"
                               % select),
                    before=["SET session_replication_role = replica"])
    t_copy = time.monotonic() - t0
    server.psql(["SET maintenance_work_mem = '1GB'"] + [definition for _, definition in indexes])
    for table in ("batches", "patients", "documents", "pages"):
        server.psql("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))" % (table, table))
    server.psql("VACUUM ANALYZE")
    return n, t_copy, time.monotonic() - t0


def choose_index(server, index):
    """--pg-index gin: the server searches by its GIN index alone (the
    meta key the library reads at open; the RUM index dropped, so the
    planner cannot take it either). Returns what the server ranks with."""
    has_rum = server.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'pages_rum_filters'")[0][0] == "1"
    if index == "gin":
        server.psql(["INSERT INTO meta (key, value) VALUES ('search-index', 'gin')", "DROP INDEX IF EXISTS pages_rum_filters"])
        return "GIN (meta search-index=gin)"
    return "RUM (pages_rum_filters)" if has_rum else "GIN (the server offers no rum extension)"


def split(argv):
    words, opts, i = [], [], 0
    while i < len(argv):
        if argv[i].startswith("--"):
            opts += argv[i:i + 2]
            i += 2
        else:
            words.append(argv[i])
            i += 1
    return words, opts


def server_truth(server, argv):
    """The server's right total, counted plainly in SQL with the tsquery
    the search makes (each word a quoted phrase)."""
    words, opts = split(argv)
    where = ["TRUE"]
    o = dict(zip(opts[0::2], opts[1::2]))
    for key, col, op in (("--mrn", "d.patient_mrn", "="), ("--type", "d.type", "="), ("--from", "d.date", ">="),
                         ("--to", "d.date", "<="), ("--status", "d.status", "=")):
        if key in o:
            where.append("%s %s '%s'" % (col, op, o[key].replace("'", "''")))
    if words:
        q = " ".join(w if w.startswith('"') else '"%s"' % w for w in words).replace("'", "''")
        sql = ("SELECT count(*) FROM pages p LEFT JOIN documents d ON d.id = p.document_id WHERE p.tsv @@ "
               "websearch_to_tsquery('english', '%s') AND %s" % (q, " AND ".join(where)))
    else:
        sql = ("SELECT count(*) FROM documents d JOIN pages p ON p.document_id = d.id AND p.seq = 0 WHERE "
               + " AND ".join(where))
    return int(server.psql(sql)[0][0])


def same_on_both(server, db, word, n_pages):
    """Whether the server counts @word's pages as FTS5 does: not a stop
    word, and no other form on these pages stems to it."""
    row = db.execute("SELECT doc FROM temp.v WHERE term = ?", (word,)).fetchone()
    if row is None or not stems_to_itself(server, word):
        return False
    return server_truth(server, [word]) == row[0]


def stems_to_itself(server, word):
    lexemes = server.psql("SELECT array_to_string(tsvector_to_array(to_tsvector('english', '%s')), ' ')" % word)
    return bool(lexemes) and lexemes[0][0] == word


def substitute(server, db, word, n_pages, avoid):
    """A word on about as many pages as @word that both backends count the
    same (@word itself when it is one); failing that, the nearest one that
    is no stop word and is its own stem (other forms may add pages)."""
    if same_on_both(server, db, word, n_pages):
        return word
    share = db.execute("SELECT doc FROM temp.v WHERE term = ?", (word,)).fetchone()[0]
    rows = db.execute("SELECT term, doc FROM temp.v WHERE doc BETWEEN ? AND ? AND length(term) >= 4 "
                      "AND term GLOB '[a-z]*' AND term NOT GLOB '*[0-9]*'",
                      (int(share * 0.5), int(share * 1.5) + 1)).fetchall()
    rows = [r for r in rows if r[0] not in avoid and r[0] != word]
    rows.sort(key=lambda r: abs(r[1] - share))
    own = [term for term, _ in rows[:60] if stems_to_itself(server, term)]
    for term in own[:8]:
        if same_on_both(server, db, term, n_pages):
            return term
    return own[0] if own else word


def server_classes(server, db, n_pages):
    """searchbench's classes, with words both backends count the same."""
    out = []
    used = set()
    chosen = {}
    for name, argv in searchbench.classes(db, n_pages):
        words, opts = split(argv)
        new = []
        for w in words:
            if w.startswith('"'):
                # a phrase of stop words is not a phrase on the server
                stops = [t for t in w.strip('"').split() if not server.psql(
                    "SELECT tsvector_to_array(to_tsvector('english', '%s'))" % t)[0][0].strip("{}")]
                new.append('"blood pressure"' if stops else w)
            elif w == searchbench.RARE:
                new.append(w)
            else:
                if w not in chosen:
                    chosen[w] = substitute(server, db, w, n_pages, used | set(words))
                new.append(chosen[w])
            used.add(new[-1])
        if new != words:
            for old, w in zip(words, new):
                if old != w:
                    name = name.replace(old.strip('"'), w.strip('"'))
            name += " *"
        out.append((name, new + opts))
    return out


def measure(chartdesk, env, location, argv, runs, extra):
    """CLI times (one process per query), in-process times (--repeat), the
    last answer."""
    cmd = [chartdesk, "search", "--json"] + extra + [location] + argv
    cli, out = [], None
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        cli.append(1000 * (time.monotonic() - t0))
        if p.returncode != 0:
            sys.exit("%s: %s" % (" ".join(cmd), p.stderr))
        out = json.loads(p.stdout)
    p = subprocess.run(cmd + ["--repeat", str(runs)], env=env, capture_output=True, text=True)
    inproc = [float(line.split()[1]) for line in p.stderr.splitlines() if line.startswith("search-ms ")]
    if not inproc:
        sys.exit("%s --repeat: %s" % (" ".join(cmd), p.stderr))
    return cli, inproc, out


def verdict(out, right):
    total = out["total"]
    if out["total_is_estimate"]:
        return right >= total and len(out["hits"]) == min(20, right), "≥ %d" % total
    return right == total and len(out["hits"]) == min(20, right), "%d" % total


def side_by_side(args, build_dir, chartdesk, env, workdir, archive, db, n_pages):
    backends = set(args.backends.split(","))
    if not backends <= {"sqlite", "postgresql"}:
        sys.exit("--backends: sqlite, postgresql or both")
    server = Server(build_dir)
    try:
        n, t_copy, t_load = load(server, db)
        print("PostgreSQL: %d pages loaded into a private cluster in %.0f s (COPY %.0f s, then the pages' "
              "indexes and VACUUM ANALYZE)" % (n, t_load, t_copy), flush=True)
        ranked_by = choose_index(server, getattr(args, "pg_index", "rum"))
        print("server ranks by: %s" % ranked_by)
        size = server.psql("SELECT pg_size_pretty(pg_database_size(current_database()))")[0][0]
        print("server database: %s; load average %s" % (size, open("/proc/loadavg").read().split(" ", 3)[:3]))
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.v USING fts5vocab(main, pages_fts, row)")
        classes = server_classes(server, db, n_pages)
        print()
        print("%d runs per class and backend; CLI: one `chartdesk search` process per query (SQLite: "
              "--no-service), in-process: the library's own time (--repeat). * : a word the english "
              "configuration would read differently replaced by one both backends count alike."
              % args.runs)
        print()
        print("| query | SQLite CLI p50 / p99 | SQLite in-process p50 / p99 | server CLI p50 / p99 | "
              "server in-process p50 / p99 | plans | totals (SQLite / server) | answers | both count |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, argv in classes:
            cells, plans, totals, answers = [], [], [], []
            right_s, _ = searchbench.truth(db, argv)
            right_p = server_truth(server, argv)
            for backend, location, extra, right in (("sqlite", archive, ["--no-service"], right_s),
                                                    ("postgresql", server.uri, [], right_p)):
                if backend not in backends:
                    cells += ["—", "—"]
                    continue
                cli, inproc, out = measure(chartdesk, env, location, argv, args.runs, extra)
                ok, shown = verdict(out, right)
                cells += ["%.0f / %.0f ms" % (searchbench.pct(cli, 0.5), searchbench.pct(cli, 0.99)),
                          "%.1f / %.1f ms" % (searchbench.pct(inproc, 0.5), searchbench.pct(inproc, 0.99))]
                plans.append(out["plan"])
                totals.append(shown)
                answers.append("right" if ok else "**WRONG** (%d)" % right)
            same = "same count" if right_s == right_p else "**counts differ** (%d / %d)" % (right_s, right_p)
            print("| %s | %s | %s | %s | %s | %s |" % (name, " | ".join(cells), " / ".join(plans),
                                                       " / ".join(totals), " / ".join(answers), same), flush=True)
    finally:
        server.close()

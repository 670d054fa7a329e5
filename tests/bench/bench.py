#!/usr/bin/python3
"""Chartdesk benchmarks: figures printed beside the peers they are compared
with. Never run by the test suite; see "Benchmarks" in the README.

  tests/bench/bench.py ingest   [--pages 200] [--seed 7] [--rounds 1]  pages/min, peak memory, search latency
  tests/bench/bench.py ocr      [--pages 200] [--seed 11] [--turned N] [--sets degraded,clean,public,funsd]
                                                           accuracy after cleanup vs tesseract and OCRmyPDF,
                                                           on generated pages and real scans (FUNSD halves)
  tests/bench/bench.py identity [--charts 60] [--seed 5]   patient filing and document boundaries
  tests/bench/bench.py classify [--per-type 358] [--ocr-per-type 10]  document types: synthetic OCR'd
                                                           charts and mtsamples vs a bag-of-words MLP
  tests/bench/bench.py index    [--pages 200] [--tune]   boundaries, page types, filing on held-out templates
  tests/bench/bench.py types CHARTS EXPORT [--fresh-model]  those page types under other classifier weights
  tests/bench/bench.py search-scale [--pages 100000] [--runs 20] [--against BUILD]  search latency per query class on an archive
                                                           it builds (mtsamples text, shared page image)
                                       [--backends sqlite,postgresql]  ... and on a private PostgreSQL cluster,
                                                           side by side

Inputs are generated deterministically by samples/generate.py into
build/bench/ (reused across runs).
"""
import argparse
import collections
import csv
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CHARTDESK_BUILD", os.path.join(ROOT, "build"))
CHARTDESK = os.path.join(BUILD, "core", "cli", "chartdesk")
PYTHON = "/usr/bin/python3"
ENV = dict(os.environ, OMP_THREAD_LIMIT="1")


def cores():
    return os.cpu_count() or 1


def generate(kind, args):
    """Makes (once) a generated batch; returns its folder."""
    name = "-".join([kind] + [a.lstrip("-") for a in args])
    out = os.path.join(BUILD, "bench", name)
    if not os.path.exists(os.path.join(out, "ground-truth.jsonl")):
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        subprocess.run([PYTHON, os.path.join(ROOT, "samples", "generate.py"), kind, "--out", out] + list(args),
                       check=True)
    return out


def ground_truth(folder):
    with open(os.path.join(folder, "ground-truth.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def images(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.endswith((".tif", ".tiff", ".png", ".jpg")))


def measure(argv, env=ENV):
    """Runs a command in a child that reports its own children's peak RSS, so
    each engine's memory is measured alone. Returns (seconds, peak_kib)."""
    probe = ("import resource,subprocess,sys,time\n"
             "t=time.monotonic()\n"
             "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL)\n"
             "print(time.monotonic()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n")
    out = subprocess.run([PYTHON, "-c", probe] + argv, env=env, check=True, capture_output=True, text=True)
    seconds, kib, rc = out.stdout.split()
    if int(rc) not in (0, 3):
        sys.exit("command failed (%s): %s" % (rc, " ".join(argv)))
    return float(seconds), int(kib)


def export(archive):
    out = subprocess.run([CHARTDESK, "export", "--json", archive], check=True, capture_output=True, text=True,
                         env=ENV)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def exported_pages(records):
    """(path, page) → (page object, its document or None)."""
    pages = {}
    for rec in records:
        if "pages" in rec:
            for p in rec["pages"]:
                pages[(os.path.basename(p["source"]["path"]), p["source"]["page"])] = (p, rec)
        else:
            pages[(os.path.basename(rec["source"]["path"]), rec["source"]["page"])] = (rec, None)
    return pages


def bare_tesseract(files, outdir, n):
    """The peer: the tesseract CLI, one process per core, single-threaded.
    Returns seconds, peak KiB; text in outdir/NAME.txt (pages split by \\f)."""
    script = ("import subprocess,sys,os\n"
              "from concurrent.futures import ThreadPoolExecutor\n"
              "files=sys.argv[2:]; out=sys.argv[1]\n"
              "def one(f): subprocess.run(['tesseract',f,os.path.join(out,os.path.basename(f))],"
              "stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,check=True)\n"
              "with ThreadPoolExecutor(%d) as ex: list(ex.map(one,files))\n" % n)
    return measure([PYTHON, "-c", script, outdir] + files)


# ------------------------------------------------------------------ ingest

def warm_file_cache(files):
    """Reads every input once, so that no engine pays for the disk."""
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(1 << 20):
                pass


def cmd_ingest(args):
    """Pages/min and peak memory of the bare tesseract CLI, Chartdesk ocr-only
    and Chartdesk chart-intake on the same pages. Before anything is timed
    the inputs are read once (file cache) and every engine runs untimed over a
    few pages (program, libraries and language data loaded once), so no
    engine pays for going first; with --rounds the order also rotates."""
    folder = generate("degraded", ["--pages", str(args.pages), "--seed", str(args.seed)])
    files = images(folder)
    n_pages = len(ground_truth(folder))
    n = cores()
    engines = [("tesseract CLI (%d processes)" % n, None)]
    engines += [("chartdesk %s (%d workers)" % (w, n), w) for w in args.workflows]
    times = {name: [] for name, _ in engines}
    peaks = {name: 0 for name, _ in engines}
    warm = files[:max(1, args.warmup)]
    warm_file_cache(files)

    with tempfile.TemporaryDirectory() as tmp:
        def run_engine(workflow, inputs, tag):
            if workflow is None:
                outdir = os.path.join(tmp, "txt-" + tag)
                os.makedirs(outdir)
                return bare_tesseract(inputs, outdir, n)
            # a fresh archive each time: a second ingest would skip archived files
            archive = os.path.join(tmp, "%s-%s.archive" % (workflow, tag))
            argv = [CHARTDESK, "ingest", "--quiet", "--workflow", workflow, archive]
            return measure(argv + (inputs if tag.startswith("warm") else [folder]))

        for name, workflow in engines:  # untimed
            run_engine(workflow, warm, "warm-%d" % len(times[name]))
        for r in range(args.rounds):
            order = engines[r % len(engines):] + engines[:r % len(engines)]
            for name, workflow in order:
                secs, kib = run_engine(workflow, files, "round-%d" % r)
                times[name].append(secs)
                peaks[name] = max(peaks[name], kib)

        search_ms = []
        if args.workflows:
            archive = os.path.join(tmp, "%s-round-0.archive" % args.workflows[0])
            for word in ("patient", "pneumonia", "history", "mg", "discharge", "blood pressure", "allergies",
                         "diagnosis", "follow", "admitted"):
                t = time.monotonic()
                subprocess.run([CHARTDESK, "search", "--json", archive, word], check=True, capture_output=True)
                search_ms.append(1000 * (time.monotonic() - t))

    print("Ingest benchmark: %d pages in %d files (%s), %d cores, OMP_THREAD_LIMIT=1" %
          (n_pages, len(files), os.path.basename(folder), n))
    print("warm-up: inputs read once, then every engine untimed over %d file(s); %d timed round(s)%s" %
          (len(warm), args.rounds, ", median shown, order rotated" if args.rounds > 1 else ""))
    print("%-36s %8s %10s %10s %16s" % ("engine", "seconds", "pages/min", "peak RSS", "vs tesseract CLI"))
    bare = statistics.median(times[engines[0][0]])
    for name, workflow in engines:
        secs = statistics.median(times[name])
        note = "largest process" if workflow is None else "one process"
        print("%-36s %8.1f %10.1f %6.0f MiB %15.2f×  (peak RSS: %s)" %
              (name, secs, 60 * n_pages / secs, peaks[name] / 1024, bare / secs, note))
    if search_ms:
        print("search latency (chartdesk search, process start included): median %.1f ms, max %.1f ms over %d queries"
              % (statistics.median(search_ms), max(search_ms), len(search_ms)))
    if n_pages < 100:
        print("note: %d pages is a smoke run; measure with --pages 200 or more on a quiet machine" % n_pages)


# ------------------------------------------------------------------ ocr accuracy

def normalise_chars(text):
    return " ".join((text or "").split())


def words(text):
    out = []
    for w in (text or "").lower().split():
        w = w.strip(".,;:!?\"'()[]{}<>*")
        if w:
            out.append(w)
    return out


def levenshtein(a, b):
    """Edit distance in O(len(a)) vector steps (numpy when available)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    try:
        import numpy as np
    except ImportError:
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(len(b) + 1)
    prev = idx.copy()
    aa = np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32)
    for i, c in enumerate(aa):
        cand = np.empty(len(b) + 1, dtype=np.int64)
        cand[0] = i + 1
        cand[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (bb != c))
        # insertions: cur[j] = min over k<=j of cand[k] + (j - k)
        prev = np.minimum.accumulate(cand - idx) + idx
    return int(prev[-1])


def word_misses(truth, text):
    t = collections.Counter(words(truth))
    o = collections.Counter(words(text))
    return sum(t.values()), sum((t - o).values())


def looks_blank(text):
    return not any(len(w) >= 2 and any(c.isalpha() for c in w) for w in words(text))


class Score:
    def __init__(self, name):
        self.name = name
        self.chars = self.char_errors = self.words = self.word_errors = 0
        self.blank_tp = self.blank_fp = self.blank_fn = 0
        self.turned = self.turned_ok = 0
        self.seconds = 0.0
        self.per_page = {}  # (path, page) -> (truth words, missed)
        self.missed_words = {}  # (path, page) -> the truth's words missed (for --per-page)
        self.upright = self.upright_turned = 0  # upright pages, and those the engine turned
        self.turned_right = 0  # turned pages the engine turned upright

    def add(self, truth, text, predicted_blank, rotation=None):
        is_blank = truth["kind"] == "blank"
        if is_blank and predicted_blank:
            self.blank_tp += 1
        elif predicted_blank:
            self.blank_fp += 1
        elif is_blank:
            self.blank_fn += 1
        if is_blank or truth["kind"] != "page":
            return
        t = normalise_chars(truth["text"])
        self.chars += len(t)
        self.char_errors += levenshtein(t, normalise_chars(text))
        n, missed = word_misses(truth["text"], text)
        self.words += n
        self.word_errors += missed
        self.per_page[(os.path.basename(truth["path"]), truth["page"])] = (n, missed)
        self.missed_words[(os.path.basename(truth["path"]), truth["page"])] = sorted(
            (collections.Counter(words(truth["text"])) - collections.Counter(words(text))).elements())
        if rotation is not None and truth.get("rotation", 0) % 360 != 0:
            self.turned_right += 1 if rotation % 360 == truth["rotation"] % 360 else 0
        if rotation is not None and truth.get("rotation", 0) % 360 == 0:
            self.upright += 1
            self.upright_turned += 1 if rotation % 360 != 0 else 0
        if truth.get("rotation", 0) % 360 != 0:
            self.turned += 1
            self.turned_ok += 1 if n == 0 or missed / n <= 0.10 else 0

    def row(self, n_pages):
        def pct(a, b):
            return 100.0 * a / b if b else float("nan")
        precision = pct(self.blank_tp, self.blank_tp + self.blank_fp)
        recall = pct(self.blank_tp, self.blank_tp + self.blank_fn)
        return "%-34s %7.2f%% %7.2f%% %9.1f %6.1f%% %6.1f%% %6s" % (
            self.name, pct(self.char_errors, self.chars), pct(self.word_errors, self.words),
            60 * n_pages / self.seconds if self.seconds else float("nan"), precision, recall,
            "%d/%d" % (self.turned_ok, self.turned))


def split_pages(text):
    pages = text.split("\f")
    return pages


def score_text_files(score, truth, outdir, suffix):
    by_file = collections.defaultdict(list)
    for t in truth:
        by_file[os.path.basename(t["path"])].append(t)
    for name, ts in by_file.items():
        try:
            with open(os.path.join(outdir, name + suffix), encoding="utf-8", errors="replace") as f:
                pages = split_pages(f.read())
        except FileNotFoundError:
            pages = []
        for t in ts:
            text = pages[t["page"]] if t["page"] < len(pages) else ""
            score.add(t, text, looks_blank(text))


def run_ocrmypdf(files, outdir, n, dpi=300):
    script = ("import subprocess,sys,os\n"
              "from concurrent.futures import ThreadPoolExecutor\n"
              "files=sys.argv[2:]; out=sys.argv[1]\n"
              "def one(f):\n"
              "  b=os.path.join(out,os.path.basename(f))\n"
              "  subprocess.run(['ocrmypdf','--jobs','1','--rotate-pages','--deskew','--clean','--image-dpi','%d',"
              "'--sidecar',b+'.txt','--output-type','pdf',f,b+'.pdf'],stdout=subprocess.DEVNULL,"
              "stderr=subprocess.DEVNULL)\n"
              "with ThreadPoolExecutor(%d) as ex: list(ex.map(one,files))\n" % (dpi, n))
    return measure([PYTHON, "-c", script, outdir] + files)


def ocr_report(title, folder, truth, args, peer_dpi=300):
    files = images(folder)
    n = cores()
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "ocr.archive")
        secs, _ = measure([CHARTDESK, "ingest", "--quiet", "--workflow", args.workflow, archive, folder])
        s = Score("chartdesk %s" % args.workflow)
        s.seconds = secs
        pages = exported_pages(export(archive))
        for t in truth:
            page, _doc = pages.get((os.path.basename(t["path"]), t["page"]), ({}, None))
            s.add(t, page.get("text") or "", page.get("kind") == "blank", page.get("rotation") or 0)
        scores.append(s)

        if getattr(args, "without_fixes", False):  # the same workflow without cd-ocr-fixes.c's corrections
            archive = os.path.join(tmp, "ocr-nofix.archive")
            secs, _ = measure([CHARTDESK, "ingest", "--quiet", "--workflow", args.workflow, archive, folder],
                              env=dict(ENV, CHARTDESK_OCR_FIXES="off"))
            s = Score("chartdesk-nofix %s" % args.workflow)
            s.seconds = secs
            pages = exported_pages(export(archive))
            for t in truth:
                page, _doc = pages.get((os.path.basename(t["path"]), t["page"]), ({}, None))
                s.add(t, page.get("text") or "", page.get("kind") == "blank", page.get("rotation") or 0)
            scores.append(s)

        outdir = os.path.join(tmp, "tesseract")
        os.makedirs(outdir)
        s = Score("tesseract CLI")
        s.seconds, _ = bare_tesseract(files, outdir, n)
        score_text_files(s, truth, outdir, ".txt")
        scores.append(s)

        if shutil.which("ocrmypdf") and not args.no_ocrmypdf:
            outdir = os.path.join(tmp, "ocrmypdf")
            os.makedirs(outdir)
            s = Score("ocrmypdf --rotate-pages --deskew --clean")
            s.seconds, _ = run_ocrmypdf(files, outdir, n, peer_dpi)
            score_text_files(s, truth, outdir, ".txt")
            scores.append(s)

    if getattr(args, "per_page", None):
        with open(args.per_page, "a", encoding="utf-8") as f:
            for t in truth:
                key = (os.path.basename(t["path"]), t["page"])
                for s in scores:
                    if key in s.per_page:
                        f.write(json.dumps({"set": title, "engine": s.name, "file": key[0], "page": key[1],
                                            "dpi": t.get("dpi"), "rotation": t.get("rotation", 0),
                                            "degradations": t.get("degradations"), "words": s.per_page[key][0],
                                            "missed": s.per_page[key][1], "missed_words": s.missed_words[key]})
                                + "\n")

    print(title)
    print("%-34s %8s %8s %9s %7s %7s %6s" % ("engine", "CER", "WER", "pages/min", "blankP", "blankR", "turned"))
    for s in scores:
        print(s.row(len(truth)))
    profiles = sorted({t.get("dpi") for t in truth if t.get("dpi")})
    if len(profiles) > 1:  # the scan profiles of a generated set, by resolution
        for dpi in profiles:
            keys = {(os.path.basename(t["path"]), t["page"]) for t in truth if t.get("dpi") == dpi}
            cells = []
            for s in scores:
                n = sum(v[0] for k, v in s.per_page.items() if k in keys)
                m = sum(v[1] for k, v in s.per_page.items() if k in keys)
                cells.append("%s %.2f%%" % (s.name.split()[0], 100.0 * m / n if n else float("nan")))
            print("  %d dpi pages (%d): WER %s" % (dpi, len(keys), ", ".join(cells)))
    return scores


SHARED = os.environ.get("CHARTDESK_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/data"

import ocr_real  # noqa: E402  (the real scans: FUNSD, tesseract-ocr-test, OCRmyPDF resources)


def worse_pages(mine, other):
    """Pages @mine read with more words missed than @other."""
    return sum(1 for k, (_n, m) in mine.per_page.items() if k in other.per_page and m > other.per_page[k][1])


def cmd_ocr(args):
    sets = set(args.sets.split(","))
    peer_sets = set(args.ocrmypdf_sets.split(",")) if args.ocrmypdf_sets else sets | {"funsd-tune", "funsd-report"}
    no_peer = args.no_ocrmypdf

    def report(name, title, folder, truth, peer_dpi=300):
        args.no_ocrmypdf = no_peer or name not in peer_sets
        return ocr_report(title, folder, truth, args, peer_dpi)

    print("OCR accuracy, %d cores, OMP_THREAD_LIMIT=1; sets: %s (OCRmyPDF on: %s)" % (
        cores(), ", ".join(sorted(sets)), "none" if no_peer else ", ".join(sorted(peer_sets))))
    print("CER: character edit distance / truth characters (whitespace collapsed); WER: share of truth words "
          "missing (order-insensitive, lowercase, outer punctuation stripped); turned: upside-down and sideways "
          "pages read with WER <= 10%; blank P/R: blank-page precision and recall (peers: no word read)")
    degraded = cleaned = []
    if "degraded" in sets:
        folder = generate("degraded", ["--pages", str(args.pages), "--seed", str(args.seed)])
        degraded = report("degraded", "Degraded set: %d generated pages (%s)" % (len(ground_truth(folder)), folder),
                          folder, ground_truth(folder))
    if "clean" in sets:
        clean = generate("degraded", ["--pages", str(max(20, args.pages // 5)), "--seed", str(args.seed), "--clean"])
        cleaned = report("clean", "Clean set: %d generated pages" % len(ground_truth(clean)), clean,
                         ground_truth(clean))
    public_scores = []
    real = {}
    with tempfile.TemporaryDirectory() as tmp:
        public = ocr_real.public_set(SHARED, tmp) if "public" in sets else None
        if "public" in sets and public is None:
            print("Public set: %s not found, skipped" % SHARED)
        elif public is not None:
            public_scores = report("public", "Public set: tesseract-ocr-test scans and OCRmyPDF's linn.png with "
                                   "their reference text (%d pages, %s)" % (len(public[1]), SHARED),
                                   public[0], public[1])
        for half in [h for h in ("tune", "report") if "funsd" in sets or "funsd-" + h in sets]:
            got = ocr_real.funsd_set(SHARED, tmp, half)
            if got is None:
                print("FUNSD: %s not found, skipped" % os.path.join(SHARED, ocr_real.FUNSD))
                break
            real[half] = report("funsd-" + half, "FUNSD %s half: %d real 1980s-90s office forms, ~100 dpi grey, no "
                                "resolution tag (word truth from the annotations)%s" % (
                                    half, len(got[1]), "; thresholds were looked at on this half" if half == "tune"
                                    else "; nothing was tuned on this half"), got[0], got[1],
                                # the forms are about 100 dpi; OCRmyPDF needs a value for untagged images
                                peer_dpi=100)
    if args.turned:
        turned = generate("degraded", ["--pages", str(args.turned), "--seed", str(args.seed + 1), "--upside-down", "0.3",
                                       "--sideways", "0.3", "--blank", "0.15", "--signature", "0.1"])
        turned_scores = report("turned", "Turned set: %d generated pages, 30%% upside down, 30%% sideways, 15%% "
                               "blank backs, 10%% signature only" % args.turned, turned, ground_truth(turned))
        public_scores += turned_scores
    args.no_ocrmypdf = no_peer

    def wer(s):
        return s.word_errors / s.words if s.words else float("nan")

    lines = []
    d = {s.name.split()[0]: s for s in degraded}
    k = {s.name.split()[0]: s for s in cleaned}
    if d:
        c, t = d["chartdesk"], d["tesseract"]
        if "ocrmypdf" in d:
            o = d["ocrmypdf"]
            lines.append("WER %.2f%% <= half of OCRmyPDF's %.2f%%: %s" % (
                100 * wer(c), 100 * wer(o), "yes" if wer(c) <= 0.5 * wer(o) else "NO"))
            lines.append("pages/min %.1f× OCRmyPDF's (>= 5×): %s" % (
                o.seconds / c.seconds, "yes" if o.seconds >= 5 * c.seconds else "NO"))
        lines.append("pages/min %.2f× tesseract's on the degraded set (>= 0.8×): %s (same run; under contention "
                     "only the ratio means anything)" % (t.seconds / c.seconds, "yes" if t.seconds >= 0.8 * c.seconds
                                                         else "NO"))
    if k:
        lines.append("clean set WER %.2f%% <= tesseract's %.2f%%: %s" % (
            100 * wer(k["chartdesk"]), 100 * wer(k["tesseract"]),
            "yes" if k["chartdesk"].word_errors <= k["tesseract"].word_errors else "NO"))
    for half, scores in real.items():
        f = {s.name.split()[0]: s for s in scores}
        c_, t_ = f["chartdesk"], f["tesseract"]
        line = "FUNSD %s half WER %.2f%% <= tesseract's %.2f%%: %s; worse than tesseract on %d of %d pages" % (
            half, 100 * wer(c_), 100 * wer(t_), "yes" if wer(c_) <= wer(t_) else "NO", worse_pages(c_, t_),
            len(c_.per_page))
        if "ocrmypdf" in f:
            line += "; OCRmyPDF %.2f%%" % (100 * wer(f["ocrmypdf"]))
        lines.append(line)
        lines.append("FUNSD %s half upright pages turned: %d of %d: %s; pages/min %.2f× tesseract's" % (
            half, c_.upright_turned, c_.upright, "yes" if c_.upright_turned == 0 else "NO",
            t_.seconds / c_.seconds))
    mine = [s for s in degraded + public_scores if s.name.startswith("chartdesk ")]  # not chartdesk-nofix
    lines.append("turned pages turned upright: %d/%d: %s" % (
        sum(s.turned_right for s in mine), sum(s.turned for s in mine),
        "yes" if all(s.turned_right == s.turned for s in mine) else "NO"))
    lines.append("turned pages read: %d/%d: %s" % (
        sum(s.turned_ok for s in mine), sum(s.turned for s in mine),
        "yes" if all(s.turned_ok == s.turned for s in mine) else "NO"))
    tp, fp, fn = (sum(getattr(s, a) for s in mine) for a in ("blank_tp", "blank_fp", "blank_fn"))
    lines.append("blank precision %.1f%%, recall %.1f%% (>= 99%%): %s" % (
        100.0 * tp / max(1, tp + fp), 100.0 * tp / max(1, tp + fn),
        "yes" if tp >= 0.99 * max(1, tp + fp) and tp >= 0.99 * max(1, tp + fn) else "NO"))
    print("targets:")
    for line in lines:
        print("  " + line)


# ------------------------------------------------------------------ identity

def cmd_identity(args):
    folder = generate("charts", ["--charts", str(args.charts), "--seed", str(args.seed)])
    truth = ground_truth(folder)
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "id.archive")
        subprocess.run([CHARTDESK, "mpi", "import", archive, os.path.join(folder, "mpi.csv")], check=True,
                       capture_output=True, env=ENV)
        secs, _ = measure([CHARTDESK, "ingest", "--quiet", "--workflow", args.workflow, archive, folder])
        pages = exported_pages(export(archive))

    # A page of a patient missing from the index cannot be proven: review is
    # the right outcome for it, so the filing target counts the others.
    with open(os.path.join(folder, "mpi.csv"), newline="", encoding="utf-8") as f:
        indexed = {row["mrn"] for row in csv.DictReader(f)}
    filed = misfiled = review = other = 0
    provable = 0
    misfiled_list = []
    kinds_right = kinds_total = 0
    truth_starts = set()
    predicted_starts = set()
    for t in truth:
        key = (os.path.basename(t["path"]), t["page"])
        page, doc = pages.get(key, ({}, None))
        if t["kind"] in ("cover", "separator", "blank"):
            kinds_total += 1
            kinds_right += 1 if page.get("kind") == t["kind"] else 0
            continue
        if t.get("starts_document"):
            truth_starts.add(key)
        if doc is None:
            other += 1
            continue
        if doc["pages"][0] is page:
            predicted_starts.add(key)
        mrn = (doc.get("patient") or {}).get("mrn")
        if t.get("patient_mrn") in indexed:
            provable += 1
        if mrn is None:
            review += 1
        elif mrn == t.get("patient_mrn"):
            filed += 1
        else:
            misfiled += 1
            misfiled_list.append((key, mrn, t.get("patient_mrn")))
    n = filed + misfiled + review + other
    hits = len(truth_starts & predicted_starts)
    print("Identity benchmark: %d charts, %d pages (%s), %.0f pages/min" % (
        args.charts, len(truth), os.path.basename(folder), 60 * len(truth) / secs))
    print("document pages: %d; filed to the right patient %d (%.1f%%), misfiled %d, sent to review %d (%.1f%%), "
          "not in a document %d" % (n, filed, 100.0 * filed / n, misfiled, review, 100.0 * review / n, other))
    print("pages whose patient is in the patient index: %d; filed to the right patient %d (%.1f%%); "
          "the other %d pages (patients missing from the index) can only go to review" % (
              provable, filed, 100.0 * filed / max(1, provable), n - provable))
    print("cover/separator/blank sheets recognised: %d/%d" % (kinds_right, kinds_total))
    print("document boundaries: precision %.1f%%, recall %.1f%% (%d true, %d found)" % (
        100.0 * hits / max(1, len(predicted_starts)), 100.0 * hits / max(1, len(truth_starts)),
        len(truth_starts), len(predicted_starts)))
    print("targets: 0 misfiled: %s; >= 97%% of provable pages filed automatically: %s; >= 95%% boundaries: %s" % (
        "yes" if misfiled == 0 else "NO", "yes" if filed >= 0.97 * provable else "NO",
        "yes" if hits >= 0.95 * max(len(truth_starts), len(predicted_starts)) else "NO"))
    for key, got, want in misfiled_list[:20]:
        print("  MISFILED %s page %d: filed to %s, belongs to %s" % (key[0], key[1] + 1, got, want))


# ---------------------------------------------------------------- classify

def classify_write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", "text"])
        w.writerows(rows)


def classify_evaluate(train_csv, test_csv):
    """Chartdesk's trained classifier through its CLI: the report JSON."""
    out = subprocess.run([CHARTDESK, "classify", "evaluate", "--csv", train_csv, "--test", test_csv, "--json"],
                         env=ENV, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def classify_train_seconds(rows, workdir, n=5000):
    """`chartdesk classify train` on @n documents (@rows cycled): seconds."""
    big = [rows[i % len(rows)] for i in range(n)]
    path = os.path.join(workdir, "train-%d.csv" % n)
    archive = os.path.join(workdir, "timing.archive")
    classify_write_csv(path, big)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(archive + suffix):
            os.unlink(archive + suffix)
    out = subprocess.run([CHARTDESK, "classify", "train", archive, "--csv", path, "--json"], env=ENV, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def classify_baseline(train, test):
    """The Paperless-ngx approach: word 1-2-gram counts (min_df 1%) and a
    multilayer perceptron, with scikit-learn. Returns (macro-F1, train s,
    ms per document, per-type F1)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import f1_score
    from sklearn.neural_network import MLPClassifier
    x, y = [t for _, t in train], [l for l, _ in train]
    xt, yt = [t for _, t in test], [l for l, _ in test]
    t0 = time.monotonic()
    vec = CountVectorizer(analyzer="word", ngram_range=(1, 2), min_df=0.01)
    clf = MLPClassifier(tol=0.01, random_state=0)
    clf.fit(vec.fit_transform(x), y)
    train_s = time.monotonic() - t0
    t0 = time.monotonic()
    pred = clf.predict(vec.transform(xt))
    ms = 1000 * (time.monotonic() - t0) / max(1, len(xt))
    labels = sorted(set(yt))
    per = dict(zip(labels, f1_score(yt, pred, labels=labels, average=None)))
    return f1_score(yt, pred, labels=labels, average="macro"), train_s, ms, per


def classify_ocr_pages(rows_out, workdir, per_type, seed):
    """Renders @per_type test documents of every type as degraded 300 dpi
    scans (first page), reads them with the tesseract CLI (cached) and
    appends (type, OCR text) to @rows_out."""
    sys.path.insert(0, os.path.join(ROOT, "samples"))
    import chartgen as cg
    import doctext
    rng = random.Random(seed)
    jobs = []
    pages = os.path.join(workdir, "ocr-%d-%d" % (per_type, seed))
    os.makedirs(pages, exist_ok=True)
    for i in range(per_type):
        for t in doctext.TYPES:
            lines = doctext.document(rng, t, "test")
            img, _ = cg.render(rng, lines[:48])
            opts = {"fade": rng.random() < 0.4, "noise": rng.random() < 0.5, "blur": rng.random() < 0.4,
                    "specks": rng.random() < 0.5, "holes": rng.random() < 0.2,
                    "skew": rng.uniform(-1.5, 1.5)}
            img, _ = cg.degrade(rng, img, opts)
            base = os.path.join(pages, "%s-%02d" % (t, i))
            jobs.append((t, base))
            if not os.path.exists(base + ".txt"):
                img.save(base + ".png", dpi=(300, 300))

    def one(job):
        t, base = job
        if not os.path.exists(base + ".txt"):
            subprocess.run(["tesseract", base + ".png", base], env=ENV, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            os.unlink(base + ".png")
        with open(base + ".txt", encoding="utf-8") as f:
            return t, f.read()

    t0 = time.monotonic()
    with ThreadPoolExecutor(cores()) as ex:
        rows_out.extend(ex.map(one, jobs))
    return time.monotonic() - t0


def classify_shared_lines(seed, per_type):
    """Lines of 25+ characters a clean test document shares with a clean
    training document: the disjointness check."""
    sys.path.insert(0, os.path.join(ROOT, "samples"))
    import doctext
    train = set()
    for _, text in doctext.corpus(seed, per_type, "train", noise=0):
        train.update(line.strip() for line in text.split("\n") if len(line.strip()) >= 25)
    shared = total = 0
    for _, text in doctext.corpus(seed + 1, max(1, per_type // 4), "test", noise=0):
        for line in text.split("\n"):
            if len(line.strip()) >= 25:
                total += 1
                shared += line.strip() in train
    return shared, total


def classify_report(title, report, baseline=None):
    print("\n%s: %d test documents" % (title, report["documents"]))
    print("  %-22s %9s %9s %9s %8s%s" % ("type", "precision", "recall", "F1", "support",
                                        "  baseline F1" if baseline else ""))
    for t in report["types"]:
        extra = "  %11.3f" % baseline[3].get(t["type"], 0.0) if baseline else ""
        print("  %-22s %9.3f %9.3f %9.3f %8d%s" % (t["type"], t["precision"], t["recall"], t["f1"], t["support"],
                                                   extra))
    print("  macro-F1: chartdesk %.3f%s" % (report["macro-f1"],
                                            "   baseline (bag of words + MLP) %.3f" % baseline[0] if baseline else ""))
    print("  training: chartdesk %.2f s on %d documents%s" % (
        report["train-seconds"], report["train-documents"],
        "   baseline %.2f s" % baseline[1] if baseline else ""))
    print("  classifying: chartdesk %.3f ms/document%s" % (
        report["ms-per-document"], "   baseline %.3f ms/document" % baseline[2] if baseline else ""))


def classify_confusion(report):
    names = [t["type"] for t in report["types"]]
    print("  confusion (rows true, columns predicted, in the order above; last column: no answer)")
    for name, row in zip(names, report["confusion"]):
        print("  %-22s %s" % (name, " ".join("%3s" % (v if v else ".") for v in row)))


def cmd_classify(args):
    sys.path.insert(0, os.path.join(ROOT, "samples"))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import doctext
    from mtsamples_map import load_mapped, shared_data
    workdir = os.path.join(BUILD, "bench", "classify")
    os.makedirs(workdir, exist_ok=True)
    print("Document types. Contended machine: speed figures are indicative.")

    # (a) synthetic chart documents of all 14 types, train and test text disjoint
    train = doctext.corpus(args.seed, args.per_type, "train", args.noise)
    test_sim = doctext.corpus(args.seed + 1, args.test_per_type, "test", args.noise)
    shared, total = classify_shared_lines(args.seed, args.per_type)
    print("\n(a) synthetic charts: %d training documents (OCR noise imitated), test text from disjoint banks; "
          "%d of %d test lines also occur in training" % (len(train), shared, total))
    train_csv = os.path.join(workdir, "synthetic-train.csv")
    classify_write_csv(train_csv, train)
    sim_csv = os.path.join(workdir, "synthetic-test.csv")
    classify_write_csv(sim_csv, test_sim)
    base = None if args.no_baseline else classify_baseline(train, test_sim)
    classify_report("synthetic test text with imitated OCR noise", classify_evaluate(train_csv, sim_csv), base)
    if args.ocr_per_type > 0:
        ocr = []
        seconds = classify_ocr_pages(ocr, workdir, args.ocr_per_type, args.seed + 2)
        ocr_csv = os.path.join(workdir, "synthetic-ocr.csv")
        classify_write_csv(ocr_csv, ocr)
        print("\n  (%d degraded scans rendered and read with the tesseract CLI in %.0f s, cached)" % (len(ocr),
                                                                                                  seconds))
        base = None if args.no_baseline else classify_baseline(train, ocr)
        report = classify_evaluate(train_csv, ocr_csv)
        classify_report("synthetic degraded scans, real Tesseract OCR", report, base)
        classify_confusion(report)

    # (b) real medical transcriptions mapped onto the taxonomy
    data = args.mtsamples or os.path.join(shared_data(ROOT) or "", "mtsamples", "mtsamples-train.csv")
    if not os.path.exists(data):
        print("\n(b) mtsamples: %s not found, skipped" % data)
        return
    rows = load_mapped(data)
    rng = random.Random(args.seed)
    by_type = collections.defaultdict(list)
    for label, text in rows:
        by_type[label].append(text)
    mt_train, mt_test = [], []
    for label in sorted(by_type):
        texts = by_type[label]
        rng.shuffle(texts)
        cut = max(1, round(len(texts) * 0.2))
        mt_test += [(label, t) for t in texts[:cut]]
        mt_train += [(label, t) for t in texts[cut:]]
    print("\n(b) mtsamples: %d distinct reports mapped to %d types (docs/trained-classifier.md); "
          "fixed stratified 80/20 split" % (len(rows), len(by_type)))
    mt_train_csv = os.path.join(workdir, "mtsamples-train.csv")
    mt_test_csv = os.path.join(workdir, "mtsamples-test.csv")
    classify_write_csv(mt_train_csv, mt_train)
    classify_write_csv(mt_test_csv, mt_test)
    base = None if args.no_baseline else classify_baseline(mt_train, mt_test)
    report = classify_evaluate(mt_train_csv, mt_test_csv)
    classify_report("mtsamples held-out reports", report, base)
    classify_confusion(report)

    # (c) speed at 5,000 documents
    for name, source in (("mtsamples", mt_train), ("synthetic", train)):
        r = classify_train_seconds(source, workdir)
        print("\n(c) `chartdesk classify train` on 5,000 %s documents: %.2f s (model %.1f MB)" % (
            name, r["train-seconds"], r["bytes"] / 1e6))


def cmd_index(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import indexbench
    indexbench.cmd_index(args, BUILD, CHARTDESK, ENV)


def cmd_types(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import typecombine
    typecombine.cmd_types(args, BUILD, CHARTDESK, ENV)


def cmd_search_scale(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import searchbench
    from mtsamples_map import shared_data
    searchbench.cmd_search_scale(args, BUILD, CHARTDESK, ENV, shared_data(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="pages/min and peak memory against the bare tesseract CLI")
    p.add_argument("--pages", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workflows", nargs="*", default=["ocr-only", "chart-intake"])
    p.add_argument("--warmup", type=int, default=2 * cores(), help="files of the untimed pass per engine")
    p.add_argument("--rounds", type=int, default=1, help="timed runs per engine (the median is shown)")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("ocr", help="accuracy and speed against bare tesseract and OCRmyPDF")
    p.add_argument("--pages", type=int, default=200)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--workflow", default="chart-intake")
    p.add_argument("--no-ocrmypdf", action="store_true")
    p.add_argument("--turned", type=int, default=0,
                   help="also read N generated pages, 60%% of them turned")
    p.add_argument("--sets", default="degraded,clean,public,funsd",
                   help="which sets to read (degraded, clean, public, funsd)")
    p.add_argument("--without-fixes", action="store_true",
                   help="also read every set with CHARTDESK_OCR_FIXES=off (no cd-ocr-fixes.c corrections)")
    p.add_argument("--per-page", metavar="FILE",
                   help="write each engine's per-page truth words and misses with the page's scan profile (JSON lines)")
    p.add_argument("--ocrmypdf-sets", default="degraded,clean,public,funsd-tune,funsd-report",
                   help="the sets OCRmyPDF also reads (it is slow; turned: add 'turned')")
    p.set_defaults(func=cmd_ocr)
    p = sub.add_parser("identity", help="pages filed, misfiled, to review; document boundaries")
    p.add_argument("--charts", type=int, default=60)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--workflow", default="chart-intake")
    p.set_defaults(func=cmd_identity)
    p = sub.add_parser("classify", help="document-type classification: macro-F1, training and classifying time")
    p.add_argument("--per-type", type=int, default=358, help="training documents per type (14 types)")
    p.add_argument("--test-per-type", type=int, default=50)
    p.add_argument("--ocr-per-type", type=int, default=10, help="rendered, degraded and OCR'd test scans per type")
    p.add_argument("--noise", type=float, default=0.04, help="share of words OCR noise touches")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--mtsamples", help="mtsamples-train.csv (default: the shared data folder)")
    p.add_argument("--no-baseline", action="store_true")
    p.set_defaults(func=cmd_classify)
    p = sub.add_parser("index", help="document boundaries, page-level types and filing on held-out templates")
    p.add_argument("--pages", "--charts-pages", type=int, default=200, help="about this many held-out pages")
    p.add_argument("--tune-pages", type=int, default=240, help="about this many tuning pages (with --tune)")
    p.add_argument("--seed", type=int, default=17)
    p.add_argument("--workflow", default="chart-intake")
    p.add_argument("--tune", action="store_true", help="also ingest the tuning charts (for train_boundaries.py)")
    p.add_argument("--tune-only", action="store_true", help="ingest only the tuning charts")
    p.add_argument("--half", choices=("A", "B"),
                   help="ingest only the charts of this tuning half (templates.py tune-a / tune-b, drawn as the "
                        "held-out side is: no tuning-only material), for the split-bank experiment")
    p.add_argument("--reuse", action="store_true", help="score the last export again instead of ingesting")
    p.add_argument("--classifiers", default="rules;trained",
                   help="the workflow's classifiers; with trained, a model is first trained on the tuning portion")
    p.add_argument("--train-options", default="",
                   help="extra `classify train` options for that model, e.g. \"--no-headings --lead 0\"")
    p.add_argument("--rules", help="this rules file for the rules classifier and the page-type stage "
                   "(export: index-SPLIT-PAGES-SEED.NAME.export.jsonl)")
    p.set_defaults(func=cmd_index)
    p = sub.add_parser("types", help="page-level types of an index export under other classifier combinations")
    p.add_argument("charts", help="the charts folder bench.py index made (build/bench/index-SPLIT-PAGES-SEED)")
    p.add_argument("export", help="its export (build/bench/index-SPLIT-PAGES-SEED.export.jsonl)")
    p.add_argument("--weights", default="0.25,0.5,0.75,1,1.5,2,3", help="weights of trained against rules 1")
    p.add_argument("--fresh-model", action="store_true",
                   help="score with a model trained without the mtsamples reports printed on these charts")
    p.add_argument("--model-archive", help="score with the trained model of this archive instead")
    p.add_argument("--half-model", choices=("A", "B"),
                   help="score with a model trained on this tuning half only (its banks and mtsamples reports; "
                        "the split-bank experiment: score charts of the other half)")
    p.add_argument("--tuning-material", choices=("yes", "no"), default="yes",
                   help="whether the --half-model corpus draws doctext's tuning-only material")
    p.add_argument("--retrain", action="store_true",
                   help="score with a model trained again on the whole tuning corpus (with --train-options)")
    p.add_argument("--pages", type=int, default=None,
                   help="the trained model reads each document's first N pages (its `pages` option; 0: all); "
                        "alone, a model trained again is scored so; default: the classifier's default, 1")
    p.add_argument("--train-options", default="", help="`classify train` options of the fresh or retrained model")
    p.add_argument("--confusion", default="rules 1 : trained 1", help="print the errors of this combination")
    p.add_argument("--rules", help="score the rules classifier again on the exported text with this rules file "
                   "(several, comma-separated: a table for each)")
    p.add_argument("--explain", type=int, default=0, metavar="N",
                   help="also print N of its wrongly typed documents with each classifier's shares and the title")
    p.set_defaults(func=cmd_types)
    p = sub.add_parser("search-scale", help="search latency per query class on an archive of N pages it builds")
    p.add_argument("--pages", type=int, default=100000)
    p.add_argument("--runs", type=int, default=20, help="runs per query class")
    p.add_argument("--seed", type=int, default=23)
    p.add_argument("--mtsamples", help="mtsamples-train.csv (default: the shared data folder)")
    p.add_argument("--through", default="", help="also through 'service', 'web' or 'service,web'")
    p.add_argument("--archive-idle", type=int, metavar="SECONDS",
                   help="--through service: chartdeskd's [service] archive-idle-seconds (0: the archive closed "
                        "after each search, as before 2026-12-04; default: the service's own, 600)")
    p.add_argument("--optimize", action="store_true",
                   help="merge the archive's search index first (`chartdesk archive optimize`)")
    p.add_argument("--workdir", help="where the archive is built (default: the build directory's bench/)")
    p.add_argument("--ingest", help="also `chartdesk ingest DIR` into an empty archive and the big one: pages/min")
    p.add_argument("--against", metavar="BUILD",
                   help="only the CLI: this build's and BUILD's chartdesk, runs interleaved, p50/p99 side by side")
    p.add_argument("--backends", default="sqlite",
                   help="'sqlite' (default), or 'sqlite,postgresql': both side by side (tests/bench/pgscale.py)")
    p.add_argument("--pg-index", default="rum", choices=("rum", "gin"),
                   help="the server's text index for ranking: 'rum' (the RUM index, when the server offers the "
                        "extension; default) or 'gin' (meta search-index=gin, the RUM index dropped)")
    p.set_defaults(func=cmd_search_scale)
    args = parser.parse_args()
    if not os.path.exists(CHARTDESK):
        sys.exit("build first: meson setup build && ninja -C build")
    args.func(args)


if __name__ == "__main__":
    main()

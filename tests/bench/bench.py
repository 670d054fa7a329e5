#!/usr/bin/python3
"""Chartdesk benchmarks: figures printed beside the peers they are compared
with. Never run by the test suite; see "Benchmarks" in the README.

  tests/bench/bench.py ingest   [--pages 200] [--seed 7]   pages/min, peak memory, search latency
  tests/bench/bench.py ocr      [--pages 200] [--seed 11] [--turned N]  accuracy after cleanup vs tesseract and OCRmyPDF
  tests/bench/bench.py identity [--charts 60] [--seed 5]   patient filing and document boundaries

Inputs are generated deterministically by samples/generate.py into
build/bench/ (reused across runs).
"""
import argparse
import collections
import json
import os
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
CHARTDESK = os.path.join(BUILD, "core", "chartdesk")
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

def cmd_ingest(args):
    folder = generate("degraded", ["--pages", str(args.pages), "--seed", str(args.seed)])
    files = images(folder)
    n_pages = len(ground_truth(folder))
    n = cores()
    rows = []
    for f in files:  # warm the file cache, so that no engine pays for reading first
        with open(f, "rb") as fh:
            fh.read()
    with tempfile.TemporaryDirectory() as tmp:
        for workflow in args.workflows:
            archive = os.path.join(tmp, workflow + ".archive")
            secs, kib = measure([CHARTDESK, "ingest", "--quiet", "--workflow", workflow, archive, folder])
            rows.append(("chartdesk %s (%d workers)" % (workflow, n), secs, kib, "1 process"))
        outdir = os.path.join(tmp, "txt")
        os.makedirs(outdir)
        secs, kib = bare_tesseract(files, outdir, n)
        rows.append(("tesseract CLI (%d processes)" % n, secs, kib, "largest process"))

        search_ms = []
        if args.workflows:
            archive = os.path.join(tmp, args.workflows[0] + ".archive")
            for word in ("patient", "pneumonia", "history", "mg", "discharge", "blood pressure", "allergies",
                         "diagnosis", "follow", "admitted"):
                t = time.monotonic()
                subprocess.run([CHARTDESK, "search", "--json", archive, word], check=True, capture_output=True)
                search_ms.append(1000 * (time.monotonic() - t))

    print("Ingest benchmark: %d pages in %d files (%s), %d cores, OMP_THREAD_LIMIT=1" %
          (n_pages, len(files), os.path.basename(folder), n))
    print("%-38s %9s %10s %12s" % ("engine", "seconds", "pages/min", "peak RSS"))
    bare = rows[-1]
    for name, secs, kib, note in rows:
        print("%-38s %9.1f %10.1f %8.0f MiB  (%s)" % (name, secs, 60 * n_pages / secs, kib / 1024, note))
    for name, secs, kib, note in rows[:-1]:
        print("%-38s %9s %9.2f× the tesseract CLI's pages/min" % (name, "", bare[1] / secs))
    if search_ms:
        print("search latency (chartdesk search, process start included): median %.1f ms, max %.1f ms over %d queries"
              % (statistics.median(search_ms), max(search_ms), len(search_ms)))


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

    def add(self, truth, text, predicted_blank):
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


def run_ocrmypdf(files, outdir, n):
    script = ("import subprocess,sys,os\n"
              "from concurrent.futures import ThreadPoolExecutor\n"
              "files=sys.argv[2:]; out=sys.argv[1]\n"
              "def one(f):\n"
              "  b=os.path.join(out,os.path.basename(f))\n"
              "  subprocess.run(['ocrmypdf','--jobs','1','--rotate-pages','--deskew','--clean','--image-dpi','300',"
              "'--sidecar',b+'.txt','--output-type','pdf',f,b+'.pdf'],stdout=subprocess.DEVNULL,"
              "stderr=subprocess.DEVNULL)\n"
              "with ThreadPoolExecutor(%d) as ex: list(ex.map(one,files))\n" % n)
    return measure([PYTHON, "-c", script, outdir] + files)


def ocr_report(title, folder, truth, args):
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
            s.add(t, page.get("text") or "", page.get("kind") == "blank")
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
            s.seconds, _ = run_ocrmypdf(files, outdir, n)
            score_text_files(s, truth, outdir, ".txt")
            scores.append(s)

    print(title)
    print("%-34s %8s %8s %9s %7s %7s %6s" % ("engine", "CER", "WER", "pages/min", "blankP", "blankR", "turned"))
    for s in scores:
        print(s.row(len(truth)))
    return scores


SHARED = os.environ.get("CHARTDESK_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/data"

# The public scans with ground truth: (file, truth file, clockwise turn the scan needs)
PUBLIC = [
    ("tesseract-ocr-test/testing/phototest.tif", "tesseract-ocr-test/testing/phototest.txt", 0),
    ("tesseract-ocr-test/testing/phototest-rotated-180.png", "tesseract-ocr-test/testing/phototest.txt", 180),
    ("tesseract-ocr-test/testing/phototest-rotated-L.png", "tesseract-ocr-test/testing/phototest.txt", 90),
    ("tesseract-ocr-test/testing/phototest-rotated-R.png", "tesseract-ocr-test/testing/phototest.txt", 270),
    ("tesseract-ocr-test/testing/phototestrot.tif", "tesseract-ocr-test/testing/phototest.txt", 90),
    ("tesseract-ocr-test/testing/eurotext.tif", "tesseract-ocr-test/testing/eurotext.txt", 0),
    ("tesseract-ocr-test/testing/8071_093.3B.tif", "tesseract-ocr-test/testing/8071_093.3B.txt", 0),
    ("tesseract-ocr-test/testing/8087_054.3B.tif", "tesseract-ocr-test/testing/8087_054.3B.txt", 0),
]


def public_set(tmp):
    """Links the public scans into one folder and returns (folder, truth);
    None when the shared data is missing."""
    folder = os.path.join(tmp, "public")
    os.makedirs(folder, exist_ok=True)
    truth = []
    for image, text, turn in PUBLIC:
        src, txt = os.path.join(SHARED, image), os.path.join(SHARED, text)
        if not (os.path.exists(src) and os.path.exists(txt)):
            continue
        os.symlink(os.path.abspath(src), os.path.join(folder, os.path.basename(src)))
        with open(txt, encoding="utf-8", errors="replace") as f:
            truth.append({"path": os.path.basename(src), "page": 0, "kind": "page", "text": f.read(),
                          "rotation": turn})
    return (folder, truth) if truth else None


def cmd_ocr(args):
    folder = generate("degraded", ["--pages", str(args.pages), "--seed", str(args.seed)])
    truth = ground_truth(folder)
    print("OCR accuracy: %d generated pages (%s), %d cores, OMP_THREAD_LIMIT=1" % (len(truth), folder, cores()))
    print("CER: character edit distance / truth characters (whitespace collapsed); WER: share of truth words "
          "missing (order-insensitive, lowercase, outer punctuation stripped); turned: upside-down and sideways "
          "pages read with WER <= 10%; blank P/R: blank-page precision and recall (peers: no word read)")
    degraded = ocr_report("Degraded set", folder, truth, args)
    clean = generate("degraded", ["--pages", str(max(20, args.pages // 5)), "--seed", str(args.seed), "--clean"])
    cleaned = ocr_report("Clean set", clean, ground_truth(clean), args)
    public_scores = []
    with tempfile.TemporaryDirectory() as tmp:
        public = public_set(tmp)
        if public is None:
            print("Public set: %s not found, skipped" % SHARED)
        else:
            public_scores = ocr_report("Public set: tesseract-ocr-test scans with their ground truth (%d pages, %s)" % (
                len(public[1]), SHARED), public[0], public[1], args)
    if args.turned:
        turned = generate("degraded", ["--pages", str(args.turned), "--seed", str(args.seed + 1), "--upside-down", "0.3",
                                       "--sideways", "0.3", "--blank", "0.15", "--signature", "0.1"])
        saved = args.no_ocrmypdf
        args.no_ocrmypdf = True
        turned_scores = ocr_report("Turned set: %d generated pages, 30%% upside down, 30%% sideways, 15%% blank "
                                   "backs, 10%% signature only" % args.turned, turned, ground_truth(turned), args)
        public_scores += turned_scores
        args.no_ocrmypdf = saved

    def wer(s):
        return s.word_errors / s.words if s.words else float("nan")

    d = {s.name.split()[0]: s for s in degraded}
    k = {s.name.split()[0]: s for s in cleaned}
    c, t = d["chartdesk"], d["tesseract"]
    lines = []
    if "ocrmypdf" in d:
        o = d["ocrmypdf"]
        lines.append("WER %.2f%% <= half of OCRmyPDF's %.2f%%: %s" % (
            100 * wer(c), 100 * wer(o), "yes" if wer(c) <= 0.5 * wer(o) else "NO"))
        lines.append("pages/min %.1f× OCRmyPDF's (>= 5×): %s" % (
            o.seconds / c.seconds, "yes" if o.seconds >= 5 * c.seconds else "NO"))
    lines.append("pages/min %.2f× tesseract's (>= 0.8×): %s" % (
        t.seconds / c.seconds, "yes" if t.seconds >= 0.8 * c.seconds else "NO"))
    lines.append("clean set WER %.2f%% <= tesseract's %.2f%%: %s" % (
        100 * wer(k["chartdesk"]), 100 * wer(k["tesseract"]),
        "yes" if k["chartdesk"].word_errors <= k["tesseract"].word_errors else "NO"))
    mine = [s for s in degraded + public_scores if s.name.startswith("chartdesk")]
    lines.append("turned pages read: %d/%d: %s" % (
        sum(s.turned_ok for s in mine), sum(s.turned for s in mine),
        "yes" if all(s.turned_ok == s.turned for s in mine) else "NO"))
    tp, fp, fn = (sum(getattr(s, a) for s in [c] + [s for s in public_scores if s.name.startswith("chartdesk")])
                  for a in ("blank_tp", "blank_fp", "blank_fn"))
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

    filed = misfiled = review = other = 0
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
    print("cover/separator/blank sheets recognised: %d/%d" % (kinds_right, kinds_total))
    print("document boundaries: precision %.1f%%, recall %.1f%% (%d true, %d found)" % (
        100.0 * hits / max(1, len(predicted_starts)), 100.0 * hits / max(1, len(truth_starts)),
        len(truth_starts), len(predicted_starts)))
    print("targets: 0 misfiled: %s; >= 97%% filed automatically: %s; >= 95%% boundaries: %s" % (
        "yes" if misfiled == 0 else "NO", "yes" if filed >= 0.97 * n else "NO",
        "yes" if hits >= 0.95 * max(len(truth_starts), len(predicted_starts)) else "NO"))
    for key, got, want in misfiled_list[:20]:
        print("  MISFILED %s page %d: filed to %s, belongs to %s" % (key[0], key[1] + 1, got, want))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="pages/min and peak memory against the bare tesseract CLI")
    p.add_argument("--pages", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workflows", nargs="*", default=["ocr-only", "chart-intake"])
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("ocr", help="accuracy and speed against bare tesseract and OCRmyPDF")
    p.add_argument("--pages", type=int, default=200)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--workflow", default="chart-intake")
    p.add_argument("--no-ocrmypdf", action="store_true")
    p.add_argument("--turned", type=int, default=0,
                   help="also read N generated pages, 60%% of them turned (without OCRmyPDF)")
    p.set_defaults(func=cmd_ocr)
    p = sub.add_parser("identity", help="pages filed, misfiled, to review; document boundaries")
    p.add_argument("--charts", type=int, default=60)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--workflow", default="chart-intake")
    p.set_defaults(func=cmd_identity)
    args = parser.parse_args()
    if not os.path.exists(CHARTDESK):
        sys.exit("build first: meson setup build && ninja -C build")
    args.func(args)


if __name__ == "__main__":
    main()

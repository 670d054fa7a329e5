#!/usr/bin/python3
# Chartdesk benchmarks: figures printed beside the peers they are compared
# with. Never run by the test suite; see "Benchmarks" in the README.
#
#   tests/bench/bench.py ingest [--pages 200] [--seed 7]
#
# Pages are generated deterministically by samples/generate.py into
# build/bench/ (reused across runs).
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CHARTDESK_BUILD", os.path.join(ROOT, "build"))
CHARTDESK = os.path.join(BUILD, "core", "chartdesk")
PYTHON = "/usr/bin/python3"


def cores():
    return os.cpu_count() or 1


def generate(pages, seed, extra=()):
    """Makes (once) a batch of degraded chart pages; returns its folder."""
    name = "pages-%d-seed-%d%s" % (pages, seed, "".join(x.replace("-", "") for x in extra))
    out = os.path.join(BUILD, "bench", name)
    if not os.path.exists(os.path.join(out, "ground-truth.jsonl")):
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        subprocess.run([PYTHON, os.path.join(ROOT, "samples", "generate.py"), "--seed", str(seed),
                        "--pages", str(pages), "--out", out] + list(extra), check=True)
    return out


def tiffs(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".tif", ".tiff")))


def measure(argv, env=None):
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


def cmd_ingest(args):
    folder = generate(args.pages, args.seed)
    files = tiffs(folder)
    with open(os.path.join(folder, "ground-truth.jsonl")) as f:
        n_pages = sum(1 for _ in f)
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    n = cores()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for workflow in args.workflows:
            archive = os.path.join(tmp, workflow + ".archive")
            secs, kib = measure([CHARTDESK, "ingest", "--quiet", "--workflow", workflow, archive, folder], env)
            rows.append(("chartdesk %s (%d workers)" % (workflow, n), secs, kib, "1 process"))
        # the peer: bare tesseract, one process per core, each single-threaded
        outdir = os.path.join(tmp, "txt")
        os.makedirs(outdir)
        script = ("import subprocess,sys,os\n"
                  "from concurrent.futures import ThreadPoolExecutor\n"
                  "files=sys.argv[2:]; out=sys.argv[1]\n"
                  "def one(f): subprocess.run(['tesseract',f,os.path.join(out,os.path.basename(f))],"
                  "stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,check=True)\n"
                  "with ThreadPoolExecutor(%d) as ex: list(ex.map(one,files))\n" % n)
        secs, kib = measure([PYTHON, "-c", script, outdir] + files, env)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="pages/min and peak memory against the bare tesseract CLI")
    p.add_argument("--pages", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workflows", nargs="*", default=["ocr-only", "chart-intake"])
    p.set_defaults(func=cmd_ingest)
    args = parser.parse_args()
    if not os.path.exists(CHARTDESK):
        sys.exit("build first: meson setup build && ninja -C build")
    args.func(args)


if __name__ == "__main__":
    main()

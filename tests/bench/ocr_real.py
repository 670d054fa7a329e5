"""Real scans for `bench.py ocr`: the FUNSD test forms (word ground truth in
their JSON annotations), the tesseract-ocr-test pages with their .txt and
the OCRmyPDF resources that come with reference text, each read by
Chartdesk, bare Tesseract and OCRmyPDF in the same run.

FUNSD is split in two halves by sorted file name (even positions: `tune`,
odd: `report`). Thresholds were set looking at the tune half and at
generated pages only; the benchmark reports each half on its own, so the
report half is material no threshold was chosen on.

Run alone for experiments:
  tests/bench/ocr_real.py funsd --half tune [--set clean.enabled=false ...]
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

FUNSD = "funsd/testing_data"

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
    # approximate reference text (the README of the resources says so)
    ("ocrmypdf/resources/linn.png", "ocrmypdf/resources/linn.txt", 0),
]


def funsd_pages(shared, half):
    """[(image path, truth text)] of one half of the FUNSD test forms
    ('tune', 'report' or 'all'); [] when the data is absent."""
    base = os.path.join(shared, FUNSD)
    if not os.path.isdir(os.path.join(base, "images")):
        return []
    names = sorted(f[:-4] for f in os.listdir(os.path.join(base, "images")) if f.endswith(".png"))
    out = []
    for i, name in enumerate(names):
        if half == "tune" and i % 2 != 0 or half == "report" and i % 2 != 1:
            continue
        with open(os.path.join(base, "annotations", name + ".json")) as f:
            form = json.load(f)["form"]
        text = " ".join(w["text"] for entity in form for w in entity.get("words", []) if w["text"].strip())
        out.append((os.path.join(base, "images", name + ".png"), text))
    return out


def link_set(folder, pages):
    """Links images into @folder and returns the benchmark's truth records."""
    os.makedirs(folder, exist_ok=True)
    truth = []
    for path, text, turn in pages:
        name = os.path.basename(path)
        os.symlink(os.path.abspath(path), os.path.join(folder, name))
        truth.append({"path": name, "page": 0, "kind": "page", "text": text, "rotation": turn})
    return truth


def funsd_set(shared, tmp, half):
    pages = funsd_pages(shared, half)
    if not pages:
        return None
    folder = os.path.join(tmp, "funsd-" + half)
    return folder, link_set(folder, [(p, t, 0) for p, t in pages])


def public_set(shared, tmp):
    """The tesseract-ocr-test and OCRmyPDF pages with reference text;
    None when the shared data is missing."""
    pages = []
    for image, text, turn in PUBLIC:
        src, txt = os.path.join(shared, image), os.path.join(shared, text)
        if os.path.exists(src) and os.path.exists(txt):
            with open(txt, encoding="utf-8", errors="replace") as f:
                pages.append((src, f.read(), turn))
    if not pages:
        return None
    folder = os.path.join(tmp, "public")
    return folder, link_set(folder, pages)


def main():
    sys.path.insert(0, HERE)
    import bench  # noqa: E402  (the scoring helpers)

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set", choices=["funsd", "public"])
    parser.add_argument("--half", default="tune", choices=["tune", "report", "all"])
    parser.add_argument("--workflow", default="chart-intake")
    parser.add_argument("--set", dest="options", action="append", default=[])
    parser.add_argument("--bare", action="store_true", help="also bare tesseract")
    parser.add_argument("--show", action="store_true", help="per-page figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        got = funsd_set(bench.SHARED, tmp, args.half) if args.set == "funsd" else public_set(bench.SHARED, tmp)
        if got is None:
            sys.exit("no data under %s" % bench.SHARED)
        folder, truth = got
        archive = os.path.join(tmp, "a.archive")
        argv = [bench.CHARTDESK, "ingest", "--quiet", "--workflow", args.workflow, archive, folder]
        for o in args.options:
            argv += ["--set", o]
        secs, _ = bench.measure(argv)
        pages = bench.exported_pages(bench.export(archive))
        s = bench.Score("chartdesk")
        s.seconds = secs
        rows = []
        for t in truth:
            page, _doc = pages.get((t["path"], 0), ({}, None))
            s.add(t, page.get("text") or "", page.get("kind") == "blank")
            n, m = bench.word_misses(t["text"], page.get("text") or "")
            facts = page.get("facts", {})
            rows.append([t["path"], n, m, page.get("rotation"), page.get("resolution"), page.get("confidence"),
                         {k: v for k, v in facts.items() if k.startswith(("orient", "resolution", "undo", "clean.t"))}])
        if args.bare:
            outdir = os.path.join(tmp, "tess")
            os.makedirs(outdir)
            b = bench.Score("tesseract CLI")
            b.seconds, _ = bench.bare_tesseract(bench.images(folder), outdir, bench.cores())
            bench.score_text_files(b, truth, outdir, ".txt")
            for r, t in zip(rows, truth):
                with open(os.path.join(outdir, t["path"] + ".txt"), errors="replace") as f:
                    r.append(bench.word_misses(t["text"], f.read())[1])
        print("%-34s %8s %8s %9s" % ("engine", "CER", "WER", "pages/min"))
        print(s.row(len(truth)))
        if args.bare:
            print(b.row(len(truth)))
            print("chartdesk worse than bare on %d of %d pages" % (sum(1 for r in rows if r[2] > r[-1]), len(rows)))
        if args.show:
            for r in rows:
                print(*r)


if __name__ == "__main__":
    main()

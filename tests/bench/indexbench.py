"""`bench.py index`: document boundaries, page-level document types and
patient filing on template-split charts (tests/bench/templates.py), with the
real `chartdesk ingest` and a workflow (chart-intake by default).

Only the held-out templates are scored; `--tune` also ingests the tuning
charts, whose page facts `train_boundaries.py` learns the splitter's
weights from. Figures are printed overall and per scan profile, each beside
its target.
"""
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"

TARGETS = {"boundary F1": 0.95, "boundary precision": 0.97, "type macro-F1": 0.93}


def charts_folder(build, split, pages, seed):
    """Generates (once) the charts of a split; returns the folder."""
    out = os.path.join(build, "bench", "index-%s-%d-%d" % (split, pages, seed))
    if not os.path.exists(os.path.join(out, "ground-truth.jsonl")):
        subprocess.run([PYTHON, os.path.join(HERE, "templates.py"), split, "--out", out, "--pages", str(pages),
                        "--seed", str(seed)], check=True)
    return out


def tuning_corpus(path, seed=13, per_type=120, half=None, tuning=None):
    """The `trained` classifier's training text, from the tuning portion
    only: generated documents of the "train" wording banks (with imitated
    OCR noise) and the tuning half of the mtsamples reports. With @half
    ("tune-a" or "tune-b", templates.TUNING_HALVES), only that half's
    banks and reports: the split-bank experiment's model. @tuning: whether
    the generated documents draw doctext's tuning-only material (None:
    doctext's default, yes for "train", no for a half). Writes a label,text
    CSV; returns its row count."""
    sys.path.insert(0, os.path.join(ROOT, "samples"))
    import doctext
    import templates
    from mtsamples_map import shared_data
    split = "train" if half is None else doctext.TRAIN_HALVES[templates.TUNING_HALVES.index(half)]
    rows = doctext.corpus(seed, per_type, split, 0.04, tuning)
    mt = os.path.join(shared_data(ROOT) or "", "mtsamples", "mtsamples-train.csv")
    tune, _ = templates.mtsamples_split(mt)
    if half is not None:
        _, _, tune = templates.tuning_half(half, [], tune)
    for label, texts in sorted(tune.items()):
        rows += [(label, "\n".join(templates.mtsamples_lines(t, 200))) for t in texts]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", "text"])
        w.writerows(rows)
    return len(rows)


def workflow_with(build, workflow, classifiers, rules=None):
    """A copy of a shipped workflow with another classifier list and, with
    @rules, that rules file for both the `rules` classifier and the
    `page-type` stage (which feeds the splitter)."""
    src = os.path.join(ROOT, "workflows", workflow + ".workflow")
    with open(src, encoding="utf-8") as f:
        text = f.read()
    lines = [("classifiers=" + classifiers) if line.startswith("classifiers=") else line
             for line in text.splitlines()]
    name = classifiers.replace(";", "+")
    if rules:
        lines = [line for line in lines if not line.startswith("rules=")]
        lines = [line + ("\nrules=" + rules if line in ("[rules]", "[page-type]") else "") for line in lines]
        if "[page-type]" not in lines:
            lines += ["[page-type]", "rules=" + rules]
        if not any(line.startswith("[rules]") for line in lines):
            lines += ["[rules]", "rules=" + rules]
        name += "-" + os.path.splitext(os.path.basename(rules))[0]
    out = os.path.join(build, "bench", "%s-%s.workflow" % (workflow, name))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return out


def ingest(chartdesk, env, folder, workflow, out_json, classifiers=None, build=None, train_options="", rules=None):
    """Ingests @folder into a fresh archive and writes the export to
    @out_json; returns (seconds, records). With `trained` among
    @classifiers the archive first gets a model trained on the tuning
    portion (tuning_corpus()), with @train_options added to `classify train`."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "index.archive")
        subprocess.run([chartdesk, "mpi", "import", archive, os.path.join(folder, "mpi.csv")], check=True,
                       capture_output=True, env=env)
        if classifiers:
            if "trained" in classifiers.split(";"):
                corpus = os.path.join(tmp, "tuning.csv")
                n = tuning_corpus(corpus)
                subprocess.run([chartdesk, "classify", "train", archive, "--csv", corpus]
                               + train_options.split(), check=True,
                               capture_output=True, env=env)
                print("trained classifier: %d tuning documents (generated train banks + tuning half of mtsamples)"
                      % n)
            workflow = workflow_with(build, workflow, classifiers, rules)
        t0 = time.monotonic()
        r = subprocess.run([chartdesk, "ingest", "--quiet", "--workflow", workflow, archive, folder],
                           capture_output=True, env=env, text=True)
        secs = time.monotonic() - t0
        if r.returncode not in (0, 3):
            sys.exit("chartdesk ingest failed (%d): %s" % (r.returncode, r.stderr))
        out = subprocess.run([chartdesk, "export", "--json", "--words", archive], check=True, capture_output=True,
                             text=True, env=env)
    with open(out_json, "w", encoding="utf-8") as f:
        f.write(out.stdout)
    return secs, [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def load_export(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def pages_of(records):
    """(file, page) -> (page record, its document or None)."""
    pages = {}
    for rec in records:
        if "pages" in rec:
            for p in rec["pages"]:
                pages[(os.path.basename(p["source"]["path"]), p["source"]["page"])] = (p, rec)
        else:
            pages[(os.path.basename(rec["source"]["path"]), rec["source"]["page"])] = (rec, None)
    return pages


class Tally:
    def __init__(self):
        self.tp = self.fp = self.fn = 0          # boundaries inside files
        self.types = []                          # (truth, predicted) per page
        self.filed = self.misfiled = self.review = self.lost = self.pages = 0
        self.in_review = self.uncertain = 0     # documents in review for any reason / an uncertain boundary
        self.misfiled_list = []
        self.merged = []                         # truth starts missed
        self.split = []                          # false starts

    def boundary(self):
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def macro_f1(self):
        labels = sorted({t for t, _ in self.types})
        f1s = []
        for lab in labels:
            tp = sum(1 for t, p in self.types if t == lab and p == lab)
            fp = sum(1 for t, p in self.types if t != lab and p == lab)
            fn = sum(1 for t, p in self.types if t == lab and p != lab)
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        return sum(f1s) / len(f1s) if f1s else float("nan"), labels

    def accuracy(self):
        return sum(1 for t, p in self.types if t == p) / max(1, len(self.types))


def first_pages(truth):
    """The first document page of each file (after its cover sheet, if
    any): it starts a document whatever the splitter weighs."""
    first = {}
    for t in truth:
        if t["kind"] == "page" and (t["path"] not in first or t["page"] < first[t["path"]]):
            first[t["path"]] = t["page"]
    return set(first.items())


def score(truth, records):
    """{"all": Tally, profile: Tally} over the document pages of @truth."""
    pages = pages_of(records)
    tallies = collections.defaultdict(Tally)
    first = first_pages(truth)
    for t in truth:
        if t["kind"] != "page":
            continue
        key = (t["path"], t["page"])
        page, doc = pages.get(key, ({}, None))
        for tally in (tallies["all"], tallies[t["profile"]]):
            tally.pages += 1
            predicted_start = doc is not None and doc["pages"][0] is page
            if (t["path"], t["page"]) not in first:  # a file's first document page starts one by itself
                if t["starts_document"] and predicted_start:
                    tally.tp += 1
                elif t["starts_document"]:
                    tally.fn += 1
                    tally.merged.append(key)
                elif predicted_start:
                    tally.fp += 1
                    tally.split.append(key)
            tally.types.append((t["doc_type"], (doc or {}).get("type") or "none"))
            mrn = ((doc or {}).get("patient") or {}).get("mrn")
            if doc is not None and doc.get("status") != "filed":
                tally.in_review += 1
                if "uncertain document boundary" in json.dumps(doc.get("review")):
                    tally.uncertain += 1
            if doc is None:
                tally.lost += 1
            elif mrn is None:
                tally.review += 1
            elif mrn == t["patient_mrn"]:
                tally.filed += 1
            else:
                tally.misfiled += 1
                tally.misfiled_list.append((key, mrn, t["patient_mrn"]))
    return tallies


def report(title, truth, records, secs, show=10):
    tallies = score(truth, records)
    a = tallies["all"]
    n_docs = len({(t["path"], t["doc_index"]) for t in truth if t["kind"] == "page"})
    templates = sorted({t["template"] for t in truth if t["template"] is not None})
    sources = collections.Counter(t["source"] for t in truth if t["starts_document"])
    covers = sum(1 for t in truth if t["kind"] == "cover")
    print("%s: %d pages, %d documents (%s), %d files (%d with a cover sheet and headerless documents), "
          "templates %s; %.0f s (%.1f pages/min, contended machine)" % (
              title, len(truth), n_docs, ", ".join("%d %s" % (v, k) for k, v in sorted(sources.items())),
              len({t["path"] for t in truth}), covers, ",".join("T%02d" % x for x in templates), secs,
                        60 * len(truth) / max(secs, 1e-9)))
    print("boundaries: the document pages after the first of each file (a file's first document page always "
          "starts one); type: each page's document type; filed: pages under their own proven patient, no patient: "
          "pages without one; in review: pages whose document waits in the review queue for any reason (patient, "
          "type below its threshold, uncertain boundary), of which 'unsure' for an uncertain boundary")
    print("%-10s %6s %6s %6s %6s %6s %9s %9s %6s %7s %9s %6s %6s" % (
        "profile", "pages", "bP", "bR", "bF1", "typeF1", "type acc", "misfiled", "filed", "no pt", "in review",
        "unsure", "lost"))
    for name in ["all"] + sorted(k for k in tallies if k != "all"):
        t = tallies[name]
        p, r, f = t.boundary()
        m, _ = t.macro_f1()
        print("%-10s %6d %6.3f %6.3f %6.3f %6.3f %9.3f %9d %5.1f%% %6.1f%% %8.1f%% %5.1f%% %6d" % (
            name, t.pages, p, r, f, m, t.accuracy(), t.misfiled, 100.0 * t.filed / max(1, t.pages),
            100.0 * t.review / max(1, t.pages), 100.0 * t.in_review / max(1, t.pages),
            100.0 * t.uncertain / max(1, t.pages), t.lost))
    p, r, f = a.boundary()
    m, labels = a.macro_f1()
    print("targets (held-out templates): boundary F1 %.3f >= %.2f: %s; boundary precision %.3f >= %.2f: %s; "
          "page-level type macro-F1 %.3f >= %.2f: %s; misfiled %d = 0: %s" % (
              f, TARGETS["boundary F1"], "yes" if f >= TARGETS["boundary F1"] else "NO",
              p, TARGETS["boundary precision"], "yes" if p >= TARGETS["boundary precision"] else "NO",
              m, TARGETS["type macro-F1"], "yes" if m >= TARGETS["type macro-F1"] else "NO",
              a.misfiled, "yes" if a.misfiled == 0 else "NO"))
    conf = collections.Counter((t, p) for t, p in a.types if t != p)
    if conf:
        print("page type errors (truth -> predicted: pages): " + "; ".join(
            "%s -> %s: %d" % (t, p, n) for (t, p), n in conf.most_common(show)))
    by_key = {(t["path"], t["page"]): t for t in truth}
    for kind, keys in (("merged (start missed)", a.merged), ("split (false start)", a.split)):
        for key in keys[:show]:
            t = by_key[key]
            print("  %s: %s page %d, %s, template %s" % (kind, key[0], key[1] + 1, t["doc_type"],
                                                          t["template_desc"]))
    for key, got, want in a.misfiled_list[:show]:
        print("  MISFILED %s page %d: filed to %s, belongs to %s" % (key[0], key[1] + 1, got, want))
    return tallies


def read_truth(folder):
    with open(os.path.join(folder, "ground-truth.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cmd_index(args, build, chartdesk, env):
    print("Indexing on template-split charts (tests/bench/templates.py). Contended machine: speed is indicative.")
    splits = ["test"] + (["tune"] if args.tune else [])
    if args.tune_only:
        splits = ["tune"]
    if getattr(args, "half", None):
        splits = ["tune-" + args.half.lower()]
    for split in splits:
        pages = args.pages if split == "test" else args.tune_pages
        seed = args.seed if split == "test" else args.seed + 1000
        folder = charts_folder(build, split, pages, seed)
        truth = read_truth(folder)
        rules = os.path.abspath(args.rules) if getattr(args, "rules", None) else None
        out_json = os.path.join(build, "bench", "index-%s-%d-%d%s.export.jsonl" % (
            split, pages, seed, "" if rules is None else "." + os.path.splitext(os.path.basename(rules))[0]))
        if args.reuse and os.path.exists(out_json):
            secs, records = float("nan"), load_export(out_json)
        else:
            secs, records = ingest(chartdesk, env, folder, args.workflow, out_json, args.classifiers, build,
                                   getattr(args, "train_options", ""), rules)
        title = "held-out templates" if split == "test" else "tuning templates (not a result: tuned on)"
        print()
        report(title, truth, records, secs)
        print("export with page facts: %s" % out_json)

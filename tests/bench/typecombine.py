"""`bench.py types`: page-level document types from an index export, scored
again under other ways of combining the classifiers, without ingesting
the charts again.

Each document of a `bench.py index` export keeps, in its first page's
`classify` fact, every classifier's shares of the types; the splitter and
the patient link do not depend on the document's type, so a combination
of those shares (or the shares of another trained model, run with
`chartdesk classify test --archive` on the exported text) gives the page
types the ingest would have given, with the same boundaries and filing.

On the tuning charts the `trained` model of `bench.py index` has read the
charts' mtsamples reports (it is trained on the tuning half of mtsamples);
`--fresh-model` trains another model on the same corpus without the
reports printed on the charts, so the tuning charts can choose how much the
model counts. Its generated documents still share doctext's "train"
wording banks with the tuning charts' generated notes (the held-out charts
use the "test" banks), so the model is stronger there than on held-out
charts; the figures are printed per source (generated, mtsamples).
"""
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "samples"))

import indexbench  # noqa: E402


def documents(records):
    """[(record, {classifier: {type: share}}, text)] of the export's documents."""
    out = []
    for rec in records:
        if "pages" not in rec:
            continue
        facts = rec["pages"][0].get("facts") or {}
        shares = {name: v for name, v in ((facts.get("classify") or {}).get("classifiers") or {}).items()
                  if isinstance(v, dict)}
        text = "\f".join(p.get("text") or "" for p in rec["pages"])
        out.append((rec, shares, text))
    return out


def combine(shares, weights):
    """The engine's rule (cd-classification.c): Σ weight × share over the
    classifiers that said something, divided by their total weight; the
    best type, or "other" (the taxonomy's fallback) when none scored."""
    sums = collections.defaultdict(float)
    total = 0.0
    for name, s in shares.items():
        w = weights.get(name, 0.0)
        if w <= 0 or not s or sum(s.values()) <= 0:
            continue
        total += w
        for t, v in s.items():
            sums[t] += w * v
    if total <= 0 or not sums:
        return "other", 0.0
    best = max(sorted(sums), key=lambda t: sums[t])
    return best, sums[best] / total


def confident(shares, power):
    """Each classifier weighed by its own top share to the power @power
    (a classifier sure of one type counts more than one that spreads its
    shares), then the engine's rule."""
    weights = {name: max(s.values()) ** power for name, s in shares.items() if s}
    return combine(shares, weights)


def rules_first(shares, threshold, weights):
    """The rules' type when their top share reaches @threshold, else the
    weighted combination."""
    r = shares.get("rules") or {}
    if r and max(r.values()) >= threshold:
        return combine({"rules": r}, {"rules": 1.0})
    return combine(shares, weights)


def printed_reports(truth, texts):
    """The tuning mtsamples reports (of @texts) printed on the charts of
    @truth: a report counts when the first 40 characters of two of its
    first twelve lines of 40 characters or more occur on a mtsamples page
    (one line alone matches the common openings of other reports,
    "PREOPERATIVE DIAGNOSIS: …"); on seed 17's tuning charts this finds 73
    of their 74 reports."""
    import templates
    printed = "\n".join(t["text"] for t in truth if t.get("source") == "mtsamples")
    used = set()
    for text in texts:
        lines = [line for line in templates.mtsamples_lines(text, 12) if len(line) >= 40]
        hits = sum(1 for line in lines if line[:40] in printed)
        if hits > 0 and hits >= min(2, len(lines)):
            used.add(text)
    return used


def fresh_model(chartdesk, env, archive, truth, train_options):
    """Trains, into @archive, the tuning model without the mtsamples
    reports printed on the charts of @truth; returns (documents, left out)."""
    import doctext
    import templates
    from mtsamples_map import shared_data
    rows = doctext.corpus(13, 120, "train", 0.04)
    mt = os.path.join(shared_data(ROOT) or "", "mtsamples", "mtsamples-train.csv")
    tune, _ = templates.mtsamples_split(mt)
    used = printed_reports(truth, [t for texts in tune.values() for t in texts])
    for label, texts in sorted(tune.items()):
        rows += [(label, "\n".join(templates.mtsamples_lines(t, 200))) for t in texts if t not in used]
    corpus = archive + ".csv"
    with open(corpus, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", "text"])
        w.writerows(rows)
    subprocess.run([chartdesk, "classify", "train", archive, "--csv", corpus] + train_options.split(), check=True,
                   capture_output=True, env=env)
    return len(rows), len(used)


def tuning_model(chartdesk, env, archive, train_options):
    """Trains, into @archive, the model `bench.py index` trains (the whole
    tuning corpus), with @train_options; returns its document count."""
    corpus = archive + ".csv"
    n = indexbench.tuning_corpus(corpus)
    subprocess.run([chartdesk, "classify", "train", archive, "--csv", corpus] + train_options.split(), check=True,
                   capture_output=True, env=env)
    return n


def trained_shares(chartdesk, env, archive, docs, pages=0):
    """Runs the archive's trained model on every exported document's
    first @pages pages (`classify test --archive --set pages=N`, the
    trained classifier's `pages` option; 0: every page); returns
    [{type: share}] in @docs' order."""
    return classifier_shares(chartdesk, env, docs, ["--classifier", "trained", "--set", "pages=%d" % pages,
                                                    "--archive", archive])


def rules_shares(build, env, export, docs, rules):
    """The `rules` classifier with the rules file @rules on every exported
    document (build/tests/rules-rescore: each page's text and the page
    facts the rules read, the title found by layout among them); returns
    [{type: share}] in @docs' order."""
    tool = os.path.join(build, "tests", "rules-rescore")
    env = dict(env, CHARTDESK_PLUGIN_PATH=os.path.join(build, "plugins"),
               CHARTDESK_TAXONOMY=os.path.join(ROOT, "workflows", "taxonomy.conf"))
    r = subprocess.run([tool, rules, export], check=True, capture_output=True, text=True, env=env)
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    if len(out) != len(docs):
        sys.exit("rules-rescore gave %d documents for %d" % (len(out), len(docs)))
    return out


def classifier_shares(chartdesk, env, docs, options):
    """`chartdesk classify test OPTIONS --json` on the exported documents;
    [{type: share}] as the engine records them (scores over max(1, sum))."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "docs.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["label", "text"])
            for rec, _, text in docs:
                w.writerow([rec.get("type") or "other", text])
        r = subprocess.run([chartdesk, "classify", "test"] + options + ["--json", path], check=True,
                           capture_output=True, text=True, env=env)
    out = []
    for sample in json.loads(r.stdout)["samples"]:
        s = sample["scores"]
        total = sum(s.values())
        out.append({t: v / max(1.0, total) for t, v in s.items()})
    return out


def score_with(truth, records, docs, decide):
    """Tallies (indexbench.score) with each document's type from @decide."""
    for rec, shares, _ in docs:
        rec["type"] = decide(shares)[0]
    return indexbench.score(truth, records)


def per_source(truth, records):
    """Page-level macro-F1 over the pages of each source."""
    out = {}
    for source in ("generated", "mtsamples"):
        sub = [t for t in truth if t["kind"] != "page" or t.get("source") == source]
        out[source] = indexbench.score(sub, records)["all"].macro_f1()[0]
    return out


def top(shares, n=3):
    return " ".join("%s %.2f" % (t, v) for t, v in sorted(shares.items(), key=lambda kv: -kv[1])[:n]) or "-"


def explain(truth, docs, decide, show):
    """Prints every wrongly typed document of @docs (under @decide): its
    truth, source and profile, each classifier's best shares, the title the
    header stage found by layout on its first page and its first lines, so
    the errors can be read by cause (whether the title was seen, which
    classifier was wrong, how sure each was)."""
    first = {}
    for t in truth:
        if t["kind"] == "page":
            first.setdefault((t["path"], t["page"]), t)
    n = 0
    for rec, shares, text in docs:
        src = rec["pages"][0]["source"]
        t = first.get((os.path.basename(src["path"]), src["page"]))
        got = decide(shares)[0]
        if t is None or t["doc_type"] == got:
            continue
        n += 1
        if n > show:
            continue
        facts = rec["pages"][0].get("facts") or {}
        lines = [line.strip() for line in (rec["pages"][0].get("text") or "").splitlines() if line.strip()]
        print("  %s -> %s (%s, %s, %d pages, starts %s page %d%s)" % (
            t["doc_type"], got, t["source"], t["profile"], len(rec["pages"]), t["path"], t["page"] + 1,
            "" if t["starts_document"] else ", NOT a true start"))
        for name in sorted(shares):
            print("      %-8s %s" % (name, top(shares[name])))
        print("      layout title %r; page type %s %.2f" % (facts.get("boundary.title"),
                                                          facts.get("classify.page-type"),
                                                          facts.get("classify.page-type-score") or 0))
        print("      lines: %s" % " | ".join(lines[:8])[:300])
    print("  %d documents wrongly typed" % n)


def cmd_types(args, build, chartdesk, env):
    truth = indexbench.read_truth(args.charts)
    records = indexbench.load_export(args.export)
    docs = documents(records)
    alt = None
    with tempfile.TemporaryDirectory() as tmp:
        archive = args.model_archive
        if archive is None and args.fresh_model:
            archive = os.path.join(tmp, "model.archive")
            n, left = fresh_model(chartdesk, env, archive, truth, args.train_options)
            print("fresh model: %d tuning documents, %d mtsamples reports printed on these charts left out"
                  % (n, left))
        elif archive is None and getattr(args, "half_model", None):
            archive = os.path.join(tmp, "model.archive")
            corpus = archive + ".csv"
            n = indexbench.tuning_corpus(corpus, half="tune-" + args.half_model.lower(),
                                         tuning=args.tuning_material == "yes")
            subprocess.run([chartdesk, "classify", "train", archive, "--csv", corpus] + args.train_options.split(),
                           check=True, capture_output=True, env=env)
            print("model of tuning half %s only, tuning-only material %s: %d documents"
                  % (args.half_model, args.tuning_material, n))
        elif archive is None and (args.retrain or args.pages is not None):
            archive = os.path.join(tmp, "model.archive")
            print("model trained again on the whole tuning corpus: %d documents, options '%s'"
                  % (tuning_model(chartdesk, env, archive, args.train_options), args.train_options))
        if archive is not None:
            alt = trained_shares(chartdesk, env, archive, docs, 1 if args.pages is None else args.pages)
    if alt is not None:
        for (rec, shares, _), s in zip(docs, alt):
            shares["trained"] = s
    original = [dict(shares) for _, shares, _ in docs]
    for rules in (args.rules.split(",") if args.rules else [None]):
        for (rec, shares, _), orig in zip(docs, original):
            shares.clear()
            shares.update(orig)
        if rules:
            print("rules scored again with %s" % rules)
            for (rec, shares, _), s in zip(docs, rules_shares(build, env, args.export, docs, os.path.abspath(rules))):
                shares["rules"] = s
        score_table(args, truth, records, docs)


def score_table(args, truth, records, docs):
    print("%-34s %7s %7s %9s %9s" % ("combination", "typeF1", "acc", "generated", "mtsamples"))
    rows = []
    for w in [float(x) for x in args.weights.split(",")]:
        rows.append(("rules 1 : trained %g" % w, lambda s, w=w: combine(s, {"rules": 1.0, "trained": w})))
    for power in (1, 2, 4):
        rows.append(("each by its top share ^%d" % power, lambda s, p=power: confident(s, p)))
    for th in (0.5, 0.7, 0.9):
        rows.append(("rules when their top >= %.1f, else 1:1" % th,
                     lambda s, th=th: rules_first(s, th, {"rules": 1.0, "trained": 1.0})))
    rows.append(("rules alone", lambda s: combine(s, {"rules": 1.0})))
    rows.append(("trained alone", lambda s: combine(s, {"trained": 1.0})))
    for name, decide in rows:
        tallies = score_with(truth, records, docs, decide)
        a = tallies["all"]
        src = per_source(truth, records)
        print("%-34s %7.3f %7.3f %9.3f %9.3f" % (name, a.macro_f1()[0], a.accuracy(), src["generated"],
                                                  src["mtsamples"]))
        if args.confusion and name == args.confusion:
            conf = collections.Counter((t, p) for t, p in a.types if t != p)
            print("  errors: " + "; ".join("%s -> %s: %d" % (t, p, n) for (t, p), n in conf.most_common(12)))
            for prof in sorted(k for k in tallies if k != "all"):
                print("  %-10s %.3f" % (prof, tallies[prof].macro_f1()[0]))
            if args.explain:
                explain(truth, docs, decide, args.explain)

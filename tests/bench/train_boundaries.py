#!/usr/bin/python3
"""Learns the `chart` splitter's boundary weights from labelled charts.

  tests/bench/bench.py index --tune-only --seed S   # ingests tuning draw 1000 + S, keeps the export
  tests/bench/train_boundaries.py EXPORT.jsonl TRUTH_FOLDER [EXPORT TRUTH ...] [--c 1.0] [--without F,G]

Reads, for every page after the first of each file, the features the
splitter recorded (`chart.features`) and whether the page truly starts a
document (ground-truth.jsonl), from one or more tuning draws pooled, fits
an L2-regularised logistic regression (scikit-learn) and prints the
weights as the `boundary-weights` option (for a workflow's [chart] group)
and as the C array of defaults in plugins/identity/cd-chart-splitter.c.
Before that it prints, per draw, the splitter's decisions cross-validated
by template (every fold's templates unseen; pages the page-number or
patient rules decided keep their decision) beside the decisions of the
ingest itself. Only tuning templates may be given: the held-out ones are
for measuring.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import indexbench  # noqa: E402


def rows(export_path, truth_folder, draw=0):
    """[(features, starts, template, draw, ruled, decided)] for the pages
    after each file's first document page: @ruled when the page-number
    rule or another rule (a change of patient) decided the page rather
    than the weights (the recorded probability disagrees with the
    decision), @decided whether the ingest started a document there."""
    truth = indexbench.read_truth(truth_folder)
    if any(t.get("split") == "test" for t in truth):
        sys.exit("%s holds held-out templates: train on the tuning charts only" % truth_folder)
    pages = indexbench.pages_of(indexbench.load_export(export_path))
    out = []
    first = indexbench.first_pages(truth)
    for t in truth:
        if t["kind"] != "page" or (t["path"], t["page"]) in first:
            continue
        page, doc = pages.get((t["path"], t["page"]), ({}, None))
        facts = page.get("facts") or {}
        feats = facts.get("chart.features")
        decided = doc is not None and doc["pages"][0] is page
        p = facts.get("chart.p-start")
        if feats is None or feats.get("page-one") or feats.get("page-later"):
            out.append(({}, 1 if t["starts_document"] else 0, t["template"], draw, True, decided))
            continue  # decided by the page-number rule, not weighed
        if "cover-title" not in feats:  # exports made before the feature existed: the splitter's formula
            cover = "cover.page" in facts and not feats.get("has-mrn")
            feats["cover-title"] = feats.get("title-found", 0.0) if cover else 0.0
        ruled = p is not None and (p >= 0.5) != decided
        out.append((feats, 1 if t["starts_document"] else 0, t["template"], draw, ruled, decided))
    return out


def prf(pairs):
    """Precision, recall, F1 and the false / missed starts of (decided, truth) pairs."""
    tp = sum(1 for d, y in pairs if d and y)
    fp = sum(1 for d, y in pairs if d and not y)
    fn = sum(1 for d, y in pairs if not d and y)
    p = tp / max(1, tp + fp)
    r = tp / max(1, tp + fn)
    return p, r, 2 * p * r / max(1e-9, p + r), fp, fn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs", nargs="+", metavar="EXPORT TRUTH", help="export and charts folder of each tuning draw")
    ap.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    ap.add_argument("--without", default="", help="features left out (comma-separated)")
    ap.add_argument("--folds", type=int, default=6, help="folds of templates for the cross-validation")
    a = ap.parse_args()
    if len(a.pairs) % 2:
        sys.exit("give each export with its charts folder")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    data = []
    names_of = [os.path.basename(os.path.normpath(a.pairs[i + 1])) for i in range(0, len(a.pairs), 2)]
    for i in range(0, len(a.pairs), 2):
        data += rows(a.pairs[i], a.pairs[i + 1], i // 2)
    without = set(filter(None, a.without.split(",")))
    weighed = [r for r in data if not r[4]]
    names = sorted({k for f, *_ in weighed for k in f} - without - {"page-one", "page-later", "page-last"})
    x = [[f.get(n, 0.0) for n in names] for f, *_ in weighed]
    y = [r[1] for r in weighed]
    groups = [r[2] for r in weighed]
    # cross-validated by template: every fold's templates are unseen
    for c in sorted({0.3, 1.0, 3.0, a.c}):
        pred = [0.0] * len(weighed)
        for tr, te in GroupKFold(n_splits=a.folds).split(x, y, groups):
            m = LogisticRegression(C=c, max_iter=5000).fit([x[i] for i in tr], [y[i] for i in tr])
            for i, p in zip(te, m.predict_proba([x[i] for i in te])[:, 1]):
                pred[i] = p
        cv = {id(r): p >= 0.5 for r, p in zip(weighed, pred)}
        parts = []
        for draw in sorted({r[3] for r in data}):
            mine = [r for r in data if r[3] == draw]
            parts.append("%s P %.3f R %.3f F1 %.3f" % ((names_of[draw],) + prf(
                [(cv.get(id(r), r[5]), r[1]) for r in mine])[:3]))
        p, r, f, fp, fn = prf([(cv.get(id(r), r[5]), r[1]) for r in data])
        unsure = sum(1 for q in pred if abs(q - 0.5) < 0.1)
        print("C=%-4g cross-validated by template: all P %.3f R %.3f F1 %.3f (%d false, %d missed starts; "
              "%d of %d weighed pages within 0.1 of the threshold); %s" % (
                  c, p, r, f, fp, fn, unsure, len(weighed), "; ".join(parts)), file=sys.stderr)
    parts = []
    for draw in sorted({r[3] for r in data}):
        parts.append("%s P %.3f R %.3f F1 %.3f" % ((names_of[draw],) + prf(
            [(r[5], r[1]) for r in data if r[3] == draw])[:3]))
    print("the ingests' own decisions (the weights they ran with): " + "; ".join(parts), file=sys.stderr)
    clf = LogisticRegression(C=a.c, max_iter=5000)
    clf.fit(x, y)
    print("%d weighed pages (%d starts) from %d draws" % (len(y), sum(y), len(a.pairs) // 2), file=sys.stderr)
    weights = [("bias", clf.intercept_[0])] + [(n, w) for n, w in zip(names, clf.coef_[0]) if abs(w) >= 0.005]
    items = ["%s=%.2f" % (n, w) for n, w in weights]
    print("boundary-weights=" + ";".join(items))
    print("static const gchar *const default_boundary_weights[] = {")
    line = " "
    for it in items:
        piece = ' "%s",' % it
        if len(line) + len(piece) > 118:
            print(line)
            line = " "
        line += piece
    print(line + " NULL,")
    print("};")


if __name__ == "__main__":
    main()

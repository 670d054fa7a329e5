#!/usr/bin/python3
"""Learns the `chart` splitter's boundary weights from labelled charts.

  tests/bench/bench.py index --tune            # ingests the tuning charts, keeps the export
  tests/bench/train_boundaries.py EXPORT.jsonl TRUTH_FOLDER [--c 1.0]

Reads, for every page after the first of each file, the features the
splitter recorded (`chart.features`) and whether the page truly starts a
document (ground-truth.jsonl), fits an L2-regularised logistic regression
(scikit-learn) and prints the weights as the `boundary-weights` option
(for a workflow's [chart] group) and as the C array of defaults in
plugins/identity/cd-chart-splitter.c. Only tuning templates may be given:
the held-out ones are for measuring.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import indexbench  # noqa: E402


def rows(export_path, truth_folder):
    truth = indexbench.read_truth(truth_folder)
    if any(t.get("split") == "test" for t in truth):
        sys.exit("%s holds held-out templates: train on the tuning charts only" % truth_folder)
    pages = indexbench.pages_of(indexbench.load_export(export_path))
    out = []
    first = indexbench.first_pages(truth)
    for t in truth:
        if t["kind"] != "page" or (t["path"], t["page"]) in first:
            continue
        page, _ = pages.get((t["path"], t["page"]), ({}, None))
        feats = (page.get("facts") or {}).get("chart.features")
        if feats is None or feats.get("page-one") or feats.get("page-later"):
            continue  # decided by the page-number rule, not weighed
        if "cover-title" not in feats:  # exports made before the feature existed: the splitter's formula
            cover = "cover.page" in page.get("facts", {}) and not feats.get("has-mrn")
            feats["cover-title"] = feats.get("title-found", 0.0) if cover else 0.0
        out.append((feats, 1 if t["starts_document"] else 0, t["template"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export")
    ap.add_argument("truth")
    ap.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    a = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    data = rows(a.export, a.truth)
    names = sorted({k for f, _, _ in data for k in f})
    x = [[f.get(n, 0.0) for n in names] for f, _, _ in data]
    y = [label for _, label, _ in data]
    groups = [g for _, _, g in data]
    # cross-validated by template: every fold's templates are unseen
    for c in sorted({0.3, 1.0, 3.0, 10.0, a.c}):
        tp = fp = fn = 0
        for tr, te in GroupKFold(n_splits=5).split(x, y, groups):
            m = LogisticRegression(C=c, max_iter=2000).fit([x[i] for i in tr], [y[i] for i in tr])
            for i, p in zip(te, m.predict_proba([x[i] for i in te])[:, 1]):
                tp += p >= 0.5 and y[i] == 1
                fp += p >= 0.5 and y[i] == 0
                fn += p < 0.5 and y[i] == 1
        print("C=%-5g cross-validated by template: precision %.3f recall %.3f" % (
            c, tp / max(1, tp + fp), tp / max(1, tp + fn)), file=sys.stderr)
    clf = LogisticRegression(C=a.c, max_iter=2000)
    clf.fit(x, y)
    pred = clf.predict_proba(x)[:, 1]
    tp = sum(1 for p, t in zip(pred, y) if p >= 0.5 and t)
    fp = sum(1 for p, t in zip(pred, y) if p >= 0.5 and not t)
    fn = sum(1 for p, t in zip(pred, y) if p < 0.5 and t)
    print("%d pages (%d starts); on the training pages themselves: precision %.3f recall %.3f" % (
        len(y), sum(y), tp / max(1, tp + fp), tp / max(1, tp + fn)), file=sys.stderr)
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

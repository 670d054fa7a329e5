#!/usr/bin/python3
"""Writes train.jsonl and test.jsonl: short excerpts of real medical
transcriptions from the mtsamples corpus (CC0), six document types, ten
training and three held-out reports each, none shared. Deterministic.

    plugins/trained/tests/make-fixtures.py [PATH/mtsamples-train.csv]
"""
import csv
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "bench"))
from mtsamples_map import load_mapped, shared_data  # noqa: E402

TYPES = ["consultation", "discharge-summary", "operative-report", "pathology-report", "progress-note",
         "radiology-report"]
EXCERPT = 1200


def main():
    default = os.path.join(shared_data(os.path.join(HERE, "..", "..", "..")) or ".", "mtsamples", "mtsamples-train.csv")
    rows = load_mapped(sys.argv[1] if len(sys.argv) > 1 else default)
    rng = random.Random(20261125)
    train, test = [], []
    for t in TYPES:
        docs = sorted(text for label, text in rows if label == t)
        rng.shuffle(docs)
        for i, text in enumerate(docs[:13]):
            cut = text[:EXCERPT].rsplit(" ", 1)[0]
            (train if i < 10 else test).append({"label": t, "text": cut})
    for name, part in (("train.jsonl", train), ("test.jsonl", test)):
        with open(os.path.join(HERE, name), "w") as f:
            for r in part:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# A test fixture of the external classifier protocol: reads the request,
# checks its shape, and answers discharge-summary when a page mentions a
# discharge, else nothing. Exit 2 on a malformed request.
import json
import sys

request = json.load(sys.stdin)
if request.get("protocol") != 1 or "discharge-summary" not in request.get("types", []):
    print("unexpected request", file=sys.stderr)
    sys.exit(2)
pages = request["document"]["pages"]
words = sum(len(p.get("words", [])) for p in pages)
labels = []
if any("discharge" in p["text"].lower() for p in pages):
    labels.append({"label": "discharge-summary", "score": 0.9})
# the number of pages and words seen, as a label the taxonomy does not know
labels.append({"label": "seen-%d-pages-%d-words" % (len(pages), words), "score": 0.0})
json.dump({"labels": labels}, sys.stdout)

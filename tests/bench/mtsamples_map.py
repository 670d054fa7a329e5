"""The mtsamples corpus mapped onto Chartdesk's document types.

mtsamples labels each report with a "medical_specialty" that mixes
specialties (Orthopedic, Neurology) with document types (Discharge Summary,
Radiology); many reports appear several times under different labels. We
deduplicate by text, collect every label a text carries, and map the set to
one type by the first rule that applies (docs/trained-classifier.md):

    Discharge Summary                      -> discharge-summary
    Emergency Room Reports                 -> emergency-record
    Lab Medicine - Pathology, Autopsy      -> pathology-report
    Radiology                              -> radiology-report
    Letters                                -> correspondence
    Consult - History and Phy.             -> history-physical when the sample
                                              name says H&P / History / Physical
                                              and not Consult; else consultation
    SOAP / Chart / Progress Notes,
    Office Notes                           -> progress-note
    Surgery                                -> operative-report
    only specialties                       -> left out (type unknown)
"""
import csv
import re

csv.field_size_limit(1 << 30)


def map_labels(labels, sample_name):
    if "Discharge Summary" in labels:
        return "discharge-summary"
    if "Emergency Room Reports" in labels:
        return "emergency-record"
    if "Lab Medicine - Pathology" in labels or "Autopsy" in labels:
        return "pathology-report"
    if "Radiology" in labels:
        return "radiology-report"
    if "Letters" in labels:
        return "correspondence"
    if "Consult - History and Phy." in labels:
        if re.search(r"H&P|History|Physical", sample_name, re.I) and not re.search("consult", sample_name, re.I):
            return "history-physical"
        return "consultation"
    if "SOAP / Chart / Progress Notes" in labels or "Office Notes" in labels:
        return "progress-note"
    if "Surgery" in labels:
        return "operative-report"
    return None


def load_mapped(path):
    """[(type, text)] in file order, one per distinct text, mapped ones only."""
    labels, names, order = {}, {}, []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            text = row["transcription"].strip()
            if not text:
                continue
            if text not in labels:
                labels[text] = set()
                order.append(text)
            labels[text].add(row["medical_specialty"].strip())
            names.setdefault(text, row["sample_name"].strip())
    out = []
    for text in order:
        t = map_labels(labels[text], names[text])
        if t is not None:
            out.append((t, text))
    return out


def shared_data(root):
    """The shared test data: $CD_SHARED_DATA, else ROOT/../shared/data (a
    clone beside shared/), else ROOT/../../shared/data (a worktree)."""
    import os
    candidates = [os.environ.get("CD_SHARED_DATA", ""), os.path.join(root, "..", "shared", "data"),
                  os.path.join(root, "..", "..", "shared", "data")]
    for c in candidates:
        if c and os.path.isdir(c):
            return os.path.normpath(c)
    return None

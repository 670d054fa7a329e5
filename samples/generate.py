#!/usr/bin/python3
"""Generates synthetic, degraded hospital chart scans with ground truth.

  generate.py samples  [--seed 1] [--out samples/]        the committed sample set
  generate.py degraded --pages N [--seed S] --out DIR      OCR benchmark pages (--clean: undegraded)
  generate.py charts   --charts N [--seed S] --out DIR     identity benchmark charts with traps
  generate.py corpus   --docs N [--seed S] --split train|test --out FILE.jsonl   labelled text

The same arguments always give byte-identical files. See samples/README.md.
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chartgen as cg  # noqa: E402

DOC_TYPES = list(cg.TYPES)


def service_date(rng):
    return "%04d-%02d-%02d" % (rng.randrange(1978, 2012), rng.randrange(1, 13), rng.randrange(1, 29))


def page_record(path, index, kind, text=None, **extra):
    rec = {"path": os.path.basename(path), "page": index, "kind": kind, "text": "\n".join(text or []),
           "rotation": 0, "skew": 0.0, "dpi": 300, "patient_mrn": None, "doc_type": None, "doc_index": None,
           "starts_document": False, "degradations": []}
    rec.update(extra)
    return rec


# ------------------------------------------------------------------ samples

def cmd_samples(args):
    """A handful of charts: several document types, typed and degraded."""
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    patients = cg.make_patients(rng, 26, namesakes=4)
    truth = []
    doc_index = 0

    def document(patient, doc_type, style=None):
        return cg.document_pages(rng, doc_type, patient, service_date(rng), header_style=style)

    def add_doc(pages_out, patient, doc_type, opts_for_page, style=None, force_text=None):
        nonlocal doc_index
        doc_index += 1
        pages = document(patient, doc_type, style)
        if force_text:
            pages[0] = pages[0][:-1] + [force_text] + pages[0][-1:]
        for i, lines in enumerate(pages):
            img, printed = cg.render(rng, lines)
            opts = opts_for_page(i)
            img, done = cg.degrade(rng, img, opts)
            pages_out.append((img, dict(kind="page", text=printed, patient_mrn=patient.mrn, doc_type=doc_type,
                                        doc_index=doc_index, starts_document=i == 0, degradations=done,
                                        rotation=opts.get("turn", 0), skew=opts.get("skew", 0.0))))

    def save(name, pages, mode, dpi=300):
        path = os.path.join(args.out, name)
        if mode == "g4":
            cg.save_tiff(path, [cg.to_bilevel(p) for p, _ in pages], dpi, "group4")
        elif mode == "lzw":
            cg.save_tiff(path, [p for p, _ in pages], dpi, "tiff_lzw")
        elif mode == "jpeg-rgb":
            cg.save_tiff(path, [cg.to_yellow_rgb(p, rng) for p, _ in pages], dpi, "jpeg")
        elif mode == "png":
            pages[0][0].save(path, dpi=(dpi, dpi), optimize=True)
        for i, (_, rec) in enumerate(pages):
            truth.append(page_record(path, i, dpi=dpi, **rec))

    p = patients
    # 1: a discharge summary and progress notes, bilevel G4, skewed and speckled, with a blank duplex back
    pages = []
    add_doc(pages, p[0], "discharge-summary", lambda i: {"skew": rng.uniform(-3, 3), "specks": True},
            style=0, force_text="Final diagnosis: community acquired pneumonia, resolved.")
    pages.append((cg.blank_back(rng), dict(kind="blank")))
    add_doc(pages, p[0], "progress-note", lambda i: {"skew": rng.uniform(-2, 2), "specks": True, "noise": True})
    save("01-discharge-progress.tif", pages, "g4")
    # 2: a cover sheet, then an operative report (one page upside down) and a pathology report
    img, printed = cg.cover_sheet(rng, p[1])
    pages = [(img, dict(kind="cover", text=printed, patient_mrn=p[1].mrn))]
    add_doc(pages, p[1], "operative-report", lambda i: {"turn": 180 if i == 0 else 0, "specks": True},
            style=1, force_text="The laparoscopic cholecystectomy was uneventful.")
    add_doc(pages, p[1], "pathology-report", lambda i: {"skew": rng.uniform(-2, 2)})
    save("02-cover-operative.tif", pages, "g4")
    # 3: faded toner on grey paper, punched holes: history and physical, LZW grey
    pages = []
    add_doc(pages, p[2], "history-physical", lambda i: {"fade": True, "holes": True, "skew": rng.uniform(-1.5, 1.5)},
            style=2)
    save("03-history-physical-faded.tif", pages, "lzw")
    # 4: yellowed colour scan of a radiology report, JPEG in TIFF, with a dark border
    pages = []
    add_doc(pages, p[3], "radiology-report", lambda i: {"border": True, "blur": True, "skew": 1.0}, style=0)
    save("04-radiology-colour.tif", pages, "jpeg-rgb")
    # 5: a 200 dpi fax-like laboratory report, bilevel
    pages = []

    def fax_doc():
        nonlocal doc_index
        doc_index += 1
        for i, lines in enumerate(cg.document_pages(rng, "laboratory-report", p[4], service_date(rng),
                                                    header_style=0)):
            img, printed = cg.render(rng, lines, dpi=200, size_pt=12)
            img, done = cg.degrade(rng, img, {"noise": True, "skew": rng.uniform(-2, 2)})
            pages.append((img, dict(kind="page", text=printed, patient_mrn=p[4].mrn, doc_type="laboratory-report",
                                    doc_index=doc_index, starts_document=i == 0, degradations=done + ["fax 200 dpi"])))
    fax_doc()
    save("05-lab-fax-200dpi.tif", pages, "g4", dpi=200)
    # 6: a sideways-scanned nursing note, PNG
    pages = []
    add_doc(pages, p[5], "nursing-note", lambda i: {"turn": 90, "specks": True}, style=1)
    save("06-nursing-sideways.png", pages[:1], "png")
    # 7: an emergency record and a consent form of one patient, bilevel
    pages = []
    add_doc(pages, p[6], "emergency-record", lambda i: {"skew": rng.uniform(-4, 4), "specks": True}, style=2)
    add_doc(pages, p[6], "consent-form", lambda i: {"noise": True})
    save("07-emergency-consent.tif", pages, "g4")

    with open(os.path.join(args.out, "mpi.csv"), "w", encoding="utf-8") as f:
        f.write("mrn,family,given,middle,dob,sex\n")
        for pt in patients:
            f.write(pt.csv() + "\n")
    cg.write_jsonl(os.path.join(args.out, "ground-truth.jsonl"), truth)
    print("wrote %d pages in %d files to %s" % (len(truth), len({t["path"] for t in truth}), args.out))


# ------------------------------------------------------------------ degraded

def cmd_degraded(args):
    """Single pages for the OCR accuracy benchmark."""
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    patients = cg.make_patients(rng, 40)
    truth = []
    for n in range(args.pages):
        path = os.path.join(args.out, "page-%04d.tif" % n)
        r = rng.random()
        if r < args.blank:
            img = cg.blank_back(rng)
            cg.save_tiff(path, [cg.to_bilevel(img)], 300, "group4")
            truth.append(page_record(path, 0, "blank", degradations=["blank back"]))
            continue
        if r < args.blank + args.signature:
            # a signature alone, with specks: not blank
            img, done = cg.degrade(rng, cg.scribble_page(rng), {"specks": True})
            cg.save_tiff(path, [cg.to_bilevel(img)], 300, "group4")
            truth.append(page_record(path, 0, "page", [], degradations=["signature only"] + done))
            continue
        doc_type = rng.choice(DOC_TYPES)
        lines = cg.document_pages(rng, doc_type, rng.choice(patients), service_date(rng))[0]
        fax = rng.random() < args.fax
        dpi = 200 if fax else 300
        img, printed = cg.render(rng, lines, dpi=dpi)
        opts = {}
        if not args.clean:
            turn_r = rng.random()
            opts = {"skew": rng.uniform(-args.max_skew, args.max_skew), "specks": rng.random() < 0.6,
                    "noise": rng.random() < 0.4, "blur": rng.random() < 0.25, "fade": rng.random() < 0.25,
                    "holes": rng.random() < 0.15, "border": rng.random() < 0.15,
                    "turn": 180 if turn_r < args.upside_down else
                    rng.choice([90, 270]) if turn_r < args.upside_down + args.sideways else 0}
        img, done = cg.degrade(rng, img, opts)
        if fax or rng.random() < 0.6:
            cg.save_tiff(path, [cg.to_bilevel(img)], dpi, "group4")
        else:
            cg.save_tiff(path, [img], dpi, "tiff_lzw")
        truth.append(page_record(path, 0, "page", printed, dpi=dpi, doc_type=doc_type, starts_document=True,
                                 rotation=opts.get("turn", 0), skew=round(opts.get("skew", 0.0), 2),
                                 degradations=done + (["fax 200 dpi"] if fax else [])))
    cg.write_jsonl(os.path.join(args.out, "ground-truth.jsonl"), truth)
    print("wrote %d pages to %s" % (len(truth), args.out))


# ------------------------------------------------------------------ charts

def damage_mrn(rng):
    table = {"0": "O", "1": "l", "5": "S", "8": "B"}

    def damage(line):
        out = []
        hit = False
        for ch in line:
            if ch in table and not hit and rng.random() < 0.5:
                out.append(table[ch])
                hit = True
            else:
                out.append(ch)
        return "".join(out)
    return damage


def cmd_charts(args):
    """Patient charts with cover sheets, separators and misfile traps."""
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    patients = cg.make_patients(rng, args.charts + 20, namesakes=max(1, int(args.charts * args.namesake_ratio)))
    unknown = cg.make_patients(random.Random(args.seed + 1000), max(1, int(args.charts * args.unknown_ratio)) + 5)
    truth = []
    doc_index = 0
    for c in range(args.charts):
        path = os.path.join(args.out, "chart-%04d.tif" % c)
        owner = unknown[c % len(unknown)] if rng.random() < args.unknown_ratio else patients[c]
        images = []
        if rng.random() < args.cover_ratio:
            img, printed = cg.cover_sheet(rng, owner)
            images.append((img, dict(kind="cover", text=printed, patient_mrn=owner.mrn)))
        for d in range(rng.randrange(2, 5)):
            who = owner
            if rng.random() < args.misfile_ratio:
                who = rng.choice(patients[args.charts:])  # another patient's document in this chart
            doc_index += 1
            damage = damage_mrn(rng) if rng.random() < args.damaged_header_ratio else None
            doc_type = rng.choice(DOC_TYPES)
            for i, lines in enumerate(cg.document_pages(rng, doc_type, who, service_date(rng), damage=damage)):
                img, printed = cg.render(rng, lines)
                img, done = cg.degrade(rng, img, {"skew": rng.uniform(-2, 2), "specks": rng.random() < 0.5})
                images.append((img, dict(kind="page", text=printed, patient_mrn=who.mrn, doc_type=doc_type,
                                         doc_index=doc_index, starts_document=i == 0,
                                         degradations=done + (["damaged MRN"] if damage else []))))
        cg.save_tiff(path, [cg.to_bilevel(i) for i, _ in images], 300, "group4")
        for i, (_, rec) in enumerate(images):
            truth.append(page_record(path, i, **rec))
    with open(os.path.join(args.out, "mpi.csv"), "w", encoding="utf-8") as f:
        f.write("mrn,family,given,middle,dob,sex\n")
        for pt in patients:
            f.write(pt.csv() + "\n")
    cg.write_jsonl(os.path.join(args.out, "ground-truth.jsonl"), truth)
    print("wrote %d pages in %d charts to %s" % (len(truth), args.charts, args.out))


# ------------------------------------------------------------------ corpus

def cmd_corpus(args):
    """Labelled document text; train and test draw from disjoint seeds."""
    rng = random.Random(args.seed * 2 + (0 if args.split == "train" else 1))
    patients = cg.make_patients(rng, 50)
    with open(args.out, "w", encoding="utf-8") as f:
        for n in range(args.docs):
            doc_type = DOC_TYPES[n % len(DOC_TYPES)]
            pages = cg.document_pages(rng, doc_type, rng.choice(patients), service_date(rng))
            text = "\n".join(line for page in pages for line in page)
            f.write(json.dumps({"type": doc_type, "text": text}) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("samples")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    p.set_defaults(func=cmd_samples)
    p = sub.add_parser("degraded")
    p.add_argument("--pages", type=int, required=True)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--out", required=True)
    p.add_argument("--clean", action="store_true")
    p.add_argument("--upside-down", type=float, default=0.04)
    p.add_argument("--sideways", type=float, default=0.02)
    p.add_argument("--blank", type=float, default=0.05)
    p.add_argument("--signature", type=float, default=0.0, help="share of pages with only a signature (not blank)")
    p.add_argument("--fax", type=float, default=0.15)
    p.add_argument("--max-skew", type=float, default=5.0)
    p.set_defaults(func=cmd_degraded)
    p = sub.add_parser("charts")
    p.add_argument("--charts", type=int, required=True)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--out", required=True)
    p.add_argument("--cover-ratio", type=float, default=0.5)
    p.add_argument("--misfile-ratio", type=float, default=0.05)
    p.add_argument("--namesake-ratio", type=float, default=0.05)
    p.add_argument("--unknown-ratio", type=float, default=0.03)
    p.add_argument("--damaged-header-ratio", type=float, default=0.1)
    p.set_defaults(func=cmd_charts)
    p = sub.add_parser("corpus")
    p.add_argument("--docs", type=int, required=True)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--split", choices=["train", "test"], required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_corpus)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()

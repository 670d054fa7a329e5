"""Template-split chart generator for the indexing benchmark (`bench.py index`).

A *template* is one hospital form design: a layout (letterhead, boxed
header block, boxed form, two columns, table, flowing note), a title style
(case, weight, size, alignment, underline or box, form number), a header
style (how the patient's identifiers are printed), a font, how the date of
service is printed and how continuation pages are marked. Templates are
drawn from a seeded generator and split once into a *tuning* family and a
*held-out* family: nothing in the held-out family (its combination of
layout, title style, header style, font, date and page marks) is ever used
to tune rules, learn boundary weights or train a classifier.

Document text comes from two sources, both split the same way:
- generated notes (samples/doctext.py; tuning draws the "train" wording
  banks, held-out the "test" banks, which share no sentence template,
  title wording, hospital or clinician);
- real reports from the mtsamples training portion
  (../shared/data/mtsamples/mtsamples-train.csv), deduplicated by text and
  split by document (a report is either tuning or held-out, never both).

Scan profiles (clean, office, legacy, fax, photocopy) are drawn per chart
and reported separately. Pages are upright: orientation is measured by
`bench.py ocr`; this benchmark measures indexing.

Everything is made up except the mtsamples text; the same arguments give
the same files.
"""
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "samples"))
sys.path.insert(0, HERE)

import chartgen as cg  # noqa: E402
import doctext  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

URW = "/usr/share/fonts/opentype/urw-base35"
# (regular, bold) file paths: DejaVu, Liberation and the URW base 35 faces
FONT_FACES = [
    ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"), ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
    ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf"),
    (URW + "/NimbusRoman-Regular.otf", URW + "/NimbusRoman-Bold.otf"),
    (URW + "/NimbusSans-Regular.otf", URW + "/NimbusSans-Bold.otf"),
    (URW + "/C059-Roman.otf", URW + "/C059-Bold.otf"),
    (URW + "/P052-Roman.otf", URW + "/P052-Bold.otf"),
    (URW + "/URWBookman-Light.otf", URW + "/URWBookman-Demi.otf"),
    (URW + "/NimbusMonoPS-Regular.otf", URW + "/NimbusMonoPS-Bold.otf"),
    (URW + "/NimbusSansNarrow-Regular.otf", URW + "/NimbusSansNarrow-Bold.otf"),
]

LAYOUTS = ["flowing", "letterhead", "header-block", "boxed-form", "two-column", "table"]
HEADER_STYLES = [
    ["MRN: {mrn}", "NAME: {family}, {given} {middle}.", "DOB {dob_us}"],
    ["MED REC NO {mrn}", "Patient: {Given} {middle}. {Family}", "BIRTH DATE: {dob}"],
    ["#{mrn}   Patient Name: {family}, {given}", "DOB: {dob_us}"],
    ["Patient Name: {Family}, {Given}", "Medical Record Number: {mrn}", "Date of Birth: {dob_long}"],
    ["CHART NO {mrn}", "NAME: {family}, {given}", "D.O.B. {dob_dash}"],
    ["Patient: {Given} {Family}", "MRN {mrn}", "DOB: {dob_us}"],
]
DATE_STYLES = ["Date of service: {us}", "DATE OF SERVICE: {us}", "Service date: {long}", "Exam date: {long}",
               "Date of procedure: {dash}", "ADMISSION DATE: {us}", "Visit date: {us}", "Date: {us}"]
# how continuation pages are marked; "full" repeats the whole patient block
# (forms with the patient plate on every page), so a patient block alone
# does not say a document starts
CONT_STYLES = ["page-of", "page-of+running", "running", "continued", "none", "page-n", "full", "page-of+full"]
PROFILES = ["clean", "office", "legacy", "fax", "photocopy"]
# which document types each text source can give
MT_TYPES = {"discharge-summary", "history-physical", "progress-note", "operative-report", "consultation",
            "radiology-report", "pathology-report", "emergency-record", "correspondence"}


class Template:
    def __init__(self, rng, index):
        self.index = index
        self.layout = rng.choice(LAYOUTS)
        self.font = rng.randrange(len(FONT_FACES))
        self.size_pt = rng.choice([10, 10.5, 11, 12])
        self.header = rng.randrange(len(HEADER_STYLES))
        self.date = rng.randrange(len(DATE_STYLES))
        self.cont = rng.choice(CONT_STYLES)
        self.title_case = rng.choice(["upper", "upper", "title", "title"])
        self.title_bold = rng.random() < 0.7
        self.title_scale = rng.choice([1.0, 1.0, 1.25, 1.5, 1.8])
        self.title_align = rng.choice(["left", "centre", "centre"])
        self.title_deco = rng.choice(["none", "none", "underline", "box"])
        self.form_number = "Form %s-%d" % (rng.choice(["MR", "HIM", "CL", "NS"]), rng.randrange(100, 9999)) \
            if rng.random() < 0.4 else None
        self.title_first = rng.random() < 0.6  # title above the patient block, else below
        self.heading_case = rng.choice(["upper", "title"])

    def describe(self):
        return "T%02d %s/%s%s%s x%.2g %s/%s/h%d/%s" % (
            self.index, self.layout, self.title_case, "-bold" if self.title_bold else "",
            "" if self.title_deco == "none" else "-" + self.title_deco, self.title_scale, self.title_align,
            os.path.basename(FONT_FACES[self.font][0]).split(".")[0], self.header, self.cont)


def templates(seed=2026, n=48, held_out=0.5):
    """(tuning, held-out) lists of templates, split once by template."""
    rng = random.Random(seed)
    all_t = [Template(rng, i) for i in range(n)]
    order = list(range(n))
    random.Random(seed + 1).shuffle(order)
    cut = int(n * held_out)
    test = sorted(order[:cut])
    return [all_t[i] for i in range(n) if i not in test], [all_t[i] for i in test]


# ------------------------------------------------------------------ text

def mtsamples_split(path, seed=2026):
    """mtsamples reports deduplicated by text (load_mapped) and split by
    document: ({type: [text]} tuning, {type: [text]} held-out)."""
    from mtsamples_map import load_mapped
    rows = load_mapped(path) if path and os.path.exists(path) else []
    rng = random.Random(seed)
    tune, test = {}, {}
    for label in sorted({t for t, _ in rows}):
        texts = [x for t, x in rows if t == label]
        rng.shuffle(texts)
        half = len(texts) // 2
        tune[label], test[label] = texts[half:], texts[:half]
    return tune, test


def mtsamples_lines(text, max_lines=70):
    """A transcription as lines: `HEADING:,` runs become headings."""
    text = re.sub(r":\s*,(\s*,)*", ":\n", text)
    text = re.sub(r"([.)])\s*,(?=\S)", "\\1\n", text)
    text = re.sub(r"(?<=[a-z.)]) *,?(?=[A-Z][A-Z &/]{3,}:)", "\n", text)
    out = []
    for line in text.split("\n"):
        line = " ".join(line.split()).strip(" ,")
        if line:
            out.append(line)
    return out[:max_lines]


def case(text, style):
    if style == "upper":
        return text.upper()
    small = {"and", "of", "the", "for", "to", "in", "on", "with", "a", "or"}
    words = text.lower().split()
    return " ".join(w if i > 0 and w in small else (w[:1].upper() + w[1:]) for i, w in enumerate(words))


def doc_title(rng, doc_type, split):
    spec = doctext.DOCS[doc_type]
    if doc_type == "other":
        titles, _ = rng.choice(spec["kinds"])
    else:
        titles = spec["titles"]
    return rng.choice(doctext.half(titles, split))


def generated_body(rng, doc_type, split, meta=None, patient=None):
    lines = doctext.document(rng, doc_type, split, meta, patient)
    # drop doctext's own hospital, patient block, title and date: the
    # template prints those
    return lines[lines.index("") + 1:]


# ------------------------------------------------------------------ rendering

class Page:
    def __init__(self, dpi):
        self.dpi = dpi
        self.img = Image.new("L", (int(8.5 * dpi), int(11 * dpi)), 255)
        self.draw = ImageDraw.Draw(self.img)
        self.printed = []


class Renderer:
    """Lays lines out on letter pages in a template's style."""

    def __init__(self, rng, tpl, dpi):
        self.rng, self.tpl, self.dpi = rng, tpl, dpi
        reg, bold = FONT_FACES[tpl.font]
        self.reg_path = reg if reg.startswith("/") else cg.font_path(reg)
        self.bold_path = bold if bold.startswith("/") else cg.font_path(bold)
        self.size = int(round(tpl.size_pt * dpi / 72))
        self.fonts = {}
        self.margin = int(dpi * 0.85)
        self.width = int(8.5 * dpi) - 2 * self.margin
        self.bottom = int(11 * dpi - dpi * 1.0)
        self.step = int(self.size * 1.45)

    def font(self, bold=False, scale=1.0):
        key = (bold, scale)
        if key not in self.fonts:
            self.fonts[key] = ImageFont.truetype(self.bold_path if bold else self.reg_path,
                                                 int(self.size * scale))
        return self.fonts[key]

    def wrap(self, page, text, font, width):
        return [p for p in cg.wrap(page.draw, font, [text], width) if p]

    def line(self, page, y, text, bold=False, scale=1.0, align="left", x0=None, width=None, underline=False,
             box=False):
        """Draws @text from @y, wrapping; returns the next y."""
        f = self.font(bold, scale)
        x0 = self.margin if x0 is None else x0
        width = self.width if width is None else width
        step = int(self.step * scale)
        for part in self.wrap(page, text, f, width):
            w = page.draw.textlength(part, font=f)
            x = x0 + (width - w) / 2 if align == "centre" else x0
            page.draw.text((x, y), part, fill=0, font=f)
            page.printed.append(part)
            asc = int(self.size * scale)
            if underline:
                page.draw.line([(x, y + asc * 1.12), (x + w, y + asc * 1.12)], fill=0, width=max(2, self.dpi // 100))
            if box:
                pad = int(asc * 0.35)
                page.draw.rectangle([x - pad, y - pad, x + w + pad, y + asc * 1.2 + pad], outline=0,
                                    width=max(2, self.dpi // 100))
                y += pad
            y += step
        return y

    def rule(self, page, y):
        page.draw.line([(self.margin, y), (self.margin + self.width, y)], fill=0, width=max(2, self.dpi // 120))
        return y + self.step // 2


def render_document(rng, tpl, dpi, doc, patient, hospital, identified=True):
    """Renders one document; returns [(image, printed lines)]. Without
    @identified the pages print no patient identifiers (a chart that relies
    on its cover sheet)."""
    r = Renderer(rng, tpl, dpi)
    pages = []
    body = list(doc["body"])
    n_body = len(body)

    def new_page(first):
        page = Page(dpi)
        y = int(dpi * 0.6)
        ident = [h.format(**patient) for h in HEADER_STYLES[tpl.header]] if identified else []
        if first:
            if tpl.layout == "letterhead":
                y = r.line(page, y, hospital, bold=True, scale=1.3, align="centre")
                y = r.line(page, y, "%d %s Street, Springfield" % (100 + tpl.index * 7, "Main"), align="centre",
                           scale=0.85)
                y = r.rule(page, y) + r.step // 2
            elif tpl.layout != "boxed-form":
                y = r.line(page, y, hospital, bold=tpl.layout != "flowing")
            if tpl.form_number:
                y = r.line(page, y, tpl.form_number, scale=0.85)

            def title(y):
                y += r.step // 3
                y = r.line(page, y, case(doc["title"], tpl.title_case), bold=tpl.title_bold,
                           scale=tpl.title_scale, align=tpl.title_align, underline=tpl.title_deco == "underline",
                           box=tpl.title_deco == "box")
                return y + r.step // 3

            if tpl.title_first:
                y = title(y)
            if tpl.layout in ("header-block", "boxed-form"):
                top = y
                y += r.step // 3
                if tpl.layout == "boxed-form":
                    y = r.line(page, y, hospital, bold=True)
                for line in ident:
                    y = r.line(page, y, line, x0=r.margin + r.size // 2)
                page.draw.rectangle([r.margin - r.size // 3, top, r.margin + r.width, y + r.step // 4], outline=0,
                                    width=max(2, dpi // 100))
                y += r.step // 2
            else:
                for line in ident:
                    y = r.line(page, y, line)
            if not tpl.title_first:
                y = title(y)
            y = r.line(page, y, doc["date_line"])
            y += r.step // 2
        else:
            if "full" in tpl.cont:
                for line in ident:
                    y = r.line(page, y, line)
                y += r.step // 2
            if "running" in tpl.cont and identified:
                y = r.line(page, y, "%s, %s  MRN %s" % (patient["family"], patient["given"], patient["mrn"]))
                y += r.step // 2
            if tpl.cont == "continued":
                y = r.line(page, y, "%s (continued)" % case(doc["title"], tpl.title_case))
                y += r.step // 2
        return page, y

    page, y = new_page(True)
    two_col = tpl.layout == "two-column"
    col = 0
    col_top = y
    while body:
        text = body.pop(0)
        heading = bool(text) and (text.rstrip(":").isupper() and len(text) < 50)
        if heading:
            text = case(text.rstrip(":"), tpl.heading_case) + (":" if text.endswith(":") else "")
        if not text:
            y += r.step // 2
            continue
        width = (r.width - r.size) // 2 if two_col else r.width
        x0 = r.margin + (width + r.size) * col if two_col else r.margin
        f = r.font(heading)
        need = len(r.wrap(page, text, f, width)) * r.step
        if y + need > r.bottom:
            if two_col and col == 0:
                col, y = 1, col_top
                x0 = r.margin + width + r.size
            else:
                pages.append(page)
                page, y = new_page(False)
                col, col_top = 0, y
                x0 = r.margin
        if tpl.layout == "table" and not heading:
            # ruled rows: the sentence in a cell
            y0 = y - r.step // 5
            y = r.line(page, y, text, x0=x0 + r.size // 2, width=width - r.size)
            page.draw.rectangle([x0, y0, x0 + width, y - r.step // 5], outline=0, width=max(1, dpi // 150))
        else:
            y = r.line(page, y, text, bold=heading, x0=x0, width=width)
    if y + 2 * r.step > r.bottom:
        pages.append(page)
        page, y = new_page(False)
    y = r.line(page, y + r.step // 2, doc["signature"])
    pages.append(page)
    del n_body

    out = []
    n = len(pages)
    for i, p in enumerate(pages):
        if n > 1 and tpl.cont in ("page-of", "page-of+running"):
            r.line(p, r.bottom + r.step, "Page %d of %d" % (i + 1, n), align="centre", scale=0.9)
        elif n > 1 and tpl.cont == "page-n" and i > 0:
            r.line(p, r.bottom + r.step, "- %d -" % (i + 1), align="centre", scale=0.9)
        out.append((p.img, p.printed))
    return out


# ------------------------------------------------------------------ charts

def profile_page(rng, img, profile):
    """Degrades a page for a scan profile; returns (image, mode, dpi)."""
    if profile == "clean":
        return img, "lzw", 300
    if profile == "office":
        img, _ = cg.degrade(rng, img, {"skew": rng.uniform(-1.5, 1.5), "specks": rng.random() < 0.5})
        return img, "g4", 300
    if profile == "legacy":
        img, _ = cg.degrade(rng, img, {"fade": True, "noise": True, "specks": True, "holes": rng.random() < 0.4,
                                       "skew": rng.uniform(-3, 3)})
        return img, "lzw", 300
    if profile == "fax":
        img, _ = cg.degrade(rng, img, {"noise": True, "skew": rng.uniform(-2, 2)})
        return img, "g4", 200
    img, _ = cg.degrade(rng, img, {"blur": True, "noise": True, "border": rng.random() < 0.5,
                                   "skew": rng.uniform(-1, 1)})
    return img, "g4", 300


def fmt_dates(iso):
    y, m, d = iso.split("-")
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    return {"us": "%s/%s/%s" % (m, d, y), "dash": "%d-%02d-%s" % (int(m), int(d), y),
            "long": "%s %d, %s" % (months[int(m) - 1], int(d), y)}


def patient_fields(p):
    dates = fmt_dates(p.dob)
    return {"mrn": p.mrn, "family": p.family, "given": p.given, "middle": p.middle, "Family": p.family.title(),
            "Given": p.given.title(), "dob": p.dob, "dob_us": dates["us"], "dob_dash": dates["dash"],
            "dob_long": dates["long"]}


def make_document(rng, tpl, split, mt, doc_type=None, patient=None):
    """Text of one document in @tpl's style: dict(type, title, body, ...).
    On the tuning side a generated document is printed under the title
    doctext drew for its body (a tuning letter's, often none; an
    administrative paper's own kind), and @patient (patient_fields()) is
    the one its body names; the held-out side draws as it always did."""
    mt_ok = [t for t in sorted(MT_TYPES) if mt.get(t)]
    if doc_type is None:
        if mt_ok and rng.random() < 0.4:
            doc_type = rng.choice(mt_ok)
        else:
            doc_type = rng.choice(doctext.TYPES)
    if doc_type in mt_ok and rng.random() < 0.5:
        # drawn without replacement: a report used twice would weigh twice
        # in the figures (a type with few held-out reports ran out of them
        # and repeated one letter three times); once a type's reports are
        # used up, its documents are generated notes
        pool = mt[doc_type]
        body = mtsamples_lines(pool.pop(rng.randrange(len(pool))), rng.randrange(25, 75))
        source = "mtsamples"
    else:
        meta = {}
        body = generated_body(rng, doc_type, split, meta, None if patient is None else dict(
            (k, patient[k]) for k in ("mrn", "family", "given", "Family", "Given")) | {"dob": patient["dob_us"]})
        source = "generated"
    year = rng.randrange(1978, 2012)
    iso = "%04d-%02d-%02d" % (year, rng.randrange(1, 13), rng.randrange(1, 29))
    f = doctext.Filler(rng, split)
    title = doc_title(rng, doc_type, split)
    if split == "train" and source == "generated":
        title = meta["title"]
    return {"type": doc_type, "title": title, "body": body, "source": source,
            "date": iso, "date_line": DATE_STYLES[tpl.date].format(**fmt_dates(iso)),
            "signature": "%s   %s" % (f.pick("doctor"), fmt_dates(iso)["us"])}


# The split-bank experiment (README, "Reliability", seventh pass): the
# tuning side split in two, to measure on tuning material alone what a
# model learns from wording it has never read. Half A is the tuning
# templates at even positions of templates()'s tuning list, doctext's
# "train-a" banks and the mtsamples tuning reports at even positions of
# each type's list; half B the odd positions and "train-b". A half's
# charts draw as the held-out side does: no tuning-only material.
TUNING_HALVES = ("tune-a", "tune-b")


def tuning_half(split, tune_t, mt_tune):
    """(templates, doctext split, {type: [mtsamples text]}) of the tuning
    half @split ("tune-a" or "tune-b")."""
    i = TUNING_HALVES.index(split)
    return tune_t[i::2], doctext.TRAIN_HALVES[i], {t: list(r[i::2]) for t, r in mt_tune.items()}


def make_charts(out, split, n_pages, seed, mt_path):
    """Writes charts of the @split ("tune", "test", or a tuning half,
    "tune-a" / "tune-b") templates into @out until about @n_pages pages:
    TIFF files, mpi.csv, ground-truth.jsonl."""
    tune_t, test_t = templates()
    family = tune_t if split == "tune" else test_t
    text_split = "train" if split == "tune" else "test"
    mt_tune, mt_test = mtsamples_split(mt_path)
    mt = {t: list(reports) for t, reports in (mt_tune if split == "tune" else mt_test).items()}
    if split in TUNING_HALVES:
        family, text_split, mt = tuning_half(split, tune_t, mt_tune)
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    patients = cg.make_patients(rng, max(10, n_pages // 3))
    truth = []
    doc_index = 0
    chart = 0
    while len(truth) < n_pages:
        patient = patients[chart % len(patients)]
        pf = patient_fields(patient)
        profile = PROFILES[chart % len(PROFILES)]
        hospital = rng.choice(doctext.half(doctext.VALUES["hospital"], text_split))
        pages = []
        # one chart in four relies on a cover sheet: its documents print no
        # patient block, so titles are all that separates them
        covered = rng.random() < 0.25
        if covered:
            img, printed = cg.cover_sheet(rng, patient)
            pages.append((img, {"kind": "cover", "text": "\n".join(printed), "patient_mrn": patient.mrn,
                                "doc_type": None, "doc_index": None, "starts_document": False, "template": None,
                                "template_desc": "cover sheet", "source": None, "profile": profile,
                                "split": split}))
        n_docs = rng.randrange(3, 7)
        prev = prev_tpl = None
        for _ in range(n_docs):
            tpl = rng.choice(family)
            # runs of one type (daily notes, serial labs) are where a
            # title rule alone merges documents
            same = prev is not None and rng.random() < 0.3
            if same:
                tpl = prev_tpl
            doc = make_document(rng, tpl, text_split, mt, prev["type"] if same else None, pf)
            doc_index += 1
            rendered = render_document(rng, tpl, 300, doc, pf, hospital, not covered)[:4]
            for i, (img, printed) in enumerate(rendered):
                pages.append((img, {"kind": "page", "text": "\n".join(printed), "patient_mrn": patient.mrn,
                                    "doc_type": doc["type"], "doc_index": doc_index, "starts_document": i == 0,
                                    "template": tpl.index, "template_desc": tpl.describe(), "source": doc["source"],
                                    "profile": profile, "split": split}))
            prev, prev_tpl = doc, tpl
        path = os.path.join(out, "chart-%s-%03d.tif" % (split, chart))
        imgs = []
        mode = dpi = None
        for img, _ in pages:
            img2, mode, dpi = profile_page(rng, img, profile)
            if dpi != 300:
                img2 = img2.resize((int(img2.width * dpi / 300), int(img2.height * dpi / 300)))
            imgs.append(cg.to_bilevel(img2) if mode == "g4" else img2)
        cg.save_tiff(path, imgs, dpi, "group4" if mode == "g4" else "tiff_lzw")
        for i, (_, rec) in enumerate(pages):
            rec.update(path=os.path.basename(path), page=i, dpi=dpi)
            truth.append(rec)
        chart += 1
    with open(os.path.join(out, "mpi.csv"), "w", encoding="utf-8") as f:
        f.write("mrn,family,given,middle,dob,sex\n")
        for p in patients:
            f.write(p.csv() + "\n")
    cg.write_jsonl(os.path.join(out, "ground-truth.jsonl"), truth)
    return truth


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="template-split charts")
    ap.add_argument("split", choices=["tune", "test", "tune-a", "tune-b", "list"])
    ap.add_argument("--out")
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--mtsamples", default=os.path.join(ROOT, "..", "shared", "data", "mtsamples",
                                                         "mtsamples-train.csv"))
    a = ap.parse_args()
    if a.split == "list":
        tu, te = templates()
        for name, fam in (("tuning", tu), ("held-out", te)):
            print("%s templates (%d):" % (name, len(fam)))
            for t in fam:
                print("  " + t.describe())
    else:
        t = make_charts(a.out, a.split, a.pages, a.seed, a.mtsamples)
        print("wrote %d pages to %s" % (len(t), a.out))

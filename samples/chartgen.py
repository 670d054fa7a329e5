"""Synthetic hospital chart pages, typed and degraded like decades-old paper.

Everything here is made up: patients, clinicians and text are drawn from word
lists in this file by a seeded random generator, so the same seed always
gives the same pages, byte for byte. No real patient is described.
"""
import io
import json
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2"]
FONTS = ["DejaVuSerif.ttf", "DejaVuSans.ttf", "DejaVuSansMono.ttf", "LiberationSerif-Regular.ttf",
         "LiberationSans-Regular.ttf", "LiberationMono-Regular.ttf"]
BOLD = {"DejaVuSerif.ttf": "DejaVuSerif-Bold.ttf", "DejaVuSans.ttf": "DejaVuSans-Bold.ttf",
        "DejaVuSansMono.ttf": "DejaVuSansMono-Bold.ttf", "LiberationSerif-Regular.ttf": "LiberationSerif-Bold.ttf",
        "LiberationSans-Regular.ttf": "LiberationSans-Bold.ttf",
        "LiberationMono-Regular.ttf": "LiberationMono-Bold.ttf"}

FAMILY = ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ",
          "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE", "JACKSON", "MARTIN",
          "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ", "CLARK", "RAMIREZ", "LEWIS", "ROBINSON",
          "WALKER", "YOUNG", "ALLEN", "KING", "WRIGHT", "SCOTT", "TORRES", "NGUYEN", "HILL", "FLORES", "GREEN",
          "ADAMS", "NELSON", "BAKER", "HALL", "RIVERA", "CAMPBELL", "MITCHELL", "CARTER", "ROBERTS", "OKAFOR",
          "KOWALSKI", "O'BRIEN", "FITZGERALD", "MORGAN", "PETERSON", "COOPER", "REED", "BAILEY", "BELL"]
GIVEN_F = ["MARY", "PATRICIA", "LINDA", "BARBARA", "ELIZABETH", "JENNIFER", "MARIA", "SUSAN", "MARGARET", "DOROTHY",
           "LISA", "NANCY", "KAREN", "BETTY", "HELEN", "SANDRA", "DONNA", "CAROL", "RUTH", "SHARON", "MICHELLE",
           "LAURA", "SARAH", "KIMBERLY", "DEBORAH", "JESSICA", "SHIRLEY", "CYNTHIA", "ANGELA", "MELISSA"]
GIVEN_M = ["JAMES", "JOHN", "ROBERT", "MICHAEL", "WILLIAM", "DAVID", "RICHARD", "CHARLES", "JOSEPH", "THOMAS",
           "CHRISTOPHER", "DANIEL", "PAUL", "MARK", "DONALD", "GEORGE", "KENNETH", "STEVEN", "EDWARD", "BRIAN",
           "RONALD", "ANTHONY", "KEVIN", "JASON", "MATTHEW", "GARY", "TIMOTHY", "JOSE", "LARRY", "JEFFREY"]
CLINICIANS = ["R. Patel, MD", "S. Okonkwo, MD", "L. Chen, MD", "M. Alvarez, MD", "J. Weber, DO", "K. Nakamura, MD",
              "A. Rossi, MD", "T. Brennan, MD", "E. Lindqvist, RN", "D. Moreau, NP"]
HOSPITALS = ["MERCY GENERAL HOSPITAL", "ST. LUKE'S MEDICAL CENTER", "RIVERSIDE COMMUNITY HOSPITAL",
             "VALLEY REGIONAL MEDICAL CENTER", "COUNTY GENERAL HOSPITAL"]

TYPES = {
    "discharge-summary": "DISCHARGE SUMMARY",
    "history-physical": "HISTORY AND PHYSICAL",
    "progress-note": "PROGRESS NOTE",
    "operative-report": "OPERATIVE REPORT",
    "consultation": "CONSULTATION NOTE",
    "radiology-report": "RADIOLOGY REPORT",
    "laboratory-report": "LABORATORY REPORT",
    "pathology-report": "PATHOLOGY REPORT",
    "emergency-record": "EMERGENCY DEPARTMENT RECORD",
    "nursing-note": "NURSING NOTE",
    "medication-record": "MEDICATION ADMINISTRATION RECORD",
    "consent-form": "CONSENT FOR PROCEDURE",
    "correspondence": "REFERRAL LETTER",
}

CONDITIONS = ["community acquired pneumonia", "congestive heart failure", "acute appendicitis", "type 2 diabetes",
              "chronic obstructive pulmonary disease", "atrial fibrillation", "urinary tract infection",
              "acute cholecystitis", "cellulitis of the left leg", "hypertension", "asthma exacerbation",
              "gastrointestinal bleeding", "hip fracture", "chest pain", "renal insufficiency"]
DRUGS = [("aspirin", "81 mg daily"), ("metoprolol", "25 mg twice daily"), ("lisinopril", "10 mg daily"),
         ("furosemide", "40 mg daily"), ("metformin", "500 mg twice daily"), ("warfarin", "5 mg daily"),
         ("amoxicillin", "500 mg three times daily"), ("ceftriaxone", "1 g intravenously daily"),
         ("albuterol", "2 puffs every 4 hours as needed"), ("prednisone", "40 mg daily"),
         ("insulin glargine", "20 units at bedtime"), ("acetaminophen", "650 mg every 6 hours as needed")]
PROCEDURES = ["laparoscopic cholecystectomy", "appendectomy", "open reduction and internal fixation of the hip",
              "colonoscopy with biopsy", "cardiac catheterization", "inguinal hernia repair",
              "total knee arthroplasty", "excision of skin lesion"]

SECTIONS = {
    "discharge-summary": [
        ("ADMISSION DIAGNOSIS", ["The patient was admitted with {cond}.", "Presenting symptoms included {sym}."]),
        ("HOSPITAL COURSE", ["The patient was treated with {drug} and improved steadily.",
                             "A chest radiograph showed {xray}.", "Cultures were obtained before antibiotics.",
                             "The patient remained afebrile for the last {n} days of the stay.",
                             "Physical therapy evaluated the patient and recommended home exercises."]),
        ("DISCHARGE MEDICATIONS", ["{drug} {dose}.", "{drug} {dose}.", "{drug} {dose}."]),
        ("FOLLOW UP", ["Follow up with the primary care physician in {n} weeks.",
                       "Return to the emergency department for fever or shortness of breath."]),
    ],
    "history-physical": [
        ("CHIEF COMPLAINT", ["{sym} for {n} days."]),
        ("HISTORY OF PRESENT ILLNESS", ["The patient is a {age} year old with a history of {cond}.",
                                        "Symptoms began gradually and worsened over the past week.",
                                        "The patient denies fever, chills or weight loss."]),
        ("PAST MEDICAL HISTORY", ["{cond}.", "{cond}."]),
        ("ALLERGIES", ["No known drug allergies.", "Allergic to penicillin with rash."]),
        ("PHYSICAL EXAMINATION", ["Blood pressure {bp}, pulse {pulse}, temperature {temp}.",
                                  "Lungs are clear to auscultation bilaterally.",
                                  "Heart has a regular rate and rhythm without murmur."]),
        ("ASSESSMENT AND PLAN", ["Admit for evaluation of {cond}.", "Start {drug} {dose}."]),
    ],
    "progress-note": [
        ("SUBJECTIVE", ["The patient reports feeling better this morning.", "Slept well overnight.",
                        "Appetite is improving."]),
        ("OBJECTIVE", ["Blood pressure {bp}, pulse {pulse}, temperature {temp}.", "Wound is clean and dry."]),
        ("ASSESSMENT", ["{cond}, improving."]),
        ("PLAN", ["Continue {drug} {dose}.", "Advance diet as tolerated.", "Anticipate discharge in {n} days."]),
    ],
    "operative-report": [
        ("PREOPERATIVE DIAGNOSIS", ["{cond}."]),
        ("PROCEDURE", ["{proc}."]),
        ("ANESTHESIA", ["General endotracheal anesthesia."]),
        ("DESCRIPTION OF PROCEDURE", ["The patient was brought to the operating room and placed supine.",
                                      "The abdomen was prepped and draped in the usual sterile fashion.",
                                      "The {proc} was performed without complication.",
                                      "Estimated blood loss was {n}0 mL.", "Sponge and needle counts were correct.",
                                      "The patient tolerated the procedure well."]),
    ],
    "consultation": [
        ("REASON FOR CONSULTATION", ["Evaluation of {cond}."]),
        ("HISTORY", ["Thank you for asking us to see this {age} year old patient.",
                     "The patient has a long history of {cond}."]),
        ("RECOMMENDATIONS", ["Begin {drug} {dose}.", "Obtain an echocardiogram.",
                             "We will follow the patient with you."]),
    ],
    "radiology-report": [
        ("EXAMINATION", ["Chest radiograph, two views.", "Computed tomography of the abdomen with contrast."]),
        ("FINDINGS", ["There is {xray}.", "The cardiac silhouette is within normal limits.",
                      "No pneumothorax or pleural effusion."]),
        ("IMPRESSION", ["{xray}."]),
    ],
    "laboratory-report": [
        ("SPECIMEN", ["Blood, collected {date}."]),
        ("RESULTS", ["Sodium 13{d} mmol/L.", "Potassium 4.{d} mmol/L.", "Creatinine 1.{d} mg/dL.",
                     "Hemoglobin 1{d}.2 g/dL.", "White blood cell count {n}.4 thousand per microliter.",
                     "Glucose 1{d}{d} mg/dL."]),
        ("COMMENT", ["Results reviewed and verified by the laboratory."]),
    ],
    "pathology-report": [
        ("SPECIMEN", ["Gallbladder.", "Skin lesion, left forearm.", "Colon biopsy."]),
        ("GROSS DESCRIPTION", ["Received in formalin is a tan soft tissue specimen measuring {n} cm."]),
        ("MICROSCOPIC DESCRIPTION", ["Sections show chronic inflammation without dysplasia."]),
        ("DIAGNOSIS", ["Chronic cholecystitis with cholelithiasis.", "Benign tissue, no malignancy identified."]),
    ],
    "emergency-record": [
        ("TRIAGE", ["Arrived by ambulance with {sym}.", "Triage vital signs: blood pressure {bp}, pulse {pulse}."]),
        ("EMERGENCY COURSE", ["An electrocardiogram showed normal sinus rhythm.", "Given {drug} {dose}.",
                              "Symptoms improved in the department."]),
        ("DISPOSITION", ["Admitted to the medical floor.", "Discharged home in stable condition."]),
    ],
    "nursing-note": [
        ("NURSING ASSESSMENT", ["Patient alert and oriented.", "Ambulating in the hallway with assistance.",
                                "Skin warm and dry.", "Pain rated {d} out of 10."]),
        ("INTERVENTIONS", ["Medications given as ordered.", "Call light within reach.",
                           "Family at bedside, questions answered."]),
    ],
    "medication-record": [
        ("SCHEDULED MEDICATIONS", ["{drug} {dose}, given at 0800.", "{drug} {dose}, given at 1200.",
                                   "{drug} {dose}, given at 2000."]),
        ("AS NEEDED MEDICATIONS", ["{drug} {dose}, given once for pain."]),
    ],
    "consent-form": [
        ("PROCEDURE", ["I consent to {proc} to be performed by my physician."]),
        ("RISKS", ["The risks, benefits and alternatives have been explained to me, including bleeding and "
                   "infection.", "I have had the opportunity to ask questions."]),
        ("SIGNATURES", ["Signature of patient ______________________", "Witness ______________________"]),
    ],
    "correspondence": [
        ("", ["Dear Colleague,", "I saw your patient in the clinic today for {cond}.",
              "I have started {drug} {dose} and will see the patient again in {n} weeks.",
              "Thank you for this kind referral.", "Sincerely,"]),
    ],
}
SYMPTOMS = ["shortness of breath", "abdominal pain", "fever and cough", "chest pain", "dizziness", "leg swelling",
            "nausea and vomiting", "back pain"]
XRAYS = ["right lower lobe consolidation consistent with pneumonia", "mild cardiomegaly",
         "no acute cardiopulmonary process", "small left pleural effusion", "degenerative changes of the spine"]


class Patient:
    def __init__(self, mrn, family, given, middle, dob, sex):
        self.mrn, self.family, self.given, self.middle, self.dob, self.sex = mrn, family, given, middle, dob, sex

    def csv(self):
        return "%s,%s,%s,%s,%s,%s" % (self.mrn, self.family, self.given, self.middle, self.dob, self.sex)


def make_patients(rng, n, namesakes=0):
    seen = set()
    out = []
    while len(out) < n:
        sex = rng.choice("FM")
        given = rng.choice(GIVEN_F if sex == "F" else GIVEN_M)
        family = rng.choice(FAMILY)
        if (family, given) in seen:
            continue
        seen.add((family, given))
        mrn = "%08d" % rng.randrange(100000, 99999999)
        dob = "%04d-%02d-%02d" % (rng.randrange(1925, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
        out.append(Patient(mrn, family, given, rng.choice("ABCDEJLMRS"), dob, sex))
    for i in range(namesakes):
        p = out[i]
        dob = "%04d-%02d-%02d" % (rng.randrange(1925, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
        out.append(Patient("%08d" % rng.randrange(100000, 99999999), p.family, p.given, rng.choice("KNPTW"), dob,
                           p.sex))
    return out


def us_date(iso):
    y, m, d = iso.split("-")
    return "%s/%s/%s" % (m, d, y)


def fill(rng, template, service_date):
    drug, dose = rng.choice(DRUGS)
    values = {"cond": rng.choice(CONDITIONS), "sym": rng.choice(SYMPTOMS), "drug": drug.capitalize(),
              "dose": dose, "xray": rng.choice(XRAYS), "proc": rng.choice(PROCEDURES), "n": rng.randrange(2, 9),
              "d": rng.randrange(1, 9), "age": rng.randrange(20, 95),
              "bp": "%d/%d" % (rng.randrange(100, 170), rng.randrange(60, 100)), "pulse": rng.randrange(55, 115),
              "temp": "%.1f" % rng.uniform(36.2, 38.9), "date": us_date(service_date)}
    text = template.format(**values)
    return text[0].upper() + text[1:]


def header_lines(rng, patient, style):
    """The identification block hospitals print, in one of several styles."""
    name1 = "%s, %s %s." % (patient.family, patient.given, patient.middle)
    if style == 0:
        return ["MRN: %s" % patient.mrn, "NAME: %s" % name1, "DOB %s" % us_date(patient.dob)]
    if style == 1:
        return ["MED REC NO %s" % patient.mrn,
                "Patient: %s %s. %s" % (patient.given.title(), patient.middle, patient.family.title()),
                "BIRTH DATE: %s" % patient.dob]
    return ["#%s   Patient Name: %s" % (patient.mrn, name1), "DOB: %s" % us_date(patient.dob)]


def document_pages(rng, doc_type, patient, service_date, lines_per_page=40, header_style=None, damage=None):
    """The text lines of each page of one document."""
    style = rng.randrange(3) if header_style is None else header_style
    head = header_lines(rng, patient, style)
    if damage:
        head = [damage(line) for line in head]
    body = []
    for title, sentences in SECTIONS[doc_type]:
        if title:
            body.append(title)
        k = len(sentences) if len(sentences) <= 3 else rng.randrange(3, len(sentences) + 1)
        for s in rng.sample(sentences, k):
            body.append(fill(rng, s, service_date))
        body.append("")
    body.append("%s   %s" % (rng.choice(CLINICIANS), us_date(service_date)))
    first = [rng.choice(HOSPITALS), TYPES[doc_type]] + head + ["Date of service: %s" % us_date(service_date), ""]
    # long documents run over pages: repeat sections
    extra_pages = rng.choice([0, 0, 0, 1, 1, 2]) if doc_type in ("discharge-summary", "history-physical",
                                                                  "operative-report", "consultation") else 0
    for _ in range(extra_pages):
        for title, sentences in SECTIONS[doc_type][1:3]:
            if title:
                body.append(title + " (CONTINUED)")
            for s in sentences:
                body.append(fill(rng, s, service_date))
            body.append("")
    pages = []
    lines = first + body
    capacity = lines_per_page
    while lines:
        pages.append(lines[:capacity])
        lines = lines[capacity:]
    running = rng.random() < 0.5
    out = []
    for i, page in enumerate(pages):
        if i > 0 and running:
            page = ["%s, %s  MRN %s" % (patient.family, patient.given, patient.mrn), ""] + page
        if len(pages) > 1:
            page = page + ["", "Page %d of %d" % (i + 1, len(pages))]
        out.append(page)
    return out


def wrap(draw, font, lines, width):
    out = []
    for line in lines:
        words = line.split(" ")
        cur = ""
        for w in words:
            trial = (cur + " " + w) if cur else w
            if draw.textlength(trial, font=font) <= width:
                cur = trial
            else:
                out.append(cur)
                cur = w
        out.append(cur)
    return out


def font_path(name):
    for d in FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise SystemExit("font %s not found: install fonts-dejavu-core and fonts-liberation2" % name)


def render(rng, lines, dpi=300, font=None, size_pt=None, title_lines=2):
    """Typed page: returns (grey image, the lines as printed after wrapping)."""
    w, h = int(8.5 * dpi), int(11 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    font = font or rng.choice(FONTS)
    size = int(round((size_pt or rng.choice([10, 11, 12])) * dpi / 72))
    regular = ImageFont.truetype(font_path(font), size)
    bold = ImageFont.truetype(font_path(BOLD[font]), size)
    margin = int(dpi * rng.uniform(0.8, 1.0))
    y = int(dpi * rng.uniform(0.6, 0.8))
    printed = []
    step = int(size * 1.45)
    for i, line in enumerate(lines):
        f = bold if i < title_lines or (line.isupper() and len(line) < 50) else regular
        for part in wrap(draw, f, [line], w - 2 * margin):
            if y > h - dpi * 0.6:
                break
            if part:
                draw.text((margin, y), part, fill=0, font=f)
                printed.append(part)
            y += step
    return img, printed


# --------------------------------------------------------------- barcodes

CODE39 = {
    "0": "000110100", "1": "100100001", "2": "001100001", "3": "101100000", "4": "000110001", "5": "100110000",
    "6": "001110000", "7": "000100101", "8": "100100100", "9": "001100100", "A": "100001001", "B": "001001001",
    "C": "101001000", "D": "000011001", "E": "100011000", "F": "001011000", "G": "000001101", "H": "100001100",
    "I": "001001100", "J": "000011100", "K": "100000011", "L": "001000011", "M": "101000010", "N": "000010011",
    "O": "100010010", "P": "001010010", "Q": "000000111", "R": "100000110", "S": "001000110", "T": "000010110",
    "U": "110000001", "V": "011000001", "W": "111000000", "X": "010010001", "Y": "110010000", "Z": "011010000",
    "-": "010000101", ".": "110000100", " ": "011000100", "*": "010010100",
}


def code39(payload, module, height):
    """A Code 39 symbol (start/stop '*', wide = 3 narrow, quiet zones)."""
    widths = []
    for ch in "*" + payload.upper() + "*":
        pattern = CODE39[ch]
        for i, bit in enumerate(pattern):
            widths.append((3 if bit == "1" else 1, i % 2 == 0))
        widths.append((1, False))  # inter-character gap
    total = sum(w for w, _ in widths) * module + 20 * module
    img = Image.new("L", (total, height), 255)
    draw = ImageDraw.Draw(img)
    x = 10 * module
    for w, bar in widths:
        if bar:
            draw.rectangle([x, 0, x + w * module - 1, height - 1], fill=0)
        x += w * module
    return img


def cover_sheet(rng, patient, dpi=300):
    lines = ["PATIENT CHART", "NAME: %s, %s %s." % (patient.family, patient.given, patient.middle),
             "DOB %s" % us_date(patient.dob), "MRN %s" % patient.mrn]
    img, printed = render(rng, lines, dpi=dpi, title_lines=1, size_pt=14)
    bc = code39("MRN" + patient.mrn, max(2, dpi // 100), int(dpi * 0.8))
    img.paste(bc, ((img.width - bc.width) // 2, int(dpi * 3)))
    return img, printed


# --------------------------------------------------------------- degradations

def degrade(rng, img, opts):
    """Ages a clean grey page. Returns (image, list of what was done)."""
    done = []
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    a = np.asarray(img, dtype=np.float32)
    if opts.get("fade"):
        f = rng.uniform(0.45, 0.7)
        mask = nrng.random(a.shape) < rng.uniform(0.02, 0.08)  # broken strokes
        ink = (255 - a) * f
        ink[mask] *= 0.3
        a = 255 - ink
        done.append("faded toner")
    if opts.get("yellow"):
        done.append("yellowed paper")
    if opts.get("noise"):
        a = a + nrng.normal(0, rng.uniform(8, 20), a.shape)
        done.append("noise")
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if opts.get("blur"):
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
        done.append("blur")
    draw = ImageDraw.Draw(img)
    if opts.get("specks"):
        n = rng.randrange(150, 600)
        for _ in range(n):
            x, y, r = rng.randrange(img.width), rng.randrange(img.height), rng.choice([1, 1, 2, 2, 3, 4])
            draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randrange(0, 90))
        done.append("specks")
    if opts.get("holes"):
        r = int(img.width / 8.5 * 0.14)
        for fy in (0.2, 0.5, 0.8):
            cx, cy = int(img.width / 8.5 * 0.35), int(img.height * fy)
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=rng.randrange(20, 70))
        done.append("punched holes")
    if opts.get("border"):
        bw = rng.randrange(20, 60)
        draw.rectangle([0, 0, bw, img.height], fill=rng.randrange(0, 40))
        draw.rectangle([0, img.height - bw // 2, img.width, img.height], fill=rng.randrange(0, 40))
        done.append("dark border")
    skew = opts.get("skew", 0.0)
    if skew:
        img = img.rotate(skew, resample=Image.BILINEAR, fillcolor=255)
        done.append("skew %.1f" % skew)
    turn = opts.get("turn", 0)
    if turn:
        img = img.transpose({90: Image.ROTATE_90, 180: Image.ROTATE_180, 270: Image.ROTATE_270}[turn])
        done.append("turned %d" % turn)
    return img, done


def blank_back(rng, dpi=300, bleed=False):
    img = Image.new("L", (int(8.5 * dpi), int(11 * dpi)), 255)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randrange(20, 120)):
        x, y, r = rng.randrange(img.width), rng.randrange(img.height), rng.choice([1, 1, 2, 3])
        draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randrange(0, 120))
    return img


def scribble_page(rng, dpi=300):
    """A page with only a signature-like scribble: not blank."""
    img = Image.new("L", (int(8.5 * dpi), int(11 * dpi)), 255)
    draw = ImageDraw.Draw(img)
    x, y = int(dpi * 1.5), int(dpi * 8)
    pts = []
    for i in range(40):
        pts.append((x + i * dpi * 0.06, y + rng.uniform(-0.25, 0.25) * dpi))
    draw.line(pts, fill=0, width=max(3, dpi // 60))
    return img


def to_bilevel(img, threshold=150):
    return img.point(lambda v: 255 if v > threshold else 0).convert("1")


def to_yellow_rgb(img, rng):
    a = np.asarray(img, dtype=np.float32) / 255.0
    paper = np.array([rng.uniform(235, 250), rng.uniform(220, 238), rng.uniform(170, 200)], dtype=np.float32)
    rgb = a[..., None] * paper[None, None, :]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def save_tiff(path, pages, dpi, compression):
    """pages: PIL images (mode 1 for group4)."""
    first, rest = pages[0], pages[1:]
    kwargs = {"dpi": (dpi, dpi), "compression": compression}
    if len(pages) > 1:
        kwargs.update(save_all=True, append_images=rest)
    first.save(path, **kwargs)


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, sort_keys=True) + "\n")

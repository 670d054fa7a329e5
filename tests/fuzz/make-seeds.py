#!/usr/bin/python3
# Writes the seed corpora of tests/fuzz/corpus/: tiny inputs of every kind
# each target reads (TIFF in each compression and depth production scanners
# write, PNG, JPEG and PDF variants, MPI extracts, workflows, taxonomies,
# queries), made here so they are ours to commit. Seeds are kept small:
# libFuzzer mutates small inputs fastest, and the decoders' paths do not
# depend on the page size. Rerun after changing it: tests/fuzz/make-seeds.py
# (needs python3-pil and tiffcp from libtiff-tools).
import io
import os
import shutil
import subprocess
import tempfile

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def out(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(folder, name), mode) as f:
        f.write(data)


def page(mode, w=40, h=24):
    """A tiny page: paper, an ink bar and a grey ramp."""
    img = Image.new("RGB", (w, h), (250, 250, 245))
    d = ImageDraw.Draw(img)
    d.rectangle([4, 4, w // 2, 9], fill=(20, 20, 20))
    for x in range(w):
        d.line([x, h - 6, x, h - 1], fill=(x * 6 % 256, 128, 255 - x * 6 % 256))
    if mode == "1":
        return img.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    if mode == "I;16":
        return img.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    return img.convert(mode)


def save(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def tiffs():
    t = "files-tiff"
    out(t, "g4.tif", save(page("1"), "TIFF", compression="group4", dpi=(300, 300)))
    out(t, "g3.tif", save(page("1"), "TIFF", compression="group3", dpi=(200, 200)))
    out(t, "bilevel-raw.tif", save(page("1"), "TIFF"))
    out(t, "grey-lzw.tif", save(page("L"), "TIFF", compression="tiff_lzw", dpi=(118, 118)))
    out(t, "grey-packbits.tif", save(page("L"), "TIFF", compression="packbits"))
    out(t, "rgb-deflate.tif", save(page("RGB"), "TIFF", compression="tiff_deflate"))
    out(t, "rgb-jpeg.tif", save(page("RGB"), "TIFF", compression="jpeg", quality=50))
    out(t, "palette.tif", save(page("P"), "TIFF"))
    out(t, "cmyk.tif", save(page("CMYK"), "TIFF", compression="tiff_lzw"))
    out(t, "grey16.tif", save(page("I;16"), "TIFF"))
    first = page("1")
    out(t, "multipage.tif", save(first, "TIFF", compression="group4", save_all=True,
                                 append_images=[page("1", 24, 40), page("1", 16, 16)]))
    # big-endian and tiled files, which PIL does not write
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src.tif")
        with open(src, "wb") as f:
            f.write(save(page("L"), "TIFF"))
        for name, args in (("tiled.tif", ["-t", "-w", "16", "-l", "16", "-c", "lzw"]),
                           ("bigendian.tif", ["-B", "-c", "packbits"]),
                           ("strips-1row.tif", ["-r", "1", "-c", "none"])):
            dst = os.path.join(tmp, name)
            subprocess.run(["tiffcp"] + args + [src, dst], check=True)
            with open(dst, "rb") as f:
                out(t, name, f.read())


def pngs():
    t = "files-png"
    out(t, "bilevel.png", save(page("1"), "PNG", dpi=(300, 300)))
    out(t, "grey.png", save(page("L"), "PNG"))
    out(t, "grey16.png", save(page("I;16"), "PNG"))
    out(t, "rgb.png", save(page("RGB"), "PNG", dpi=(150, 150)))
    out(t, "rgba.png", save(page("RGBA"), "PNG"))
    out(t, "palette.png", save(page("P"), "PNG"))
    out(t, "optimized.png", save(page("L"), "PNG", optimize=True))


def jpegs():
    t = "files-jpeg"
    out(t, "grey.jpg", save(page("L"), "JPEG", quality=60, dpi=(300, 300)))
    out(t, "rgb.jpg", save(page("RGB"), "JPEG", quality=60))
    out(t, "progressive.jpg", save(page("RGB"), "JPEG", quality=40, progressive=True))
    out(t, "cmyk.jpg", save(page("CMYK"), "JPEG", quality=50))
    out(t, "subsampled.jpg", save(page("RGB", 33, 17), "JPEG", quality=30, subsampling=2))


def pdf_document(pages):
    """A minimal PDF with one content stream per page, as bytes."""
    objs = []
    kids = []
    n_pages = len(pages)
    # 1: catalog, 2: pages, then page/content pairs, then the font
    font_id = 3 + 2 * n_pages
    for i, content in enumerate(pages):
        page_id = 3 + 2 * i
        kids.append(f"{page_id} 0 R")
    objs.append("<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {n_pages} >>")
    for i, content in enumerate(pages):
        content_id = 4 + 2 * i
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 144 96] /Contents {content_id} 0 R "
                    f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>")
        objs.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    objs.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    body = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objs):
        offsets.append(len(body))
        body += f"{i + 1} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(body)
    body += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        body += f"{off:010d} 00000 n \n".encode()
    body += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


def pdfs():
    t = "files-pdf"
    text = "BT /F1 12 Tf 10 70 Td (DOE, JANE  MRN 00482913) Tj ET"
    box = "0 0 0 rg 10 10 60 20 re f 1 0 0 RG 2 w 80 10 m 130 40 l S"
    out(t, "text.pdf", pdf_document([text]))
    out(t, "vector-colour.pdf", pdf_document([box]))
    out(t, "two-pages.pdf", pdf_document([text, box]))
    out(t, "image.pdf", save(page("RGB"), "PDF", resolution=72))
    out(t, "image-bilevel.pdf", save(page("1"), "PDF", resolution=150))


def mpi():
    out("mpi-csv", "samples-mpi.csv", open(os.path.join(ROOT, "samples", "mpi.csv"), "rb").read())
    out("mpi-csv", "quirks.csv",
        b"\xef\xbb\xbfSex,MRN,Family,Given,Middle,DOB,Ward\r\n"
        b"F,00482913,DOE,JANE,A,1952-03-14,3B\r\n"
        b"M,00700001,\"O'BRIEN, JR\",\"Liam \"\"Bill\"\"\",,1948-01-30,\"multi\nline\"\r\n"
        b"F,00000001,ROE,ANN,,1952-02-30,x\r\n"
        b"F,,NOBODY,ANN,,1950-01-01,x\r\n\r\n"
        b"U,00000002,\xff\xfe,ANN,,1950-01-01,x\r\n"
        b"F,00000003,LEE,KIM,,03/04/1990,x\r\n")
    out("mpi-csv", "no-mrn-column.csv", "family,given\nDOE,JANE\n")
    out("mpi-csv", "semicolon.csv", "mrn;family;given;dob\n1;A;B;2000-01-01\n")
    out("mpi-fhir", "bundle.json",
        '{"resourceType":"Bundle","type":"collection","entry":['
        '{"resource":{"resourceType":"Patient","id":"a",'
        ' "identifier":[{"system":"urn:ssn","value":"999"},'
        '  {"type":{"coding":[{"code":"MR"}]},"system":"urn:mercy:mrn","value":"00482913"}],'
        ' "name":[{"use":"nickname","family":"X"},{"use":"official","family":"Doe",'
        '   "given":["Jane","Ann"]}],"birthDate":"1952-03-14","gender":"female"}},'
        '{"resource":{"resourceType":"Observation"}},'
        '{"resource":{"resourceType":"Patient","id":"b","identifier":[{"value":"1"}],'
        ' "name":[{"family":"Roe"}]}},'
        '{"resource":{"resourceType":"Patient","id":"c","identifier":[{"type":{"coding":[{"code":'
        '"MR"}]},"value":"00111111"}],"name":[{"family":"Okafor","given":["Chidi"]}],'
        ' "link":[{"type":"replaced-by","other":{"identifier":{"value":"00482913"}}}]}}]}')
    out("mpi-fhir", "patients.ndjson",
        '{"resourceType":"Patient","identifier":[{"type":{"coding":[{"code":"MR"}]},"value":"7"}],'
        '"name":[{"family":"Lee","given":["Kim"]}],"birthDate":"1990-03-04","gender":"male"}\n'
        'this is not json\n'
        '{"resourceType":"Patient","identifier":[{"system":"urn:other","value":"8"}],'
        '"name":[{"family":"Kim","text":"Kim"}],"birthDate":"1990"}\n')
    out("mpi-fhir", "array.json", '[{"resourceType":"Patient","identifier":[{"type":{"coding":[{"code":"MR"}]},'
        '"value":"9"}],"name":[{"family":"Ng"}],"gender":"unknown"}]')
    out("mpi-hl7", "adt.hl7",
        b"\x0bMSH|^~\\&|ADT|MERCY|CD|CD|202601010000||ADT^A01|1|P|2.5\r"
        b"PID|1||123^^^MERCY^PI~00482913^^^MERCY^MR||DOE^JANE^A||19520314|F\r\x1c\r"
        b"MSH|$~\\&|ADT|MERCY|CD|CD|202601010000||ADT$A08|2|P|2.5\n"
        b"PID|1||00700001$$$MERCY$MR||O\\F\\BRIEN$LIAM||19480130|M\n"
        b"MSH|^~\\&|ADT|MERCY|CD|CD|202601010000||ADT^A40|3|P|2.5\r\n"
        b"PID|1||00300300^^^MERCY^MR||OKAFOR^CHIDI||19850404|M\r\n"
        b"MRG|00111111^^^MERCY^MR\r\n"
        b"MSH|^~\\&|LAB|MERCY|CD|CD|202601010000||ORU^R01|4|P|2.5\r"
        b"PID|1||00999999^^^MERCY^MR||X^Y\r")
    out("mpi-hl7", "a40-without-name.hl7",
        b"MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|||111^^^H^MR||DOE^JANE||19520314|F\r"
        b"MSH|^~\\&|A|B|C|D|1||ADT^A40|2|P|2.5\rPID|||222^^^H^MR\rMRG|333^^^H^MR\r")
    out("mpi-hl7", "a04-escapes.hl7",
        b"MSH|^~\\&|A|B|C|D|1||ADT^A04^ADT_A01|1|P|2.5.1\rEVN|A04|20260101\r"
        b"PID|1||5^^^H^MR~6^^^H^PI||SMITH\\S\\JONES^ANN^B^^^^L||19700101|U\r")


def texts():
    for name in ("chart-intake.workflow", "ocr-only.workflow", "scan-intake.workflow"):
        shutil.copy(os.path.join(ROOT, "workflows", name), os.path.join(CORPUS, "workflow", name))
    out("workflow", "files-only.workflow",
        "[workflow]\nname=files-only\ndescription=Read and archive\nsource=files\nworkers=2\n"
        "classifiers=rules\ntype-thresholds=default:0.5;consent-form:0.8\n\n"
        "[files]\nrecursive=false\nmax-megapixels=40.5\nresolution=200\n")
    # chart-intake without the stages that need Tesseract (not loaded by the target)
    out("workflow", "identity.workflow",
        "[workflow]\nname=ids\nsource=files\npage-stages=barcode;header\nsplitter=chart\n"
        "document-stages=patient-link\nclassifiers=rules;trained\n"
        "type-thresholds=default:0.5;consent-form:0.7\nworkers=1\n\n"
        "[barcode]\nsymbologies=code128;code39;i25;qrcode\nmax-dpi=200\n\n"
        "[header]\ndate-order=mdy\n\n[chart]\ncover-max-words=60\ncover-scope=file\n\n"
        "[patient-link]\nocr-variants=true\n\n[rules]\nrules=\ntimeout=10\n")
    shutil.copy(os.path.join(ROOT, "workflows", "taxonomy.conf"), os.path.join(CORPUS, "taxonomy", "taxonomy.conf"))
    out("taxonomy", "small.conf",
        "[taxonomy]\ndefault-threshold=0.4\nfallback=other\n\n"
        "[letter]\nname=Letter\nloinc=\naliases=correspondence;note to file\nrenamed-from=mail\n\n"
        "[old-form]\nname=Old form\nretired=true\nthreshold=0.9\ndescription=Kept for archived documents\n\n"
        "[other]\nname=Other\n")
    queries = {
        "words.txt": "chest pain",
        "phrase.txt": '"chest pain" OR dyspnea',
        "prefix.txt": "cardio*",
        "near.txt": "NEAR(chest pain, 5)",
        "column.txt": "text:chest",
        "punctuation.txt": "O'Brien 03/14/1952 q.i.d.",
        "filters.txt": "chest\n00700001\n2000-01-01\n2010-12-31\nRadiology Report\n",
        "filters-only.txt": "\n\n1990-01-01\n\nletter\n",
        "plain.txt": "cafe OR deja\n\n\n\n\nplain",
        "accents.txt": "Déjà CAFÉ",
        "unterminated.txt": '"chest',
    }
    for name, q in queries.items():
        out("search", name, q)


def retention():
    """Retention policies (issue 17): the shipped example and a small one."""
    os.makedirs(os.path.join(CORPUS, "retention-policy"), exist_ok=True)
    shutil.copy(os.path.join(ROOT, "workflows", "retention.conf"),
                os.path.join(CORPUS, "retention-policy", "retention.conf"))
    out("retention-policy", "small.conf",
        "[policy]\nyears=7\nminor-years=2\nmajority-age=21\n\n[progress-note]\npermanent=true\n")


if __name__ == "__main__":
    for t in ("workflow", "taxonomy"):
        os.makedirs(os.path.join(CORPUS, t), exist_ok=True)
    tiffs()
    pngs()
    jpegs()
    pdfs()
    mpi()
    texts()
    retention()

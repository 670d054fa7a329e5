#!/usr/bin/python3
# Reads one HL7 v2 MDM message with Debian's python3-hl7 and prints, a line
# each, what the export-hl7 test checks: MSH-9, PID-3.1 (MRN), PID-5.1
# (family name), TXA-2 (document type), TXA-12.1 (document number),
# OBX-2 (value type), the length of the PDF decoded from OBX-5.5, and its
# first five bytes.
import base64
import sys

import hl7

with open(sys.argv[1], encoding="utf-8", newline="") as f:
    text = f.read()
msg = hl7.parse(text)
obx = msg.segment("OBX")
pdf = base64.b64decode(str(obx[5][0][4]))
for value in (
    str(msg.segment("MSH")[9]),
    str(msg.segment("PID")[3][0][0]),
    str(msg.segment("PID")[5][0][0]),
    str(msg.segment("TXA")[2]),
    str(msg.segment("TXA")[12][0][0]),
    str(obx[2]),
    str(len(pdf)),
    pdf[:5].decode("latin-1"),
):
    print(value)

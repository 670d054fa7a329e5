"""Text of made-up hospital chart documents of every Chartdesk type, for
training and measuring document classifiers.

The wording banks below (titles, section headings, sentence templates) and
the proper names (hospitals, clinicians, patients) are split in two by
position: the "train" split draws only from even positions and the "test"
split only from odd ones. A test document therefore shares no sentence
template, title wording, hospital, clinician or patient with any training
document. What carries over is clinical vocabulary (drugs, routes, lab
tests, conditions, procedures), which any two hospitals share.

`ocr_noise()` imitates what Tesseract does to degraded scans (letters read
as digits, rn/m and cl/d confusions, split and run-together words, lost
characters and lines) so that training text can look like OCR output
without rendering and recognising thousands of pages.

Deterministic: the same seed gives the same text. Nothing describes a real
patient.
"""
import random

TYPES = ["discharge-summary", "history-physical", "progress-note", "operative-report", "consultation",
         "radiology-report", "laboratory-report", "pathology-report", "emergency-record", "nursing-note",
         "medication-record", "consent-form", "correspondence", "other"]

VALUES = {
    "cond": ["community acquired pneumonia", "congestive heart failure", "acute appendicitis", "type 2 diabetes",
             "chronic obstructive pulmonary disease", "atrial fibrillation", "urinary tract infection",
             "acute cholecystitis", "cellulitis of the left leg", "hypertensive urgency", "asthma exacerbation",
             "upper gastrointestinal bleeding", "right hip fracture", "unstable angina", "acute kidney injury",
             "diabetic ketoacidosis", "small bowel obstruction", "pulmonary embolism", "syncope", "sepsis",
             "alcohol withdrawal", "acute pancreatitis", "deep vein thrombosis", "transient ischemic attack"],
    "sym": ["shortness of breath", "abdominal pain", "fever and cough", "chest pain", "dizziness", "leg swelling",
            "nausea and vomiting", "low back pain", "headache", "palpitations", "weakness", "confusion",
            "dysuria", "a fall at home", "rectal bleeding", "wheezing"],
    "drug": ["aspirin", "metoprolol", "lisinopril", "furosemide", "metformin", "warfarin", "amoxicillin",
             "ceftriaxone", "albuterol", "prednisone", "insulin glargine", "acetaminophen", "atorvastatin",
             "heparin", "pantoprazole", "levofloxacin", "morphine", "ondansetron", "enoxaparin", "amlodipine",
             "vancomycin", "gabapentin", "sertraline", "digoxin"],
    "dose": ["81 mg", "25 mg", "10 mg", "40 mg", "500 mg", "5 mg", "1 g", "2 puffs", "20 units", "650 mg",
             "4 mg", "30 mg", "100 mg", "2 mg", "750 mg", "12.5 mg"],
    "freq": ["daily", "twice daily", "every 6 hours", "at bedtime", "every 8 hours as needed", "three times daily",
             "every morning", "every 4 hours as needed", "weekly", "every 12 hours"],
    "route": ["PO", "IV", "SC", "IM", "INH", "PR", "SL", "IVPB"],
    "proc": ["laparoscopic cholecystectomy", "appendectomy", "open reduction and internal fixation of the hip",
             "colonoscopy with biopsy", "cardiac catheterization", "inguinal hernia repair",
             "total knee arthroplasty", "excision of skin lesion", "exploratory laparotomy", "carpal tunnel release",
             "upper endoscopy", "thyroidectomy", "cystoscopy", "arthroscopic meniscectomy", "cesarean section",
             "coronary artery bypass grafting"],
    "organ": ["gallbladder", "appendix", "colon", "skin of the left forearm", "prostate", "breast", "thyroid",
              "uterus", "lymph node", "stomach", "kidney", "lung"],
    "region": ["chest", "abdomen and pelvis", "head", "lumbar spine", "right knee", "left hip", "cervical spine",
               "left shoulder", "right wrist", "brain", "pelvis", "right ankle"],
    "finding": ["right lower lobe consolidation", "mild cardiomegaly", "no acute cardiopulmonary process",
                "a small left pleural effusion", "degenerative disc disease", "a nondisplaced fracture",
                "no acute intracranial hemorrhage", "free air under the diaphragm", "a 2 cm hepatic cyst",
                "bibasilar atelectasis", "moderate joint effusion", "no evidence of obstruction"],
    "doctor": ["R. Patel", "S. Okonkwo", "L. Chen", "M. Alvarez", "J. Weber", "K. Nakamura", "A. Rossi",
               "T. Brennan", "H. Lindqvist", "D. Moreau", "P. Szabo", "F. Haddad", "C. Mbeki", "N. Ivanova",
               "G. Fontaine", "B. Oyelaran"],
    "nurse": ["E. Lindqvist, RN", "M. Torres, RN", "J. Park, LPN", "S. Novak, RN", "A. Dubois, RN",
              "K. Mensah, RN", "R. Silva, LPN", "T. Walsh, RN"],
    "hospital": ["MERCY GENERAL HOSPITAL", "ST. LUKE'S MEDICAL CENTER", "RIVERSIDE COMMUNITY HOSPITAL",
                 "VALLEY REGIONAL MEDICAL CENTER", "COUNTY GENERAL HOSPITAL", "LAKESIDE MEMORIAL HOSPITAL",
                 "NORTHGATE UNIVERSITY HOSPITAL", "SAINT AGNES HEALTH CENTER", "PINE RIDGE MEDICAL CENTER",
                 "HARBOR VIEW HOSPITAL"],
    "family": ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ",
               "MARTINEZ", "HERNANDEZ", "LOPEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE", "JACKSON",
               "OKAFOR", "KOWALSKI", "NGUYEN", "FITZGERALD", "PETERSON", "COOPER"],
    "given": ["MARY", "PATRICIA", "LINDA", "JAMES", "JOHN", "ROBERT", "SUSAN", "MICHAEL", "DOROTHY", "WILLIAM",
              "HELEN", "DAVID", "RUTH", "RICHARD", "CAROL", "JOSEPH"],
    "test": ["SODIUM", "POTASSIUM", "CHLORIDE", "CO2", "BUN", "CREATININE", "GLUCOSE", "CALCIUM", "WBC", "HGB",
             "HCT", "PLATELETS", "INR", "PTT", "TROPONIN I", "MAGNESIUM", "ALT", "AST", "ALK PHOS", "BILIRUBIN",
             "ALBUMIN", "LIPASE", "TSH", "HBA1C"],
    "unit": ["mmol/L", "mg/dL", "g/dL", "K/uL", "%", "U/L", "ng/mL", "sec", "mEq/L", "uIU/mL"],
    "insurer": ["BLUE SHIELD", "MEDICARE", "UNITED HEALTH", "AETNA", "MEDICAID", "CIGNA", "HUMANA", "TRICARE"],
    "ward": ["4 WEST", "3 NORTH", "ICU", "5 EAST", "STEP-DOWN UNIT", "2 SOUTH", "ORTHO 6", "CARDIAC 7"],
}

# Per type: title wordings, then sections of (heading wordings, sentences).
# An empty heading list means the sentences stand without a heading.
DOCS = {
    "discharge-summary": {
        "titles": ["DISCHARGE SUMMARY", "HOSPITAL DISCHARGE SUMMARY", "DISCHARGE SUMMARY REPORT",
                   "SUMMARY OF HOSPITALIZATION", "PHYSICIAN DISCHARGE SUMMARY", "DISCHARGE SUMMARY - INPATIENT"],
        "sections": [
            (["DATES", "ADMISSION AND DISCHARGE"],
             ["Date of admission: {date}. Date of discharge: {date2}.", "Admitted {date}, discharged {date2}.",
              "Length of stay: {n} days.", "Admission date {date}; discharge date {date2}; attending Dr. {doctor}."]),
            (["ADMITTING DIAGNOSIS", "ADMISSION DIAGNOSIS", "REASON FOR ADMISSION", "PRINCIPAL DIAGNOSIS"],
             ["{Cond}.", "The patient was admitted for {cond}.", "{Cond}, with a secondary diagnosis of {cond2}.",
              "Admitted through the emergency department with {sym} due to {cond}."]),
            (["HOSPITAL COURSE", "BRIEF HOSPITAL COURSE", "SUMMARY OF HOSPITAL STAY", "COURSE IN HOSPITAL"],
             ["The patient was treated with intravenous {drug} and improved steadily over the stay.",
              "During the hospitalization the {sym} resolved and the patient was weaned to room air.",
              "The hospital course was complicated by {cond2}, which was treated and resolved.",
              "Physical therapy evaluated the patient and cleared the patient for discharge home.",
              "Cultures remained negative and antibiotics were narrowed to oral {drug}.",
              "By the day of discharge the patient was tolerating a regular diet and ambulating independently.",
              "Serial laboratory values normalized before discharge.",
              "The patient remained afebrile for the final {n} days of the admission."]),
            (["DISCHARGE DIAGNOSES", "FINAL DIAGNOSES", "DIAGNOSES AT DISCHARGE"],
             ["1. {Cond}. 2. {Cond2}.", "{Cond}, resolved.", "{Cond}, improved. {Cond2}, stable."]),
            (["DISCHARGE MEDICATIONS", "MEDICATIONS AT DISCHARGE", "DISCHARGE MEDICATION LIST"],
             ["{Drug} {dose} by mouth {freq}.", "Continue {drug} {dose} {freq}; stop {drug2}.",
              "Resume home {drug} {dose}; new prescription for {drug2} {dose2} {freq}."]),
            (["CONDITION AT DISCHARGE", "DISPOSITION", "DISCHARGE CONDITION"],
             ["Stable. Discharged home with family.", "Good. Discharged to a skilled nursing facility.",
              "Fair. Discharged home with home health services.", "Improved; discharged to home in stable condition."]),
            (["FOLLOW-UP", "DISCHARGE INSTRUCTIONS", "FOLLOW UP APPOINTMENTS"],
             ["Follow up with the primary care physician in {n} weeks.",
              "Return to the emergency department for fever, worsening pain or shortness of breath.",
              "See Dr. {doctor} in clinic in {n} days with repeat laboratory studies.",
              "Activity as tolerated; low sodium diet; weigh daily and call if weight rises."]),
        ],
    },
    "history-physical": {
        "titles": ["HISTORY AND PHYSICAL", "ADMISSION HISTORY AND PHYSICAL", "HISTORY & PHYSICAL EXAMINATION",
                   "H&P - ADMISSION", "ADMITTING HISTORY AND PHYSICAL EXAM", "HISTORY AND PHYSICAL EXAMINATION"],
        "sections": [
            (["CHIEF COMPLAINT", "CC", "PRESENTING COMPLAINT"],
             ["{Sym} for {n} days.", "\"I can't catch my breath.\"", "{Sym} since yesterday evening.",
              "Worsening {sym} over {n} weeks."]),
            (["HISTORY OF PRESENT ILLNESS", "HPI", "PRESENT ILLNESS"],
             ["The patient is a {age}-year-old with a history of {cond} who presents with {sym}.",
              "Symptoms began gradually and have progressed despite home treatment.",
              "The patient denies fever, chills, night sweats or unintentional weight loss.",
              "Onset was sudden while at rest, without a clear precipitating factor.",
              "The patient was seen by the primary physician last week and started on {drug}.",
              "Review of outside records shows a similar episode {n} years ago."]),
            (["PAST MEDICAL HISTORY", "PMH", "MEDICAL HISTORY"],
             ["{Cond}. {Cond2}.", "Significant for {cond} and {cond2}.", "None other than {cond}."]),
            (["PAST SURGICAL HISTORY", "SURGICAL HISTORY"],
             ["Status post {proc}.", "{Proc} in the remote past.", "No prior operations."]),
            (["SOCIAL HISTORY", "SOCIAL HX"],
             ["Lives with spouse; former smoker, quit {n} years ago; drinks alcohol socially.",
              "Retired teacher; denies tobacco, alcohol or illicit drug use.",
              "Smokes one pack per day; works in construction.", "Lives alone and is independent in daily activities."]),
            (["FAMILY HISTORY", "FAMILY HX"],
             ["Mother with {cond}; father deceased of {cond2}.", "Noncontributory.",
              "Siblings alive and well; no family history of cancer."]),
            (["REVIEW OF SYSTEMS", "ROS"],
             ["A complete review of systems is otherwise negative.",
              "Positive for fatigue; negative for rash, joint pain, or visual changes.",
              "Ten-point review of systems negative except as noted in the HPI."]),
            (["PHYSICAL EXAMINATION", "PHYSICAL EXAM", "EXAMINATION"],
             ["Vital signs: blood pressure {bp}, pulse {pulse}, respirations {resp}, temperature {temp}.",
              "General: alert, oriented, in no acute distress.", "HEENT: pupils equal and reactive; oropharynx clear.",
              "Lungs: clear to auscultation bilaterally without wheezes.",
              "Heart: regular rate and rhythm, no murmurs, rubs or gallops.",
              "Abdomen: soft, nontender, nondistended, normal bowel sounds.",
              "Extremities: no clubbing, cyanosis or edema.", "Neurologic: cranial nerves intact; strength 5/5 throughout."]),
            (["ASSESSMENT AND PLAN", "IMPRESSION AND PLAN", "ASSESSMENT/PLAN"],
             ["Admit to telemetry for evaluation of {cond}.", "Start {drug} {dose} {freq} and monitor closely.",
              "Obtain chest radiograph, complete blood count and metabolic panel.",
              "Deep vein thrombosis prophylaxis with {drug2}; full code."]),
        ],
    },
    "progress-note": {
        "titles": ["PROGRESS NOTE", "PHYSICIAN PROGRESS NOTE", "DAILY PROGRESS NOTE", "HOSPITALIST PROGRESS NOTE",
                   "SOAP NOTE", "SOAP PROGRESS NOTE", "INTERVAL PROGRESS NOTE", "PROGRESS NOTE - MEDICINE"],
        "sections": [
            ([], ["Hospital day {n}.", "Hospital day number {n}.", "Post-operative day {n}.", "POD #{n}.",
                  "Seen and examined at bedside this morning.", "Patient seen and examined on rounds."]),
            (["SUBJECTIVE", "S", "SUBJECTIVE:", "INTERVAL HISTORY"],
             ["The patient reports feeling better this morning.", "Patient states that he feels better today.",
              "No acute events overnight.", "No overnight events.",
              "Slept poorly because of {sym}; appetite improving.", "Complains of {sym}; eating better.",
              "Pain is controlled on the current regimen.", "Pain well controlled with oral medication.",
              "Tolerating clear liquids without nausea.", "Tolerating a regular diet.",
              "Ambulated in the hallway twice yesterday.", "Walked with physical therapy yesterday."]),
            (["OBJECTIVE", "O", "OBJECTIVE:", "EXAM"],
             ["Vitals: temperature {temp}, blood pressure {bp}, pulse {pulse}.", "T {temp}  BP {bp}  HR {pulse}.",
              "Incision clean, dry and intact.", "Wound without erythema or drainage.",
              "Lungs with scattered crackles at the bases.", "Chest with mild bibasilar crackles.",
              "Intake {n}00 mL, output {n2}00 mL over 24 hours.", "I/O {n}00/{n2}00 for the last 24 hours.",
              "Labs this morning notable for a white count of {n}.{d}.", "Morning labs: WBC {n}.{d}, creatinine 1.{d}."]),
            (["ASSESSMENT", "A", "ASSESSMENT:", "IMPRESSION"],
             ["{Cond}, improving.", "{Cond}, better.", "{Cond}, slowly resolving on {drug}.",
              "{Cond}, responding to {drug}.", "{Cond}, stable.", "{Cond}, unchanged."]),
            (["PLAN", "P", "PLAN:", "PLAN FOR TODAY"],
             ["Continue {drug} {dose} {freq}.", "Continue current {drug}.", "Advance diet as tolerated.",
              "Diet as tolerated.", "Anticipate discharge in {n} days.", "Possible discharge in {n} days.",
              "Repeat labs in the morning.", "Recheck labs tomorrow.",
              "Discussed the plan with the patient and family, who agree.", "Plan discussed with the patient."]),
        ],
    },
    "operative-report": {
        "titles": ["OPERATIVE REPORT", "OPERATIVE NOTE", "REPORT OF OPERATION", "OPERATION REPORT",
                   "SURGICAL OPERATIVE REPORT", "BRIEF OPERATIVE NOTE"],
        "sections": [
            (["PREOPERATIVE DIAGNOSIS", "PRE-OPERATIVE DIAGNOSIS"], ["{Cond}.", "Symptomatic {cond}."]),
            (["POSTOPERATIVE DIAGNOSIS", "POST-OPERATIVE DIAGNOSIS"], ["Same.", "{Cond}, confirmed."]),
            (["PROCEDURE PERFORMED", "OPERATION", "PROCEDURE", "NAME OF PROCEDURE"],
             ["{Proc}.", "{Proc} with intraoperative cholangiogram."]),
            (["SURGEON", "ASSISTANT"], ["Dr. {doctor}.", "Dr. {doctor}, assisted by Dr. {doctor2}."]),
            (["ANESTHESIA", "TYPE OF ANESTHESIA"],
             ["General endotracheal anesthesia.", "Spinal anesthesia with sedation.", "Monitored anesthesia care."]),
            (["ESTIMATED BLOOD LOSS", "EBL"], ["{n}0 mL.", "Minimal.", "Less than {n}0 mL."]),
            (["INDICATIONS", "INDICATIONS FOR PROCEDURE"],
             ["The risks and benefits were discussed and informed consent was obtained.",
              "The patient failed conservative management and elected surgery."]),
            (["DESCRIPTION OF PROCEDURE", "DETAILS OF THE OPERATION", "PROCEDURE IN DETAIL", "FINDINGS AND TECHNIQUE"],
             ["The patient was brought to the operating room and placed in the supine position.",
              "The operative site was prepped and draped in the usual sterile fashion.",
              "A time-out was performed confirming the patient, procedure and site.",
              "An incision was made and carried down through the subcutaneous tissue with electrocautery.",
              "Hemostasis was obtained and the wound was irrigated with saline.",
              "The fascia was closed with running absorbable suture and the skin with staples.",
              "Sponge, needle and instrument counts were correct at the end of the case.",
              "The specimen was sent to pathology.",
              "The patient tolerated the procedure well and was taken to recovery in stable condition.",
              "Trocars were placed under direct visualization and pneumoperitoneum was established."]),
            (["COMPLICATIONS", "DRAINS", "SPECIMENS"], ["None.", "None apparent.", "{Organ} to pathology."]),
        ],
    },
    "consultation": {
        "titles": ["CONSULTATION", "CONSULTATION NOTE", "CONSULTATION REPORT", "CONSULT NOTE", "INPATIENT CONSULTATION",
                   "INPATIENT CONSULT", "SPECIALTY CONSULTATION", "CONSULTATION - INITIAL"],
        "sections": [
            (["REQUESTING PHYSICIAN", "REFERRING PHYSICIAN", "CONSULTING SERVICE", "REQUESTED BY"],
             ["Dr. {doctor}, internal medicine.", "Dr. {doctor}, medicine service.", "Dr. {doctor}, hospitalist service.",
              "Dr. {doctor} of the hospitalist group.", "Dr. {doctor}, surgery.", "Dr. {doctor}, general surgery."]),
            (["REASON FOR CONSULTATION", "REASON FOR CONSULT", "QUESTION ASKED", "CONSULT QUESTION"],
             ["Evaluation and management of {cond}.", "Evaluate and treat {cond}.",
              "Recommendations regarding {cond}.", "Advice on management of {cond}.",
              "Please evaluate for {cond}.", "Please assess for possible {cond}.",
              "Assistance with management of {sym}.", "Help with {sym}."]),
            (["HISTORY OF PRESENT ILLNESS", "HISTORY", "HPI", "CONSULT HISTORY"],
             ["Thank you for asking us to see this {age}-year-old patient with {cond}.",
              "Thank you for this consultation on a {age}-year-old with {cond}.",
              "I was asked to see the patient in consultation for {sym}.",
              "I have been asked by the primary team to see the patient regarding {sym}.",
              "The patient is well known to our service from a prior admission.",
              "Our service saw the patient previously during an earlier stay.",
              "History was obtained from the patient and the chart.",
              "History obtained from the patient, family and the medical record."]),
            (["PHYSICAL EXAMINATION", "EXAM", "EXAMINATION", "FOCUSED EXAM"],
             ["Blood pressure {bp}, pulse {pulse}.", "BP {bp}; HR {pulse}.", "Alert and cooperative; lungs clear.",
              "Awake, pleasant, lungs clear bilaterally.", "Focused examination is unremarkable apart from mild tenderness.",
              "Examination notable only for mild tenderness."]),
            (["IMPRESSION", "ASSESSMENT", "CONSULTANT IMPRESSION", "ASSESSMENT:"],
             ["{Cond}, likely secondary to {cond2}.", "{Cond}, probably due to {cond2}.",
              "Findings are most consistent with {cond}.", "Presentation is most in keeping with {cond}.",
              "Low suspicion for {cond2} at this time.", "{Cond2} is felt to be unlikely."]),
            (["RECOMMENDATIONS", "PLAN AND RECOMMENDATIONS", "RECOMMENDATIONS:", "SUGGESTIONS"],
             ["1. Begin {drug} {dose} {freq}. 2. Obtain an echocardiogram.",
              "1. Start {drug} {dose} {freq}. 2. Check an echocardiogram.",
              "We will follow the patient with you; please call with questions.",
              "We will continue to follow along; page with any questions.",
              "No surgical intervention is indicated at this time.", "No indication for operative management now.",
              "Recommend outpatient follow-up in our clinic in {n} weeks.", "Suggest follow-up in consult clinic in {n} weeks.",
              "Thank you for this interesting consultation.", "Thank you for involving us in the care of this patient.",
              "Agree with the current plan; would add {drug2}.", "Agree with plan; consider adding {drug2}."]),
        ],
    },
    "radiology-report": {
        "titles": ["RADIOLOGY REPORT", "DEPARTMENT OF RADIOLOGY REPORT", "DIAGNOSTIC IMAGING REPORT", "IMAGING REPORT",
                   "X-RAY REPORT", "RADIOGRAPH REPORT", "CT SCAN REPORT", "MRI REPORT"],
        "sections": [
            (["EXAMINATION", "EXAM", "STUDY", "PROCEDURE"],
             ["CT of the {region} with contrast.", "CT {region} with IV contrast.",
              "Radiographs of the {region}, two views.", "X-ray of the {region}, AP and lateral views.",
              "MRI of the {region} without contrast.", "MR imaging of the {region}, noncontrast.",
              "Ultrasound of the {region}.", "Sonogram of the {region}.",
              "Portable chest radiograph, single AP view.", "Chest x-ray, portable AP."]),
            (["CLINICAL HISTORY", "INDICATION", "HISTORY", "REASON FOR EXAM"],
             ["{Sym}.", "{Sym}; evaluate.", "Rule out {cond}.", "Evaluate for {cond}.", "Follow-up of {cond}.",
              "Known {cond}, follow-up.", "Trauma; pain in the {region}.", "Injury, {region} pain."]),
            (["COMPARISON", "PRIOR STUDIES", "COMPARISON STUDIES"],
             ["None available.", "No prior imaging for comparison.", "Prior study dated {date}.",
              "Compared with the examination of {date}."]),
            (["TECHNIQUE", "PROTOCOL"],
             ["Axial images were obtained after intravenous contrast with coronal reformats.",
              "Contiguous axial images were acquired following IV contrast; sagittal and coronal reformats.",
              "Multiplanar multisequence images were acquired.", "T1 and T2 weighted images in three planes.",
              "Standard views were obtained.", "Routine radiographic views."]),
            (["FINDINGS"],
             ["There is {finding}.", "Images demonstrate {finding}.",
              "The cardiac silhouette is within normal limits.", "Heart size is normal.",
              "No pneumothorax or pleural effusion.", "No pleural effusion or pneumothorax is seen.",
              "The osseous structures are intact.", "Bones are intact without acute fracture.",
              "The visualized soft tissues are unremarkable.", "Soft tissues are normal.",
              "No focal consolidation is seen.", "Lungs are clear without focal airspace disease.",
              "The liver, spleen and kidneys enhance normally.", "Solid abdominal organs are unremarkable."]),
            (["IMPRESSION", "CONCLUSION", "IMPRESSION:", "RADIOLOGIST IMPRESSION"],
             ["{Finding}.", "{Finding}; otherwise normal study.", "No acute abnormality.",
              "No acute radiographic abnormality.", "{Finding}; clinical correlation recommended.",
              "{Finding}. Recommend clinical correlation.", "Findings discussed with the ordering physician.",
              "Results called to the referring provider."]),
            ([], ["Electronically signed by {doctor}, MD, radiologist.", "Radiologist: {doctor}, MD.",
                  "Dictated by Dr. {doctor}; transcribed {date}.", "Read by Dr. {doctor}, radiology; dictated {date}."]),
        ],
    },
    "laboratory-report": {
        "titles": ["LABORATORY REPORT", "CLINICAL LABORATORY RESULTS", "LAB RESULTS", "CUMULATIVE LABORATORY REPORT",
                   "CHEMISTRY AND HEMATOLOGY REPORT", "LABORATORY RESULTS SUMMARY"],
        "sections": [
            (["SPECIMEN", "COLLECTION"],
             ["Blood, venous. Collected {date} {time}.", "Specimen: serum. Received {date} {time}.",
              "Whole blood, EDTA. Collected {time}.", "Urine, clean catch. Collected {date}."]),
            (["TEST RESULT FLAG UNITS REFERENCE", "RESULTS", "CHEMISTRY", "HEMATOLOGY"],
             ["{test} {value} {unit} ({lo}-{hi})", "{test} {value} H {unit} ({lo}-{hi})",
              "{test} {value} L {unit} ({lo}-{hi})", "{test}: {value} {unit}   reference {lo}-{hi}",
              "{test} ........ {value} {unit}", "{test}   {value}   {unit}   {lo} - {hi}"]),
            (["COMMENT", "NOTES"],
             ["Results verified by the laboratory.", "Critical value called to the nurse at {time}.",
              "Specimen slightly hemolyzed; interpret potassium with caution.",
              "Performed at the hospital core laboratory.", "Repeat testing recommended."]),
        ],
        "repeat": 2,
    },
    "pathology-report": {
        "titles": ["SURGICAL PATHOLOGY REPORT", "PATHOLOGY REPORT", "ANATOMIC PATHOLOGY", "PATHOLOGY CONSULTATION REPORT",
                   "CYTOLOGY REPORT", "SURGICAL PATHOLOGY CONSULTATION"],
        "sections": [
            (["SPECIMEN", "SPECIMEN SUBMITTED", "SOURCE"],
             ["{Organ}, excision.", "{Organ}, biopsy.", "A: {organ}, resection.", "{Organ}, needle core biopsy."]),
            (["CLINICAL HISTORY", "CLINICAL INFORMATION"], ["{Cond}.", "Mass; rule out malignancy."]),
            (["GROSS DESCRIPTION", "GROSS"],
             ["Received in formalin is a tan-pink soft tissue fragment measuring {n}.{d} x {n2}.{d} cm.",
              "The specimen is received fresh, labeled with the patient's name.",
              "The cut surface is tan-white and firm; representative sections are submitted in {n} cassettes.",
              "Multiple irregular fragments aggregating {n} cm are entirely submitted."]),
            (["MICROSCOPIC DESCRIPTION", "MICROSCOPIC"],
             ["Sections show chronic inflammation without dysplasia.",
              "There is a proliferation of atypical glands infiltrating the stroma.",
              "Immunohistochemical stains are supportive of the diagnosis.",
              "The surgical margins are free of tumor."]),
            (["DIAGNOSIS", "FINAL DIAGNOSIS", "PATHOLOGIC DIAGNOSIS"],
             ["{Organ}: benign tissue, no malignancy identified.",
              "{Organ}: adenocarcinoma, moderately differentiated; margins negative.",
              "{Organ}: chronic inflammation with fibrosis.", "{Organ}: hyperplastic polyp.",
              "{Organ}: negative for carcinoma; see comment."]),
            ([], ["Pathologist: {doctor}, MD. Signed out {date}.", "Frozen section diagnosis concurs with the final diagnosis."]),
        ],
    },
    "emergency-record": {
        "titles": ["EMERGENCY DEPARTMENT RECORD", "EMERGENCY ROOM REPORT", "EMERGENCY DEPARTMENT NOTE", "ER REPORT",
                   "ED PHYSICIAN RECORD", "EMERGENCY PHYSICIAN RECORD", "EMERGENCY VISIT RECORD", "ER TREATMENT RECORD"],
        "sections": [
            (["TRIAGE", "TRIAGE NOTE", "ARRIVAL", "TIME OF ARRIVAL"],
             ["Arrived by ambulance at {time}.", "Brought in by EMS at {time}.",
              "Walk-in at {time} accompanied by family.", "Arrived by private vehicle at {time}.",
              "Triage acuity level {d} (ESI).", "ESI triage level {d}.",
              "Triage vital signs: blood pressure {bp}, pulse {pulse}, SpO2 9{d}%.",
              "Triage vitals BP {bp}, HR {pulse}, O2 saturation 9{d}% on room air."]),
            (["CHIEF COMPLAINT", "PRESENTING PROBLEM", "CHIEF COMPLAINT IN ED"],
             ["{Sym}.", "{Sym} since this morning.", "{Sym} after {cond}.", "{Sym}, sudden onset."]),
            (["HISTORY", "HPI", "HISTORY OF PRESENT ILLNESS"],
             ["Patient presents to the emergency department with {sym} that began {n} hours ago.",
              "The patient comes to the emergency room complaining of {sym} for {n} hours.",
              "Per EMS the patient was found on the floor at home.", "Paramedics report the patient was found down.",
              "No loss of consciousness reported.", "Denies loss of consciousness."]),
            (["ED COURSE", "EMERGENCY DEPARTMENT COURSE", "MEDICAL DECISION MAKING", "COURSE IN THE ER"],
             ["An electrocardiogram showed normal sinus rhythm without ST changes.",
              "EKG in the emergency department: sinus rhythm, no acute ST changes.",
              "Given {drug} {dose} {route} with improvement of symptoms.",
              "Treated in the ER with {drug} {dose} {route}; symptoms improved.",
              "Laboratory studies and a chest radiograph were obtained in the department.",
              "Labs and imaging were ordered from the emergency room.",
              "Reassessed at {time}; the patient is resting comfortably.", "On recheck at {time} the patient is improved.",
              "Case discussed with the on-call physician, who agrees with admission.",
              "Spoke with the admitting hospitalist, who accepts the patient."]),
            (["DISPOSITION", "DIAGNOSIS AND DISPOSITION", "ED DISPOSITION", "DISPOSITION FROM ER"],
             ["Admitted to {ward} in stable condition.", "Admit to {ward}; condition stable.",
              "Discharged home with return precautions.", "Discharged from the ER with instructions to return if worse.",
              "Transferred to a tertiary center.", "Transfer to a higher level of care.",
              "Left against medical advice after the risks were explained.", "Eloped before disposition."]),
        ],
    },
    "nursing-note": {
        "titles": ["NURSING NOTE", "NURSING PROGRESS NOTE", "NURSING ASSESSMENT", "NURSING SHIFT ASSESSMENT",
                   "SHIFT NURSING NOTE", "NURSES NOTES", "NURSING FLOWSHEET NOTE", "RN SHIFT NOTE"],
        "sections": [
            ([], ["Shift {time} to {time2}.", "Nursing shift {time}-{time2}.", "Unit {ward}.", "Nursing unit: {ward}.",
                  "Report received from the previous shift at {time}.", "Bedside report received from night nurse at {time}."]),
            (["ASSESSMENT", "NURSING ASSESSMENT", "FOCUS", "NURSING FOCUS"],
             ["Patient alert and oriented times three.", "Pt A&O x3, calm and cooperative.",
              "Skin warm and dry, intact; Braden score {n}{d}.", "Skin intact; Braden {n}{d}; pressure areas checked.",
              "Pain rated {d} out of 10, medicated per order.", "Pt rates pain {d}/10; PRN given per MAR.",
              "Fall risk precautions in place; bed in low position.", "High fall risk: bed low, side rails up x2.",
              "IV site clean, no redness or swelling.", "Peripheral IV patent, site without redness.",
              "Voiding without difficulty.", "Foley draining clear yellow urine.",
              "Ambulating in the hallway with a walker and one assist.", "Up to chair with assist of one."]),
            (["INTERVENTIONS", "ACTIONS", "NURSING INTERVENTIONS", "CARE PROVIDED"],
             ["Turned and repositioned every two hours.", "Repositioned q2h for skin protection.",
              "Call light within reach; bed alarm on.", "Call bell in reach; safety checks done hourly.",
              "Medications given as ordered; see MAR.", "Meds administered as charted on the MAR.",
              "Dressing changed; small amount of serous drainage.", "Dressing reinforced by nursing.",
              "Intake and output recorded.", "Strict I&O maintained.",
              "Incentive spirometer encouraged hourly while awake.", "Coughing and deep breathing encouraged."]),
            (["RESPONSE", "EVALUATION", "PATIENT RESPONSE", "OUTCOME"],
             ["Patient resting comfortably; family at bedside.", "Pt resting in bed, spouse at bedside.",
              "Tolerated care well.", "Tolerated nursing care without distress.",
              "Questions answered; patient verbalized understanding.", "Patient teaching done; understanding verbalized.",
              "Will continue to monitor.", "Nursing will continue to monitor."]),
            ([], ["{nurse}", "Signed {nurse} {time}.", "Nurse: {nurse}", "RN signature {nurse}"]),
        ],
    },
    "medication-record": {
        "titles": ["MEDICATION ADMINISTRATION RECORD", "MAR", "MEDICATION ADMINISTRATION RECORD - 24 HOUR",
                   "MEDICATION RECORD", "PRN MEDICATION RECORD", "DAILY MEDICATION ADMINISTRATION RECORD"],
        "sections": [
            (["ALLERGIES"], ["No known drug allergies.", "Penicillin (rash).", "Sulfa; codeine."]),
            (["SCHEDULED MEDICATIONS", "SCHEDULED", "ROUTINE MEDICATIONS"],
             ["{Drug} {dose} {route} {freq}   {time} {initials}   {time2} {initials}",
              "{DRUG} {dose} {route} {freq} -- given {time} by {initials}",
              "{Drug} {dose} {route}  due {time}  given {time2}  {initials}",
              "{DRUG} {dose} {route} {freq}  HELD  {time}  reason: NPO",
              "{Drug} {dose} {route}   start {date}   stop {date2}   {initials}",
              "{DRUG}  {dose}  {route}  {time}  {time2}  {initials}/{initials2}"]),
            (["PRN MEDICATIONS", "AS NEEDED", "PRN"],
             ["{Drug} {dose} {route} {freq} for pain   given {time} {initials}",
              "{DRUG} {dose} {route} PRN nausea  {time}  {initials}",
              "{Drug} {dose} {route} PRN  effective: yes  {initials}"]),
            (["SIGNATURES", "INITIALS KEY"],
             ["{initials} = {nurse}", "Nurse initials and signature: {initials} {nurse}"]),
        ],
        "repeat": 2,
    },
    "consent-form": {
        "titles": ["CONSENT FOR PROCEDURE", "INFORMED CONSENT FOR SURGERY", "CONSENT TO OPERATION AND ANESTHESIA",
                   "CONSENT FOR BLOOD TRANSFUSION", "AUTHORIZATION FOR MEDICAL TREATMENT", "SPECIAL CONSENT FORM"],
        "sections": [
            ([], ["I, the undersigned, hereby authorize Dr. {doctor} and assistants to perform {proc}.",
                  "I consent to the administration of anesthesia as may be considered necessary.",
                  "I voluntarily request and consent to the treatment described below.",
                  "I authorize the hospital to dispose of any tissue removed during the procedure."]),
            (["RISKS", "RISKS AND COMPLICATIONS", "NATURE OF THE PROCEDURE"],
             ["The nature and purpose of the procedure, possible alternatives, and the risks involved have been "
              "explained to me.", "I understand the risks include bleeding, infection, and reaction to anesthesia.",
              "No guarantee or assurance has been given as to the results that may be obtained.",
              "I have had the opportunity to ask questions and all my questions were answered."]),
            (["ACKNOWLEDGEMENT", "PATIENT STATEMENT"],
             ["I have read and fully understand this consent form.",
              "I certify that the explanation was given in a language I understand.",
              "An interpreter was used: yes ___ no ___."]),
            (["SIGNATURES", "SIGNATURE"],
             ["Signature of patient or legal representative ____________________ Date {date}",
              "Witness ____________________ Time {time}", "Physician obtaining consent ____________________",
              "Relationship to patient if not signed by patient ____________________"]),
        ],
    },
    "correspondence": {
        "titles": ["", "", "REFERRAL LETTER", "LETTER OF REFERRAL", "RE: REFERRAL", "RE:", "CLINIC LETTER",
                   "OUTPATIENT CLINIC LETTER"],
        "sections": [
            ([], ["Dr. {doctor}", "{doctor}, MD", "{hospital}", "Department of Medicine"]),
            ([], ["Dear Dr. {doctor},", "Dear Doctor {doctor}:", "Dear Colleague,", "Dear Dr. {doctor} and colleagues,"]),
            ([], ["Thank you for referring this pleasant {age}-year-old patient for evaluation of {cond}.",
                  "Many thanks for asking me to see your patient, a {age}-year-old with {cond}.",
                  "I had the pleasure of seeing your patient in the clinic today.",
                  "It was a pleasure to see your patient in my office today.",
                  "I am writing to update you on our mutual patient, who was seen on {date}.",
                  "I write to let you know how our mutual patient is doing after the visit of {date}.",
                  "As you know, the patient has a long history of {cond}.",
                  "As you are aware, this patient has had {cond} for some years.",
                  "I have started {drug} {dose} {freq} and will see the patient again in {n} weeks.",
                  "I have prescribed {drug} {dose} {freq} and arranged to review the patient in {n} weeks.",
                  "Please do not hesitate to contact me if you have any questions.",
                  "Please feel free to call me should you have any questions.",
                  "Enclosed please find copies of the recent test results for your records.",
                  "I enclose the recent results for your information.",
                  "I will keep you informed of further progress.", "I will write again after the next visit."]),
            ([], ["Sincerely,", "Yours sincerely,", "With kind regards,", "Kind regards,", "Best regards,",
                  "Yours faithfully,"]),
            ([], ["{doctor}, MD", "Dr. {doctor}", "cc: Dr. {doctor2}", "Copy to: Dr. {doctor2}",
                  "Dictated but not read.", "Dictated, not proofread.", "Enclosures: laboratory results", "Encl."]),
        ],
    },
    "other": {
        # miscellaneous paper: each kind has a title and sentences, in pairs
        # of wordings so that both splits have every kind
        "kinds": [
            (["FACSIMILE COVER SHEET", "FAX TRANSMITTAL"],
             ["To: medical records department. From: {hospital}. Pages including cover: {n}.",
              "Fax to health information management; from {hospital}; {n} pages with this cover.",
              "CONFIDENTIALITY NOTICE: the documents accompanying this transmission contain confidential information.",
              "This facsimile contains privileged information intended only for the recipient named above.",
              "Please call {phone} if any pages are missing or illegible.",
              "If pages are missing or unreadable, telephone {phone}."]),
            (["INSURANCE AUTHORIZATION REQUEST", "PRIOR AUTHORIZATION FORM"],
             ["Member ID {mrn}; plan {insurer}; group number {n}{d}{d}{d}.",
              "Subscriber number {mrn}, carrier {insurer}, group {n}{d}{d}{d}.",
              "Prior authorization is requested for the services listed; CPT codes attached.",
              "Requesting precertification for the services below with procedure codes.",
              "Reviewer decision: approved for {n} inpatient days.", "Utilization review: {n} days authorized."]),
            (["PATIENT BELONGINGS INVENTORY", "PATIENT VALUABLES LIST"],
             ["Items: eyeglasses, dentures (upper), wallet with ${n}{d}, wedding ring, mobile phone.",
              "Belongings: glasses, hearing aid, purse containing ${n}{d}, watch, cell phone.",
              "Valuables were sent home with a family member; patient signature below.",
              "Valuables placed in the hospital safe; receipt given to the patient.",
              "Patient property checked by {nurse} and witnessed.", "Property list verified by {nurse}."]),
            (["PATIENT EDUCATION: HOME CARE", "DISCHARGE TEACHING SHEET FOR PATIENTS"],
             ["Wash your hands before touching the dressing and keep it dry for two days.",
              "Keep the bandage clean and dry; clean your hands before you touch it.",
              "Call your doctor if you notice redness, swelling or fever above 38 degrees.",
              "Phone the clinic if the area becomes red, swollen or you have a fever.",
              "Take this sheet with you to your next appointment.", "Bring this handout to your follow-up visit."]),
            (["STATEMENT OF ACCOUNT", "PATIENT BILLING STATEMENT"],
             ["Balance due: ${n}{d}{d}.{d}0. Please remit payment within 30 days.",
              "Amount you owe: ${n}{d}{d}.{d}0; payment is due in 30 days.",
              "Insurance payments received: {insurer} ${n}{d}.00 on {date}.",
              "Payment from {insurer} of ${n}{d}.00 posted {date}.",
              "Account number {mrn}. Date of service {date}. Amount billed ${n}{d}{d}.00.",
              "Account {mrn}; service date {date}; charges ${n}{d}{d}.00."]),
            (["DIETARY MENU SELECTION", "PATIENT MEAL ORDER"],
             ["Breakfast: oatmeal, toast, orange juice. Lunch: turkey sandwich, soup, apple.",
              "Breakfast eggs and toast; lunch chicken salad and fruit cup; dinner baked fish.",
              "Diet order: cardiac, 2 gram sodium. Allergies to food: none.",
              "Diet: diabetic, consistent carbohydrate. No food allergies.",
              "Snack choices: crackers, yogurt, gelatin.", "Evening snack: pudding or graham crackers."]),
            (["REQUEST FOR RELEASE OF INFORMATION", "AUTHORIZATION TO DISCLOSE HEALTH INFORMATION"],
             ["I authorize the release of my records to the party named below.",
              "I give permission for my health information to be disclosed to the person below.",
              "Purpose of disclosure: continuity of care; this authorization expires in one year.",
              "Reason for release: personal use; valid for twelve months from signature.",
              "Records requested: all records for dates of service {date} to {date2}.",
              "Information to be released: records from {date} through {date2}."]),
            (["ADVANCE DIRECTIVE QUESTIONNAIRE", "ADVANCE DIRECTIVE ACKNOWLEDGEMENT"],
             ["Do you have a living will or durable power of attorney for health care? yes ___ no ___",
              "Has the patient executed a living will or health care proxy? yes ___ no ___",
              "If you do not have an advance directive, information is available from the social worker.",
              "Information about advance directives was offered to the patient.",
              "Form completed by the patient with assistance from the admitting clerk.",
              "Completed on admission with help from registration staff."]),
        ],
    },
}

HEADER_STYLES = [
    ["MRN: {mrn}", "NAME: {family}, {given}", "DOB {dob}"],
    ["MED REC NO {mrn}", "Patient: {Given} {Family}", "BIRTH DATE: {dob}"],
    ["#{mrn}   Patient Name: {family}, {given}", "DOB: {dob}"],
    ["Patient {family}, {given}   Acct {acct}", "Medical record number {mrn}   Room {room}"],
]


# the split-bank experiment's halves of the "train" split (README,
# "Reliability", seventh pass): the train positions split again by
# position, "train-a" the first of every two (bank positions 0, 4, 8, …),
# "train-b" the second (2, 6, 10, …)
TRAIN_HALVES = ("train-a", "train-b")


def half(items, split):
    """The positions of a bank a split may draw from: "train" the even
    ones, "test" the odd ones, "train-a" / "train-b" every other one of
    the train positions. A bank whose half would be empty gives its
    parent's (a train half of one entry is shared by "train-a" and
    "train-b")."""
    if split is None:
        return items
    if split in TRAIN_HALVES:
        train = half(items, "train")
        picked = train[TRAIN_HALVES.index(split)::2]
        return picked if picked else train
    start = 0 if split == "train" else 1
    picked = items[start::2]
    return picked if picked else items


# values that say who wrote a document or where: split like the wording
SPLIT_VALUES = {"doctor", "nurse", "hospital", "family", "given"}


class Filler:
    def __init__(self, rng, split):
        self.rng, self.split = rng, split

    def pick(self, key):
        return self.rng.choice(half(VALUES[key], self.split) if key in SPLIT_VALUES else VALUES[key])

    def date(self):
        r = self.rng
        return "%02d/%02d/%04d" % (r.randrange(1, 13), r.randrange(1, 29), r.randrange(1978, 2012))

    def time(self):
        return "%02d%02d" % (self.rng.randrange(0, 24), self.rng.choice([0, 15, 30, 45]))

    def initials(self):
        return "".join(self.rng.choice("ABCDEFGHJKLMNPRSTW") for _ in range(2))

    def lab_value(self):
        r = self.rng
        lo = r.choice([0.5, 3.5, 8, 12, 35, 70, 98, 135, 150])
        hi = round(lo * r.uniform(1.2, 2.5), 1)
        return "%.1f" % r.uniform(lo * 0.6, hi * 1.3), lo, hi

    def fill(self, template):
        r = self.rng
        value, lo, hi = self.lab_value()
        drug, drug2 = self.pick("drug"), self.pick("drug")
        cond, cond2 = self.pick("cond"), self.pick("cond")
        values = {
            "cond": cond, "cond2": cond2, "sym": self.pick("sym"), "drug": drug, "drug2": drug2,
            "dose": self.pick("dose"), "dose2": self.pick("dose"), "freq": self.pick("freq"),
            "route": self.pick("route"), "proc": self.pick("proc"), "organ": self.pick("organ"),
            "region": self.pick("region"), "finding": self.pick("finding"), "doctor": self.pick("doctor"),
            "doctor2": self.pick("doctor"), "nurse": self.pick("nurse"), "hospital": self.pick("hospital"),
            "insurer": self.pick("insurer"), "ward": self.pick("ward"), "test": self.pick("test"),
            "unit": self.pick("unit"), "value": value, "lo": lo, "hi": hi, "n": r.randrange(2, 9),
            "n2": r.randrange(2, 9), "d": r.randrange(0, 10), "age": r.randrange(19, 96),
            "bp": "%d/%d" % (r.randrange(95, 185), r.randrange(55, 105)), "pulse": r.randrange(52, 125),
            "resp": r.randrange(12, 28), "temp": "%.1f" % r.uniform(36.1, 39.4), "date": self.date(),
            "date2": self.date(), "time": self.time(), "time2": self.time(), "initials": self.initials(),
            "initials2": self.initials(), "mrn": "%08d" % r.randrange(10 ** 6, 10 ** 8),
            "phone": "(%03d) %03d-%04d" % (r.randrange(200, 999), r.randrange(200, 999), r.randrange(10 ** 4)),
        }
        for k in ("cond", "cond2", "sym", "drug", "proc", "organ", "finding"):
            values[k[0].upper() + k[1:]] = values[k][0].upper() + values[k][1:]
        values["DRUG"] = values["drug"].upper()
        return template.format(**values)


def document(rng, doc_type, split=None, meta=None, patient=None, tuning=None):
    """The lines of one document of @doc_type: a hospital header, the
    patient's identification, a title, sections, a signature. With @meta
    (a dict) its "title" is set to the title drawn; @patient (mrn, family,
    given, Family, Given, dob) names the patient in a tuning letter's body
    instead of the made-up one of the header. @tuning: whether the
    tuning-only material may be drawn (tuning_document()); by default
    only for the "train" split. The "test" split never draws it."""
    if tuning is None:
        tuning = split == "train"
    spec = DOCS[doc_type]
    f = Filler(rng, split)
    lines = [f.pick("hospital")]
    family, given = f.pick("family"), f.pick("given")
    header = rng.choice(half(HEADER_STYLES, split))
    ident = {"mrn": "%08d" % rng.randrange(10 ** 5, 10 ** 8), "family": family, "given": given,
             "Family": family.title(), "Given": given.title(), "dob": f.date(), "acct": rng.randrange(10 ** 6, 10 ** 7),
             "room": "%d%02d" % (rng.randrange(1, 8), rng.randrange(1, 40))}
    # the "test" split never draws here, so held-out documents are the
    # same draws as before the tuning-only material
    tuned = tuning_document(rng, doc_type, f, dict(ident, **(patient or {}))) \
        if tuning and split != "test" else None
    if tuned is not None:
        title, body, signed = tuned
        if meta is not None:
            meta["title"] = title
        head = [h.format(**ident) for h in header]
        lines += [title] + head if rng.random() < 0.5 else head + [title]
        # an untitled letter has no title line: the first empty line must
        # stay the end of the header (templates.generated_body cuts there)
        lines = [line for line in lines if line]
        lines += ["Date: %s" % f.date(), ""] + body
        if not signed:
            lines.append("%s   %s" % (f.pick("doctor"), f.date()))
        return lines
    if doc_type == "other":
        kind_titles, kind_sentences = rng.choice(spec["kinds"])
        title = rng.choice(half(kind_titles, split))
        sections = [([], kind_sentences)]
    else:
        title = rng.choice(half(spec["titles"], split))
        sections = spec["sections"]
    if meta is not None:
        meta["title"] = title
    head = [h.format(**ident) for h in header]
    if rng.random() < 0.5:
        lines += [title] + head
    else:
        lines += head + [title]
    lines.append("Date: %s" % f.date())
    lines.append("")
    repeat = spec.get("repeat", 1)
    for headings, sentences in sections:
        pool = half(sentences, split)
        if rng.random() < 0.15 and len(sections) > 3:
            continue  # real documents skip sections
        if headings:
            heading = rng.choice(half(headings, split))
            lines.append(heading + rng.choice([":", "", ":"]))
        k = len(pool) if doc_type != "other" else rng.randrange(4, 9)
        k = max(1, min(len(pool), rng.randrange(max(1, k // 2), k + 1))) * repeat
        for _ in range(k):
            lines.append(f.fill(rng.choice(pool)))
        lines.append("")
    lines.append("%s   %s" % (f.pick("doctor") if doc_type not in ("nursing-note", "medication-record")
                                else f.pick("nurse"), f.date()))
    return lines


# ------------------------------------------------------------- OCR noise

CONFUSIONS = [("rn", "m"), ("m", "rn"), ("cl", "d"), ("l", "1"), ("I", "1"), ("O", "0"), ("o", "0"), ("e", "c"),
              ("S", "5"), ("B", "8"), ("h", "b"), ("i", "l"), ("vv", "w"), ("a", "o"), ("t", "f"), ("u", "n"),
              (",", "."), (".", ","), ("g", "q"), ("E", "F")]


def ocr_noise(rng, lines, rate=0.04):
    """Lines as OCR of a degraded scan might read them. @rate is roughly
    the share of words touched; some lines are lost whole."""
    out = []
    for line in lines:
        if line and rng.random() < rate * 0.5:
            continue  # a line lost to a fold or a stain
        words = line.split(" ")
        noisy = []
        for w in words:
            if w and rng.random() < rate:
                kind = rng.random()
                if kind < 0.55:
                    a, b = rng.choice(CONFUSIONS)
                    if a in w:
                        i = w.find(a)
                        w = w[:i] + b + w[i + len(a):]
                elif kind < 0.7 and len(w) > 3:
                    i = rng.randrange(1, len(w) - 1)
                    w = w[:i] + " " + w[i:]  # a broken word
                elif kind < 0.85 and len(w) > 2:
                    i = rng.randrange(len(w))
                    w = w[:i] + w[i + 1:]  # a faded letter
                else:
                    w = w + rng.choice(["'", ".", ",", "~", "|"])  # a speck read as a mark
            noisy.append(w)
        line = " ".join(noisy)
        if rng.random() < rate * 0.3:
            line = line.replace(" ", "", 1)  # run-together words
        out.append(line)
    return out


def corpus(seed, per_type, split, noise=0.04, tuning=None):
    """[(type, text)]: @per_type documents of every type, OCR-noised;
    @tuning as document()'s."""
    rng = random.Random(seed)
    rows = []
    for i in range(per_type):
        for t in TYPES:
            lines = document(rng, t, split, tuning=tuning)
            if noise > 0:
                lines = ocr_noise(rng, lines, noise)
            rows.append((t, "\n".join(lines)))
    return rows


# ------------------------------------------------- tuning-only material
#
# Documents as real charts hold them, where the banks above are too tidy
# (issue 12, point 5, sixth pass): letters that carry no printed title and
# read, between salutation and closing, like the examination they report;
# emergency records written as a consultation, a procedure note or a
# discharge sheet, with only triage, the department's course and the
# disposition to tell them apart; administrative papers (registration,
# insurance, assignment of benefits, acknowledgements) that are signed and
# say "I authorize" without being consents. Drawn by the "train" split only
# (tuning charts and the trained classifier's corpus), never by "test", so
# held-out draws are the same as before this material existed; no entry is
# derived from a held-out page.

TUNING_LETTER = {
    "titles": ["", "", "", "", "CONSULTATION LETTER", "LETTER", "FOLLOW-UP LETTER", "RE: YOUR PATIENT"],
    "dates": ["{month} {day}, {year}", "{day} {month} {year}", "{date}"],
    "to": [["Dr. {doctor}", "{clinic}", "{street}", "{city}"], ["{doctor}, MD", "{clinic}", "{city}"],
           ["{insurer} Claims Department", "Attention: {adjuster}", "{street}", "{city}"],
           ["Law Offices of {adjuster}", "{street}", "{city}"], ["{Given} {Family}", "{street}", "{city}"],
           ["Dr. {doctor}", "{city}"]],
    "re": ["Re: {Given} {Family}", "RE: {Given} {Family}, DOB {dob}", "Re: {Family}, {Given}  MRN {mrn}",
           "Re: Patient {Given} {Family}; date of birth {dob}", "RE: Claimant {Given} {Family}; claim number {n}{d}{d}{d}{d}",
           "Subject: {Given} {Family}", "Patient: {Given} {Family}  DOB: {dob}", ""],
    "salutation": ["Dear Dr. {doctor}:", "Dear Dr. {doctor},", "Dear Doctor:", "Dear {adjuster}:",
                   "To Whom It May Concern:", "Dear Mr. {Family}:", "Dear Ms. {Family},", "Dear Colleagues,"],
    "opening": ["Thank you for referring {Given} {Family}, whom I saw in the office on {date} for {cond}.",
                "I saw your patient again today in follow-up of {cond}.",
                "At your request I examined {Given} {Family} on {date}; my report follows.",
                "This letter summarizes the evaluation of your patient for {sym} on {date}.",
                "I am writing regarding our mutual patient, who was seen in clinic on {date}.",
                "As requested, I reviewed the records and examined the claimant on {date}.",
                "This is to confirm that {Given} {Family} was seen in my office on {date}.",
                "I am pleased to report on your patient, who returned for review on {date}."],
    # the body reads as the examination it reports: a history, findings,
    # an impression and a plan, with or without headings of their own
    "history": ["The patient is a {age}-year-old with {cond} who describes {sym} for {n} months.",
                "The symptoms began after {proc} and have slowly worsened.",
                "The patient denies fever, weight loss or night sweats.",
                "Current medications include {drug} {dose} {freq} and {drug2}.",
                "Past medical history is significant for {cond2}.",
                "The patient works full time and does not smoke.",
                "Previous treatment with {drug} gave partial relief."],
    "exam": ["On examination the blood pressure was {bp} and the pulse {pulse}.",
             "Examination showed tenderness over the {region} without swelling.",
             "Heart and lungs were normal; the abdomen was soft and nontender.",
             "Neurologic examination was normal apart from reduced sensation in the left foot.",
             "Range of motion of the {region} was reduced by about a third.",
             "There was no edema and distal pulses were intact."],
    "results": ["Imaging of the {region} showed {finding}.", "Laboratory studies on {date} were within normal limits.",
                "The {test} was {value} {unit}.", "An electrocardiogram showed sinus rhythm."],
    "impression": ["My impression is {cond}, stable on the current treatment.",
                   "In my opinion the findings are consistent with {cond}.",
                   "The diagnosis is {cond} with secondary {cond2}.",
                   "I believe the patient has reached maximum medical improvement."],
    "plan": ["I have recommended {drug} {dose} {freq} and a course of physical therapy.",
             "I would suggest continuing {drug} and repeating the {test} in {n} months.",
             "The patient may return to work without restrictions on {date}.",
             "I have asked the patient to return in {n} weeks and will write again then.",
             "I would be glad to see the patient again should the symptoms recur.",
             "No further surgical treatment is needed at this time."],
    "headings": [("HISTORY", "EXAMINATION", "IMPRESSION", "RECOMMENDATIONS"),
                 ("History of present illness", "Physical examination", "Assessment", "Plan"),
                 ("HISTORY:", "PHYSICAL EXAM:", "DIAGNOSIS:", "PLAN:"),
                 ("Background", "Findings", "Opinion", "Recommendations")],
    "closing_line": ["Thank you for allowing me to participate in the care of this patient.",
                     "Thank you for this referral.", "Please call me with any questions.",
                     "Should you require further information, please contact my office.",
                     "I will keep you informed of progress.", ""],
    "closing": ["Sincerely,", "Sincerely yours,", "Yours truly,", "Respectfully,", "Kind regards,",
                "With best regards,", "Very truly yours,"],
    "after": ["cc: Dr. {doctor2}", "cc: patient", "Enclosure", "Dictated but not read", "{initials}/{initials2}",
              "D: {date}  T: {date2}"],
}

TUNING_EMERGENCY = {
    "titles": ["EMERGENCY DEPARTMENT RECORD", "EMERGENCY ROOM REPORT", "ED PHYSICIAN RECORD", "ER REPORT",
               "EMERGENCY PHYSICIAN DOCUMENTATION", "EMERGENCY DEPARTMENT VISIT", "ED PROVIDER NOTE",
               "EMERGENCY CARE RECORD"],
    # the body of a consultation, an operation or a discharge sheet; only
    # the triage, the department's course and the disposition name the ED
    "styles": {
        "consultation-form": [
            (["TIME SEEN", "MODE OF ARRIVAL", "ARRIVAL"],
             ["Seen at {time}; arrived by ambulance.", "Walk-in, seen at {time}.", "Brought by EMS; time seen {time}.",
              "Private vehicle; triaged at {time}, seen at {time2}."]),
            (["CHIEF COMPLAINT", "REASON FOR VISIT"], ["{Sym}.", "{Sym} for {n} hours."]),
            (["HISTORY OF PRESENT ILLNESS", "HPI"],
             ["This {age}-year-old with {cond} presents with {sym} that began {n} hours ago.",
              "The symptoms came on at rest and have not improved with {drug} at home.",
              "The patient was seen by the primary physician last week for the same complaint.",
              "There is no history of trauma.", "The patient denies fever or vomiting."]),
            (["PAST MEDICAL HISTORY", "PMH"], ["{Cond}. {Cond2}.", "Significant for {cond}."]),
            (["MEDICATIONS", "ALLERGIES"], ["{Drug} {dose} {freq}.", "No known drug allergies."]),
            (["PHYSICAL EXAMINATION", "EXAM"],
             ["Vital signs: BP {bp}, pulse {pulse}, respirations {resp}, temperature {temp}.",
              "General: uncomfortable but alert.", "Lungs clear; heart regular without murmur.",
              "Abdomen soft with mild tenderness; no guarding."]),
            (["ED COURSE", "EMERGENCY DEPARTMENT COURSE", "MEDICAL DECISION MAKING"],
             ["Given {drug} {dose} {route} with relief.", "Labs and a chest x-ray were ordered; results reviewed.",
              "Reevaluated at {time} and improved.", "Discussed with Dr. {doctor}, who will see the patient."]),
            (["CLINICAL IMPRESSION", "DIAGNOSIS", "ED DIAGNOSIS"], ["{Cond}.", "{Sym}, likely {cond}."]),
            (["DISPOSITION", "PLAN AND DISPOSITION"],
             ["Discharged home in stable condition with return precautions.", "Admitted to {ward}.",
              "Discharged with follow-up with the primary physician in {n} days."]),
        ],
        "procedure": [
            (["TRIAGE", "ARRIVAL"], ["Triage at {time}, acuity level {d}.", "Arrived by private vehicle at {time}."]),
            (["CHIEF COMPLAINT"], ["Laceration to the {region}.", "Injury to the {region} after a fall."]),
            (["PROCEDURE", "PROCEDURE NOTE", "LACERATION REPAIR"],
             ["Verbal consent was obtained after the risks were explained.",
              "The wound was anesthetized with lidocaine 1% and irrigated with saline.",
              "The area was prepped and draped in sterile fashion.",
              "The {n} cm laceration was closed with {n2} interrupted sutures.",
              "Closed reduction was performed under procedural sedation.",
              "The patient tolerated the procedure well without complications."]),
            (["ED COURSE", "COURSE IN THE DEPARTMENT"],
             ["Tetanus updated.", "Post-procedure films showed satisfactory alignment.",
              "Neurovascularly intact after the procedure."]),
            (["DISPOSITION", "DISCHARGE FROM ED"],
             ["Discharged home with wound care instructions; suture removal in {n} days.",
              "Discharged in a splint with orthopedic follow-up in {n} days."]),
        ],
        "discharge-sheet": [
            (["EMERGENCY DEPARTMENT DISCHARGE INSTRUCTIONS", "ED AFTERCARE INSTRUCTIONS"],
             ["You were seen in the emergency department today for {sym}.",
              "Your diagnosis today: {cond}."]),
            (["MEDICATIONS", "PRESCRIPTIONS"],
             ["{Drug} {dose} {freq} for {n} days.", "Take {drug} as needed for pain."]),
            (["FOLLOW-UP", "FOLLOW UP"],
             ["Follow up with your doctor in {n} days.", "Call the clinic of Dr. {doctor} for an appointment."]),
            (["RETURN PRECAUTIONS", "RETURN TO THE ER IF"],
             ["Return to the emergency department for worsening pain, fever or vomiting.",
              "Return right away if you have trouble breathing."]),
            (["DISPOSITION", "TIME OF DISCHARGE"],
             ["Discharged from the ED at {time} ambulatory, with a family member.",
              "Left the department at {time} in good condition."]),
        ],
    },
}

# administrative papers of type `other` that are signed, name insurers and
# "authorize" things without consenting to care
TUNING_OTHER_KINDS = [
    (["PATIENT REGISTRATION FORM", "FACE SHEET", "ADMISSION FACE SHEET", "PATIENT DEMOGRAPHICS"],
     ["Address: {street}, {city}. Home phone {phone}.", "Marital status: married. Religion: none stated.",
      "Employer: county school district; occupation teacher.", "Emergency contact: spouse, phone {phone}.",
      "Guarantor: self. Guarantor phone {phone}.", "Primary insurance: {insurer}; policy {n}{d}{d}{d}{d}{d}; group {n}{d}{d}.",
      "Secondary insurance: none.", "Admit type: elective. Financial class: commercial.",
      "Attending physician: Dr. {doctor}. Admitting clerk {initials}.", "Preferred language: English."]),
    (["ASSIGNMENT OF BENEFITS", "FINANCIAL RESPONSIBILITY AGREEMENT", "ASSIGNMENT OF INSURANCE BENEFITS"],
     ["I authorize payment of medical benefits directly to the hospital for services rendered.",
      "I understand that I am financially responsible for any charges not covered by my insurance.",
      "I authorize the hospital to bill {insurer} on my behalf.",
      "A copy of this assignment is as valid as the original.",
      "Signature of patient or responsible party ____________________ Date {date}",
      "Witness ____________________", "Relationship to patient ____________________"]),
    (["INSURANCE VERIFICATION", "INSURANCE ELIGIBILITY VERIFICATION"],
     ["Eligibility verified with {insurer} on {date}.", "Copay ${n}0; deductible ${n}00, met.",
      "Precertification number {n}{d}{d}{d}{d}; {n} days authorized.", "Verified by {initials} by telephone {phone}.",
      "Coverage effective {date}; no termination date."]),
    (["ACKNOWLEDGEMENT OF RECEIPT OF NOTICE OF PRIVACY PRACTICES", "NOTICE OF PRIVACY PRACTICES ACKNOWLEDGMENT"],
     ["I acknowledge that I have received a copy of the Notice of Privacy Practices.",
      "I understand that I may ask for a copy at any time.",
      "Patient signature ____________________ Date {date}",
      "If not signed, reason: patient unable to sign; staff initials {initials}."]),
    (["IMPORTANT MESSAGE FROM MEDICARE", "MEDICARE SECONDARY PAYER QUESTIONNAIRE"],
     ["Are you receiving black lung benefits? yes ___ no ___",
      "Is this illness or injury due to an accident? yes ___ no ___",
      "You have the right to appeal your discharge; call the number below.",
      "I have received this notice. Signature of beneficiary ____________________",
      "Date given {date} by registration staff."]),
    (["REQUEST FOR COPY OF RECORDS", "RECORDS REQUEST LOG"],
     ["Requested by {insurer} on {date}; {n} pages sent.", "Fee paid ${n}{d}.00; receipt {n}{d}{d}{d}.",
      "Records sent to the address on file by {initials}.", "I authorize the release of the records listed above.",
      "Signature of requester ____________________"]),
]

TUNING_NAMES = {
    "clinic": ["Springfield Neurology Associates", "Eastside Orthopedic Clinic", "Family Medicine of Oak Hill",
               "Cardiology Consultants", "Westview Eye Center", "Riverbend Internal Medicine"],
    "street": ["214 Elm Street", "18 Harbor Road", "901 Maple Avenue", "47 Quarry Lane", "3300 Center Boulevard"],
    "city": ["Springfield, IL 62704", "Fairview, OH 44126", "Greenville, SC 29601", "Madison, WI 53703"],
    "adjuster": ["Ms. Carter", "Mr. Delgado", "Ms. Whitfield", "Mr. Abernathy"],
    "month": ["January", "March", "April", "June", "August", "October", "November"],
}


def _tuning_fill(f, template, ident):
    """@template filled from @f's values, the tuning-only names and the
    patient's identification."""
    r = f.rng
    extra = {k: r.choice(v) for k, v in TUNING_NAMES.items()}
    extra.update(day=r.randrange(1, 29), year=r.randrange(1978, 2012), **ident)
    for key, value in extra.items():
        template = template.replace("{%s}" % key, str(value))
    return f.fill(template)


def _tuning_letter(rng, f, ident):
    """A letter's lines after the header: date, inside address, re line,
    salutation, an examination told in paragraphs or under headings,
    closing, signature."""
    L = TUNING_LETTER
    out = [_tuning_fill(f, rng.choice(L["dates"]), ident), ""]
    out += [_tuning_fill(f, x, ident) for x in rng.choice(L["to"])] + [""]
    re_line = rng.choice(L["re"])
    if re_line:
        out += [_tuning_fill(f, re_line, ident), ""]
    out += [_tuning_fill(f, rng.choice(L["salutation"]), ident), ""]
    out.append(_tuning_fill(f, rng.choice(L["opening"]), ident))
    headed = rng.random() < 0.5
    headings = rng.choice(L["headings"])
    for i, part in enumerate(("history", "exam", "impression", "plan")):
        if headed:
            out += ["", headings[i]]
        pool = L[part] + (L["results"] if part == "exam" else [])
        for s in rng.sample(pool, rng.randrange(1, min(4, len(pool)) + 1)):
            out.append(_tuning_fill(f, s, ident))
    closing = rng.choice(L["closing_line"])
    if closing:
        out += ["", _tuning_fill(f, closing, ident)]
    out += ["", rng.choice(L["closing"]), "", "", "%s, MD" % f.pick("doctor")]
    if rng.random() < 0.6:
        out.append(_tuning_fill(f, rng.choice(L["after"]), ident))
    return out


def _tuning_sections(rng, f, sections, ident):
    out = []
    for headings, sentences in sections:
        if rng.random() < 0.15 and len(sections) > 4:
            continue
        out.append(rng.choice(headings) + rng.choice([":", "", ":"]))
        for s in rng.sample(sentences, rng.randrange(1, len(sentences) + 1)):
            out.append(_tuning_fill(f, s, ident))
        out.append("")
    return out


def tuning_document(rng, doc_type, f, ident):
    """(title, body lines, own signature) of a tuning-only document of
    @doc_type, or None when the type has no such material or the draw
    keeps the ordinary banks. Only the "train" split calls this."""
    if doc_type == "correspondence" and rng.random() < 0.6:
        return rng.choice(TUNING_LETTER["titles"]), _tuning_letter(rng, f, ident), True
    if doc_type == "emergency-record" and rng.random() < 0.6:
        style = rng.choice(sorted(TUNING_EMERGENCY["styles"]))
        return (rng.choice(TUNING_EMERGENCY["titles"]),
                _tuning_sections(rng, f, TUNING_EMERGENCY["styles"][style], ident), False)
    if doc_type == "other" and rng.random() < 0.5:
        titles, sentences = rng.choice(TUNING_OTHER_KINDS)
        picked = rng.sample(sentences, rng.randrange(max(1, len(sentences) // 2), len(sentences) + 1))
        return rng.choice(titles), [_tuning_fill(f, s, ident) for s in picked] + [""], False
    return None

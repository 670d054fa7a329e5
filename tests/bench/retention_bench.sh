#!/bin/sh
# Retention at scale (issue 17): an archive of N documents (default 20000,
# one page each: 3 kB image, 250 words) over 2000 patients born 1930-2020,
# dated 1980-2025, written straight into a migrated archive; then a
# saved-search hold, a plan, its destruction (with VACUUM) and the check,
# each timed.  Usage: tests/bench/retention_bench.sh BUILD-DIR [N]
set -eu
BUILD=$(cd "$1" && pwd)
N=${2:-20000}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CD="$BUILD/core/cli/chartdesk"
DIR=$(mktemp -d /tmp/cd-retention-bench-XXXXXX)
export CHARTDESK_AUDIT_KEY="$DIR/audit.key" CHARTDESK_TAXONOMY="$SRC/workflows/taxonomy.conf"
cd "$DIR"
python3 - "$N" <<'PY'
import hashlib, os, random, sys
random.seed(5)
with open('mpi.csv', 'w') as f:
    f.write('mrn,family,given,middle,dob,sex\n')
    for i in range(2000):
        f.write('M%05d,Fam%d,Giv,,%04d-%02d-%02d,F\n' % (i, i, random.randint(1930, 2020), random.randint(1, 12),
                                                       random.randint(1, 28)))
PY
"$CD" mpi import big.archive mpi.csv >/dev/null
python3 - "$N" <<'PY'
import hashlib, os, random, sqlite3, sys
random.seed(7)
db = sqlite3.connect('big.archive')
db.execute("INSERT INTO batches (id, started, actor, workflow, inputs, status) "
           "VALUES (1, '2026-01-01', 'bench', 'bench', '[]', 'finished')")
types = ['discharge-summary', 'progress-note', 'operative-report', 'consent-form', 'radiology-report',
         'laboratory-report']
words = ['alpha', 'beta', 'gamma', 'delta', 'cardiac', 'renal', 'fracture', 'sepsis', 'insulin', 'biopsy']
for d in range(1, int(sys.argv[1]) + 1):
    date = '%04d-%02d-%02d' % (random.randint(1980, 2025), random.randint(1, 12), random.randint(1, 28))
    db.execute("INSERT INTO documents (id, batch_id, patient_mrn, status, type, type_confidence, date, title, "
               "created) VALUES (?, 1, ?, 'filed', ?, 0.9, ?, 'T', '2026-01-01')",
               (d, 'M%05d' % random.randint(0, 1999), random.choice(types), date))
    blob = os.urandom(3000)
    sha = hashlib.sha256(blob).hexdigest()
    db.execute("INSERT INTO images VALUES (?, 'tiff-g4', 2550, 3300, 1, 300, 300, ?)", (sha, blob))
    text = ' '.join(random.choice(words) for _ in range(250)) + ' uniq%06d' % d
    db.execute("INSERT INTO pages (batch_id, document_id, seq, kind, source_path, source_page, source_sha256, "
               "image_sha256, text, words, created) VALUES (1, ?, 0, 'page', 'x.tif', 0, ?, ?, ?, '[]', "
               "'2026-01-01')", (d, hashlib.sha256(b'%d' % d).hexdigest(), sha, text))
db.commit()
PY
cat > policy.conf <<'P'
[policy]
years=10
majority-age=18
minor-years=3
floor-years=5
[operative-report]
years=30
[consent-form]
permanent=true
P
ls -l big.archive
"$CD" hold add big.archive search --type progress-note --to 1990-12-31 --reason bench --user carol
/usr/bin/time -f "plan: %e s" "$CD" retention plan big.archive policy.conf --user alice -o plan.json | grep -E '^(Due|Not yet)'
/usr/bin/time -f "destroy: %e s, %M KB" "$CD" retention destroy big.archive plan.json --approve --user bob
/usr/bin/time -f "check: %e s" "$CD" check big.archive
rm -rf "$DIR"

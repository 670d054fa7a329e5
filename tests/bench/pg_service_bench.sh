#!/bin/sh
# chartdeskd delivering to PostgreSQL (issue 18, part 2): does delivery
# slow a batch down, and how far behind the batch is the server?  One
# batch of N generated single-page TIFFs (default 400) through the
# OCR-free tests/service workflow, three ways: no [archive] server; the
# server up (deliver-interval 30 s: commits wake the delivery); the server
# stopped for the whole batch, then started (what waited is delivered).
# Prints the batch's own elapsed time (ListBatches) and, with a server, the
# seconds from the batch's end until nothing is pending.  A private
# PostgreSQL 15 cluster (initdb as nobody under root, Unix socket only)
# and a private dbus-daemon; everything is stopped at the end.
# Usage: tests/bench/pg_service_bench.sh BUILD-DIR [N]
set -eu
BUILD=$(cd "$1" && pwd)
N=${2:-400}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=${CD_PG_BINDIR:-/usr/lib/postgresql/15/bin}
DIR=$(mktemp -d /tmp/cd-pg-service-bench-XXXXXX)
AS=""
if [ "$(id -u)" = 0 ]; then
  chown nobody:nogroup "$DIR"
  chmod 755 "$DIR"
  AS="setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all"
fi
DAEMON=""
BUSPID=""
cleanup() {
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null || true
  [ -n "$BUSPID" ] && kill "$BUSPID" 2>/dev/null || true
  $AS "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
export CHARTDESK_PLUGIN_PATH="$BUILD/plugins" CHARTDESK_PLUGIN_SYSTEM_PATH="" CHARTDESK_PLUGIN_ALLOWLIST=files
export CHARTDESK_AUDIT_KEY="$DIR/audit.key" CHARTDESK_TAXONOMY="$SRC/workflows/taxonomy.conf" OMP_THREAD_LIMIT=1

$AS "$PGBIN/initdb" -D "$DIR/data" -U chartdesk -A trust -E UTF8 --no-locale >/dev/null
pg_start() {
  $AS "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o "-c listen_addresses='' -k $DIR" start >/dev/null
}
pg_stop() { $AS "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; }
pg_start

mkdir "$DIR/in"
# N different bilevel pages (850 x 1100 at 100 dpi), uncompressed TIFF
python3 - "$DIR/in" "$N" <<'PY'
import os, random, struct, sys
out, n = sys.argv[1], int(sys.argv[2])
w, h = 850, 1100
row = (w + 7) // 8
for i in range(n):
    rnd = random.Random(i)
    data = bytearray(row * h)
    for _ in range(4000):  # specks of text-like noise
        y, x = rnd.randrange(h), rnd.randrange(row)
        data[y * row + x] = rnd.randrange(1, 256)
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 1), (259, 3, 1, 1), (262, 3, 1, 0),
               (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, h), (279, 4, 1, len(data)),
               (282, 5, 1, 0), (283, 5, 1, 0), (296, 3, 1, 2)]
    ifd = 8
    res = ifd + 2 + 12 * len(entries) + 4
    strip = res + 8
    blob = bytearray(b'II*\0' + struct.pack('<I', ifd) + struct.pack('<H', len(entries)))
    for tag, typ, count, value in entries:
        if tag == 273:
            value = strip
        if tag in (282, 283):
            value = res
        if typ == 3:
            blob += struct.pack('<HHIHH', tag, typ, count, value, 0)
        else:
            blob += struct.pack('<HHII', tag, typ, count, value)
    blob += struct.pack('<I', 0) + struct.pack('<II', 100, 1) + data
    with open(os.path.join(out, 'scan-%05d.tif' % i), 'wb') as f:
        f.write(blob)
PY

eval "$(dbus-daemon --session --fork --address="unix:path=$DIR/bus" --print-address=1 --print-pid=1 |
  { read -r a; read -r p; echo "export DBUS_SESSION_BUS_ADDRESS='$a'; BUSPID=$p"; })"
call() {
  gdbus call --session --dest org.chartdesk.Chartdesk1 --object-path /org/chartdesk/Chartdesk1 --method "$@"
}
delivery() {
  call org.freedesktop.DBus.Properties.Get org.chartdesk.Chartdesk1 Delivery
}

run() { # MODE: none | up | down
  mode=$1
  spool="$DIR/$mode.archive"
  # a database each: the same pages in two would be duplicates, not deliveries
  URI="postgresql:///bench_$mode?host=$DIR&user=chartdesk"
  [ "$mode" != none ] && $AS "$PGBIN/createdb" -h "$DIR" -U chartdesk "bench_$mode"
  {
    printf '[service]\narchive=%s\nworkflow=service-test\nworkflow-path=%s/tests/service\nstate-dir=%s/state-%s\n' \
      "$spool" "$SRC" "$DIR" "$mode"
    printf 'workers=2\n'
    [ "$mode" != none ] && printf '\n[archive]\nserver=%s\nstation=bench-%s\ndeliver-interval=30\n' "$URI" "$mode"
  } >"$DIR/$mode.conf"
  [ "$mode" = down ] && pg_stop
  "$BUILD/core/service/chartdeskd" --config "$DIR/$mode.conf" 2>"$DIR/$mode.log" &
  DAEMON=$!
  until call org.chartdesk.Chartdesk1.ListBatches >/dev/null 2>&1; do sleep 0.05; done
  id=$(call org.chartdesk.Chartdesk1.StartBatch '' "['$DIR/in']" "$spool" '{}' | tr -dc 0-9)
  while :; do
    info=$(call org.chartdesk.Chartdesk1.ListBatches)
    case "$info" in *"'finished'"*) break ;; *"'failed'"*) echo "batch failed"; exit 1 ;; esac
    sleep 0.05
  done
  ended=$(date +%s.%N)
  elapsed=$(echo "$info" | sed -n "s/.*'elapsed': <\([0-9.]*\)>.*/\1/p")
  lag="-"
  if [ "$mode" != none ]; then
    [ "$mode" = down ] && { pg_start; ended=$(date +%s.%N); }
    until delivery | grep -q "'pending-documents': <uint64 0>" && delivery | grep -q "'state': <'idle'>" &&
      ! delivery | grep -q "'last-pass': <int64 0>"; do sleep 0.05; done
    lag=$(echo "$(date +%s.%N) - $ended" | bc)
    delivered=$(delivery | sed -n "s/.*'delivered-documents': <uint64 \([0-9]*\)>.*/\1/p")
    [ "$delivered" = "$N" ] || { echo "$mode: $delivered of $N delivered"; delivery; cat "$DIR/$mode.log"; exit 1; }
  fi
  printf '%-6s %5d pages  batch %6.2f s  %7.0f pages/min  delivered %s s after the batch%s\n' "$mode" "$N" \
    "$elapsed" "$(echo "$N * 60 / $elapsed" | bc -l)" "$lag" "$([ "$mode" = down ] && echo ' (and the server start)')"
  kill "$DAEMON"
  wait "$DAEMON" 2>/dev/null || true
  DAEMON=""
}
for mode in ${CD_BENCH_MODES:-none up down}; do
  run "$mode"
done

#!/usr/bin/env bash
# A native port forward (rdsdeck's data channel, through the sandbox's Session
# Manager agent, pacing off) versus a direct connection to the same database:
#   throughput  `rdsdeck sql -o csv` of an N-row SELECT (~75 bytes a row), median of R runs;
#   latency     connect + `SELECT 1` round trips, median over R runs (a fresh IAM login each);
#   memory      peak RSS of `rdsdeck forward` while it carries the throughput runs.
# The forward is started once (`rdsdeck forward`) and reused, as an operator would.
#   bench/forward_vs_direct.sh [R=5] [ROWS=200000] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
r=${1:-5}
rows=${2:-200000}
. bench/sandbox.sh
bench_setup forward_vs_direct "${3:-}"
bench_extra_cleanup() { [ -n "${fpid:-}" ] && kill -INT "$fpid" 2>/dev/null; wait "${fpid:-}" 2>/dev/null || true; }
set -a; . "$tmp/env"; set +a
port=$RDSDECK_SANDBOX_DB_PORT
"$bin" forward > "$tmp/fwd.out" 2> "$tmp/fwd.err" &
fpid=$!
for _ in $(seq 1 200); do grep -q '^probe:' "$tmp/fwd.out" && break; sleep 0.05; done
grep -q '^probe:' "$tmp/fwd.out" || { cat "$tmp/fwd.out" "$tmp/fwd.err" >&2; exit 1; }
lport=$(sed -n 's/^forwarding 127.0.0.1:\([0-9]*\) .*/\1/p' "$tmp/fwd.out")
query="SELECT seq AS id, CONCAT('user-', seq) AS name, seq * 1.5 AS amount, MD5(seq) AS h FROM seq_1_to_${rows}"
direct() { "$bin" sql --user node_app -D node_db -o csv -e "$1"; }
# Through the forward: TCP to the local port, the token and TLS for the database's own name.
via() { "$bin" sql --user node_app -D node_db -o csv --tunnel-port "$lport" -e "$1"; }

[ "$(direct "$query" 2>/dev/null | md5sum)" = "$(via "$query" 2>/dev/null | md5sum)" ] || { echo "results differ through the forward" >&2; exit 1; }
bytes=$(direct "$query" 2>/dev/null | wc -c)
for side in direct via; do
  : > "$tmp/t.$side"; : > "$tmp/l.$side"
  for _ in $(seq 1 "$r"); do
    time_it "$side" "$query" >> "$tmp/t.$side"
    time_it "$side" "SELECT 1" >> "$tmp/l.$side"
  done
done
rss=$(awk '/VmHWM/ {print $2}' "/proc/$fpid/status")
td=$(median < "$tmp/t.direct"); tv=$(median < "$tmp/t.via")
ld=$(median < "$tmp/l.direct"); lv=$(median < "$tmp/l.via")
awk -v td="$td" -v tv="$tv" -v ld="$ld" -v lv="$lv" -v b="$bytes" -v rss="$rss" -v rows="$rows" 'BEGIN {
  printf "%-40s %10s %10s %8s\n", "", "direct", "forward", "ratio"
  printf "%-40s %9.3fs %9.3fs %7.2fx\n", "sql -o csv, " rows " rows (" int(b/1024) " KiB)", td, tv, tv / td
  printf "%-40s %7.1fMB/s %7.1fMB/s\n", "throughput", b / td / 1e6, b / tv / 1e6
  printf "%-40s %9.3fs %9.3fs %7.2fx\n", "connect + SELECT 1 (whole command)", ld, lv, lv / ld
  printf "%-40s %21.1f MiB\n", "peak RSS of `rdsdeck forward`", rss / 1024 }'

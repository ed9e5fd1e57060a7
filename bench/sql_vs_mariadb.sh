#!/usr/bin/env bash
# `rdsdeck sql -o csv` versus the mariadb client in batch mode, both over TLS
# to the sandbox database, on a 1,000,000-row SELECT. Reports median wall time
# over N runs and each side's peak RSS (GNU time, or /proc polling).
#   bench/sql_vs_mariadb.sh [N=5] [ROWS=1000000] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
rows=${2:-1000000}
. bench/sandbox.sh
bench_setup sql_vs_mariadb "${3:-}"
set -a; . "$tmp/env"; set +a
port=$RDSDECK_SANDBOX_DB_PORT
query="SELECT seq AS id, CONCAT('user-', seq) AS name, seq * 1.5 AS amount, IF(seq % 7 = 0, NULL, 'note') AS note FROM seq_1_to_${rows}"

run_rdsdeck() {
  "$bin" sql --user node_app -D node_db --ca "$RDSDECK_SANDBOX_DB_CA" -o csv -e "$query" > "$tmp/out.rdsdeck" 2>/dev/null
}
run_mariadb() {
  # The token is signed by rdsdeck (fast); the mariadb client reads it from MYSQL_PWD, not argv.
  MYSQL_PWD=$("$bin" token --hostname "$RDSDECK_SANDBOX_PROXY_ENDPOINT" --port 3306 --username node_app --region us-east-1) \
    mariadb --protocol=TCP -h localhost -P "$port" --ssl-ca "$RDSDECK_SANDBOX_DB_CA" --ssl-verify-server-cert \
      --enable-cleartext-plugin -u node_app -D node_db --batch --quick -e "$query" > "$tmp/out.mariadb"
}
peak_rss() { # command... -> prints peak RSS in KiB (the command's output is discarded)
  "$@" > /dev/null 2>&1 & local pid=$! peak=0 r
  while kill -0 "$pid" 2>/dev/null; do
    for p in $pid $(pgrep -P "$pid" || true); do
      r=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
      [ "${r:-0}" -gt "$peak" ] && peak=$r
    done
    sleep 0.02
  done
  wait "$pid"
  echo "$peak"
}

run_rdsdeck; run_mariadb   # warm-up, and a sanity check of the row counts
# (the mariadb client prints a deprecation WARNING line for --enable-cleartext-plugin on stdout)
echo "rows: rdsdeck $(($(wc -l < "$tmp/out.rdsdeck") - 1)), mariadb $(($(grep -vc "^WARNING:" "$tmp/out.mariadb") - 1))"
for side in rdsdeck mariadb; do
  : > "$tmp/t.$side"
  for _ in $(seq 1 "$n"); do
    s=$(date +%s.%N); "run_$side"; e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { print e - s }' >> "$tmp/t.$side"
  done
done
rss_r=$(peak_rss "$bin" sql --user node_app -D node_db --ca "$RDSDECK_SANDBOX_DB_CA" -o csv -e "$query")
tok=$("$bin" token --hostname "$RDSDECK_SANDBOX_PROXY_ENDPOINT" --port 3306 --username node_app --region us-east-1)
rss_m=$(MYSQL_PWD=$tok peak_rss mariadb --protocol=TCP -h localhost -P "$port" --ssl-ca "$RDSDECK_SANDBOX_DB_CA" --enable-cleartext-plugin -u node_app -D node_db --batch --quick -e "$query")
mr=$(median < "$tmp/t.rdsdeck"); mm=$(median < "$tmp/t.mariadb")
printf '%-34s %8s %12s\n' "" "median" "peak RSS"
awk -v mr="$mr" -v mm="$mm" -v rr="$rss_r" -v rm="$rss_m" 'BEGIN {
  printf "%-34s %7.3fs %9.1f MiB\n", "rdsdeck sql -o csv", mr, rr / 1024
  printf "%-34s %7.3fs %9.1f MiB\n", "mariadb --batch --quick", mm, rm / 1024
  printf "%-34s %7.2fx\n", "ratio mariadb / rdsdeck (time)", mm / mr }'

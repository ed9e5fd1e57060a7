#!/usr/bin/env bash
# "First rows visible within 100 ms of the query's first row arriving", end to
# end: rdsdeck (release) in tmux on the sandbox, the SQL view runs a
# 1,000,000-row SELECT N times; after every frame that first shows a
# statement's rows, rdsdeck logs how long after the first row came off the
# connection that frame reached the terminal. Reports median and max of those,
# and checks the grid then scrolls (PageDown / End on the kept rows).
#   bench/tui_first_rows.sh [N=10] [ROWS=1000000] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
rows=${2:-1000000}
. bench/sandbox.sh
bench_setup tui_first_rows "${3:-}"
log="$tmp/rdsdeck.log"
bench_tui first-rows 160 45 "RDSDECK_LOG_FILE=$log"
screen() { tmux -L "$sock" capture-pane -p -t m; }
wait_for() { for _ in $(seq 1 1200); do screen | grep -qF -- "$1" && return 0; sleep 0.1; done; echo "timed out waiting for: $1" >&2; screen >&2; exit 1; }
wait_gone() { for _ in $(seq 1 1200); do screen | grep -qF -- "$1" || return 0; sleep 0.1; done; echo "timed out waiting for the end of: $1" >&2; exit 1; }
lines() { grep -c 'first rows on screen' "$log" 2>/dev/null || true; }
wait_for 'Params 5'
tmux -L "$sock" send-keys -t m e
wait_for 'SQL ·'
tmux -L "$sock" send-keys -t m -l "SELECT seq AS id, CONCAT('user-', seq) AS name, seq * 1.5 AS amount FROM seq_1_to_${rows}"
for i in $(seq 1 "$n"); do
  tmux -L "$sock" send-keys -t m F5
  for _ in $(seq 1 600); do [ "$(lines)" -ge "$i" ] && break; sleep 0.05; done
  [ "$(lines)" -ge "$i" ] || { echo "run $i: no latency line in the log" >&2; screen >&2; exit 1; }
  wait_gone 'running · Esc cancels'
  wait_for "${rows} row(s) in"
  # Scroll the kept rows: PageDown twice and End, then back to the editor.
  tmux -L "$sock" send-keys -t m Tab PageDown PageDown End
  wait_for "row 200000 col 1"
  tmux -L "$sock" send-keys -t m Tab
done
grep -o 'first rows on screen [0-9.]* ms' "$log" | awk '{print $5}' | sort -n > "$tmp/lat"
awk -v n="$(wc -l < "$tmp/lat")" '{a[NR]=$1} END {
  med = (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
  printf "first rows on screen after the first row arrived (%d runs): median %.2f ms, max %.2f ms (goal < 100 ms)\n", n, med, a[n] }' "$tmp/lat"

#!/usr/bin/env bash
# Cancelling a running `SELECT SLEEP(30)`: rdsdeck's SQL view (Esc, KILL QUERY
# from a second connection) versus the mariadb client (Ctrl-C, which does the
# same), both in tmux on the sandbox over TLS. Each side is timed the same
# way: from the key sent to tmux until the terminal shows the query was
# stopped (the screen is polled every 10 ms). Reports median and max over N runs.
#   bench/sql_cancel.sh [N=7] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-7}
. bench/sandbox.sh
bench_setup sql_cancel "${2:-}"
set -a; . "$tmp/env"; set +a
port=$RDSDECK_SANDBOX_DB_PORT
log="$tmp/rdsdeck.log"
bench_tui cancel 140 40 "RDSDECK_LOG_FILE=$log"
msock="rdsdeck-cancel-mariadb-$$"
bench_extra_cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  tmux -L "$msock" kill-server 2>/dev/null || true
}
now_ms() { date +%s%3N; }
# screen SOCKET -> the pane with its scrollback
screen() { tmux -L "$1" capture-pane -p -J -S -2000 -t m; }
wait_for() { # SOCKET TEXT [COUNT=1]
  for _ in $(seq 1 3000); do [ "$(screen "$1" | grep -cF -- "$2")" -ge "${3:-1}" ] && return 0; sleep 0.01; done
  echo "timed out waiting for: $2" >&2; screen "$1" | tail -20 >&2; exit 1
}

# rdsdeck_cancels SQL DELAY OUT: in the SQL view, run SQL N times and press Esc DELAY seconds in;
# each time from the key to "query cancelled" on screen goes to OUT.
rdsdeck_cancels() {
  tmux -L "$sock" send-keys -t m C-a C-k
  tmux -L "$sock" send-keys -t m -l "$1"
  : > "$3"
  for i in $(seq 1 "$n"); do
    tmux -L "$sock" send-keys -t m F5
    wait_for "$sock" 'running · Esc cancels'
    sleep "$2"
    s=$(now_ms); tmux -L "$sock" send-keys -t m Escape
    wait_for "$sock" 'query cancelled'
    echo $(( $(now_ms) - s )) >> "$3"
    sleep 0.3
  done
}

wait_for "$sock" 'Params 5'
tmux -L "$sock" send-keys -t m e
wait_for "$sock" 'SQL ·'
# A sleeping statement, Esc half a second in.
rdsdeck_cancels "SELECT SLEEP(30)" 0.5 "$tmp/t.rdsdeck"
# A result streaming flat out (100M rows), Esc one second in.
stream_sql="SELECT seq FROM seq_1_to_100000000"
rdsdeck_cancels "$stream_sql" 1 "$tmp/s.rdsdeck"

# The mariadb client: the same statement, Ctrl-C.
# The token reaches the client in MYSQL_PWD, from a file only this user can read (never argv).
(umask 077; "$bin" token --hostname "$RDSDECK_SANDBOX_PROXY_ENDPOINT" --port 3306 --username node_app --region us-east-1 > "$tmp/token")
cat > "$tmp/mariadb.sh" <<SCRIPT
MYSQL_PWD=\$(cat "$tmp/token") exec mariadb --protocol=TCP -h localhost -P $port --ssl-ca "$RDSDECK_SANDBOX_DB_CA" \\
  --ssl-verify-server-cert --enable-cleartext-plugin -u node_app -D node_db
SCRIPT
tmux -L "$msock" -f /dev/null new-session -d -s m -x 140 -y 40 "sh $tmp/mariadb.sh; sleep 60"
wait_for "$msock" 'MariaDB [node_db]>'
: > "$tmp/t.mariadb"
for i in $(seq 1 "$n"); do
  tmux -L "$msock" send-keys -t m -l "SELECT SLEEP(30) \\g"   # (a trailing ; would be a tmux separator)
  tmux -L "$msock" send-keys -t m Enter
  sleep 0.5
  s=$(now_ms); tmux -L "$msock" send-keys -t m C-c
  wait_for "$msock" 'Query execution was interrupted' "$i"
  echo $(( $(now_ms) - s )) >> "$tmp/t.mariadb"
  sleep 0.3
done

# The mariadb client streaming (--quick: rows printed as they come), Ctrl-C one second in.
tmux -L "$msock" kill-server 2>/dev/null || true
sed -i 's/-D node_db$/-D node_db --quick/' "$tmp/mariadb.sh"
tmux -L "$msock" -f /dev/null new-session -d -s m -x 140 -y 40 "sh $tmp/mariadb.sh; sleep 60"
wait_for "$msock" 'MariaDB [node_db]>'
: > "$tmp/s.mariadb"
for i in $(seq 1 "$n"); do
  # A clean screen and scrollback: the previous run's lines must not match.
  tmux -L "$msock" send-keys -t m -l 'system clear'
  tmux -L "$msock" send-keys -t m Enter
  sleep 0.3
  tmux -L "$msock" clear-history -t m
  tmux -L "$msock" send-keys -t m -l "$stream_sql \\g"
  tmux -L "$msock" send-keys -t m Enter
  sleep 1
  s=$(now_ms); tmux -L "$msock" send-keys -t m C-c
  wait_for "$msock" 'rows in set'   # after "Ctrl-C -- query killed.": the statement is over
  echo $(( $(now_ms) - s )) >> "$tmp/s.mariadb"
  sleep 0.3
done

mr=$(median < "$tmp/t.rdsdeck"); mm=$(median < "$tmp/t.mariadb")
xr=$(sort -n "$tmp/t.rdsdeck" | tail -1); xm=$(sort -n "$tmp/t.mariadb" | tail -1)
inner=$(grep -o 'query cancelled [0-9.]* ms' "$log" | awk '{print $3}' | median)
printf '%-40s %10s %8s\n' "cancel SELECT SLEEP(30), $n runs" "median" "max"
printf '%-40s %7s ms %5s ms   (inside rdsdeck: %s ms)\n' "rdsdeck SQL view, Esc" "$mr" "$xr" "$inner"
printf '%-40s %7s ms %5s ms\n' "mariadb client, Ctrl-C" "$mm" "$xm"
awk -v r="$mr" -v m="$mm" 'BEGIN { printf "%-40s %7.2fx   (goal: within 1000 ms)\n", "ratio mariadb / rdsdeck", m / r }'
sr=$(median < "$tmp/s.rdsdeck"); sm=$(median < "$tmp/s.mariadb")
printf '%-40s %10s %8s\n' "cancel a 100M-row stream, $n runs" "median" "max"
printf '%-40s %7s ms %5s ms   (goal: within 200 ms)\n' "rdsdeck SQL view, Esc" "$sr" "$(sort -n "$tmp/s.rdsdeck" | tail -1)"
printf '%-40s %7s ms %5s ms\n' "mariadb --quick, Ctrl-C" "$sm" "$(sort -n "$tmp/s.mariadb" | tail -1)"

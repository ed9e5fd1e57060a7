#!/usr/bin/env bash
# The native data channel against direct TCP, through one `rdsdeck forward` (smux) and the
# sandbox's Session Manager agent (sandbox/ssm/standin.py, pacing off):
#   raw bytes      N MiB from a server that speaks first, read through the forward vs directly;
#   1M-row result  `rdsdeck sql -o csv` of a million rows, one connection;
#   8 connections  eight `rdsdeck sql` of 125,000 rows each at once (the same million rows);
# medians of R runs, as ratios to direct. Where the time goes: the CPU seconds the agent
# (Python) and `rdsdeck forward` spent during the forwarded runs, beside the wall time.
#   bench/channel_throughput.sh [R=5] [MIB=64] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
r=${1:-5}
mib=${2:-64}
. bench/sandbox.sh
bench_setup channel_throughput "${3:-}"
bench_extra_cleanup() {
  [ -n "${fpid:-}" ] && kill -INT "$fpid" 2>/dev/null
  [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null
  wait "${fpid:-}" "${spid:-}" 2>/dev/null || true
}
set -a; . "$tmp/env"; set +a

# A byte source that speaks first: MIB MiB to every connection, then close.
"$venv/bin/python" - "$mib" > "$tmp/src.port" <<'EOF' &
import socket, sys, threading
n = int(sys.argv[1]) << 20
block = bytes(range(256)) * 256
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
print(srv.getsockname()[1], flush=True)
def serve(c):
    left = n
    try:
        while left:
            k = min(left, len(block)); c.sendall(block[:k]); left -= k
    finally:
        c.close()
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
spid=$!
for _ in $(seq 1 100); do [ -s "$tmp/src.port" ] && break; sleep 0.05; done
sport=$(cat "$tmp/src.port")

forward() { # forward HOST PORT -> sets $fpid $lport
  "$bin" forward --host "$1" --remote-port "$2" > "$tmp/fwd.out" 2> "$tmp/fwd.err" &
  fpid=$!
  for _ in $(seq 1 200); do grep -q '^forwarding' "$tmp/fwd.out" && break; sleep 0.05; done
  lport=$(sed -n 's/^forwarding 127.0.0.1:\([0-9]*\) .*/\1/p' "$tmp/fwd.out")
  [ -n "$lport" ] || { cat "$tmp/fwd.out" "$tmp/fwd.err" >&2; exit 1; }
}
stop_forward() { kill -INT "$fpid"; wait "$fpid" 2>/dev/null || true; fpid=; }
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }   # user+system seconds (USER_HZ 100)
agent_pid=$(pgrep -f "ssm/standin.py.*$RDSDECK_SANDBOX_SSM_ENDPOINT" || pgrep -f "ssm/standin.py" | head -n 1)

read_bytes() { local n; n=$(cat < "/dev/tcp/127.0.0.1/$1" | wc -c); [ "$n" -eq $((mib << 20)) ] || { echo "short read: $n" >&2; return 1; }; }
q1="SELECT seq, seq * 7, MD5(seq) FROM seq_1_to_1000000"
one() { "$bin" sql --user node_app -o csv ${1:+--tunnel-port "$1"} -e "$q1"; }
eight() {
  local i pids=()
  for i in 0 1 2 3 4 5 6 7; do
    "$bin" sql --user node_app -o csv ${1:+--tunnel-port "$1"} \
      -e "SELECT seq, seq * 7, MD5(seq) FROM seq_1_to_1000000 WHERE seq % 8 = $i" > /dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
}
rows_bytes=$(one "" | wc -c)

# Raw bytes: direct, then through a forward to the byte source.
: > "$tmp/raw.d"; : > "$tmp/raw.v"
for _ in $(seq 1 "$r"); do time_it read_bytes "$sport" >> "$tmp/raw.d"; done
forward 127.0.0.1 "$sport"
a0=$(cpu "$agent_pid"); f0=$(cpu "$fpid")
for _ in $(seq 1 "$r"); do time_it read_bytes "$lport" >> "$tmp/raw.v"; done
a1=$(cpu "$agent_pid"); f1=$(cpu "$fpid")
stop_forward

# Rows: direct, then through a forward to the stack's endpoint.
: > "$tmp/one.d"; : > "$tmp/one.v"; : > "$tmp/eight.d"; : > "$tmp/eight.v"
for _ in $(seq 1 "$r"); do time_it one "" >> "$tmp/one.d"; time_it eight "" >> "$tmp/eight.d"; done
forward "$RDSDECK_SANDBOX_PROXY_ENDPOINT" 3306
[ "$(one "" | md5sum)" = "$(one "$lport" | md5sum)" ] || { echo "results differ through the forward" >&2; exit 1; }
a2=$(cpu "$agent_pid"); f2=$(cpu "$fpid")
for _ in $(seq 1 "$r"); do time_it one "$lport" >> "$tmp/one.v"; time_it eight "$lport" >> "$tmp/eight.v"; done
a3=$(cpu "$agent_pid"); f3=$(cpu "$fpid")
rss=$(awk '/VmHWM/ {print $2}' "/proc/$fpid/status")
stop_forward

awk -v r="$r" -v mib="$mib" -v rb="$rows_bytes" -v rss="$rss" \
    -v rd="$(median < "$tmp/raw.d")" -v rv="$(median < "$tmp/raw.v")" \
    -v od="$(median < "$tmp/one.d")" -v ov="$(median < "$tmp/one.v")" \
    -v ed="$(median < "$tmp/eight.d")" -v ev="$(median < "$tmp/eight.v")" \
    -v ra="$(awk -v a="$a0" -v b="$a1" 'BEGIN{print b-a}')" -v rf="$(awk -v a="$f0" -v b="$f1" 'BEGIN{print b-a}')" \
    -v qa="$(awk -v a="$a2" -v b="$a3" 'BEGIN{print b-a}')" -v qf="$(awk -v a="$f2" -v b="$f3" 'BEGIN{print b-a}')" 'BEGIN {
  printf "%-34s %9s %9s %7s %9s %9s\n", "median of " r " runs", "direct", "forward", "ratio", "MB/s dir", "MB/s fwd"
  printf "%-34s %8.3fs %8.3fs %6.1fx %9.1f %9.1f\n", "raw bytes, " mib " MiB", rd, rv, rv / rd, mib * 1.048576 / rd, mib * 1.048576 / rv
  printf "%-34s %8.3fs %8.3fs %6.1fx %9.1f %9.1f\n", "1M-row result (" int(rb / 1048576) " MiB CSV)", od, ov, ov / od, rb / od / 1e6, rb / ov / 1e6
  printf "%-34s %8.3fs %8.3fs %6.1fx %9.1f %9.1f\n", "8 connections x 125k rows", ed, ev, ev / ed, rb / ed / 1e6, rb / ev / 1e6
  printf "\nwhere the time goes during the forwarded runs (CPU seconds, all runs):\n"
  printf "  raw bytes:  agent (Python) %.2f s, rdsdeck forward %.2f s, wall %.2f s\n", ra, rf, rv * r
  printf "  rows:       agent (Python) %.2f s, rdsdeck forward %.2f s, wall %.2f s\n", qa, qf, (ov + ev) * r
  printf "peak RSS of rdsdeck forward: %.1f MiB\n", rss / 1024 }'

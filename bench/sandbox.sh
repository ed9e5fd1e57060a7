# Sourced by the bench/*.sh scripts: the release binary, and a private sandbox
# for the duration of the script (it stops when fd 3, its stdin, closes).
#   bench_setup NAME BINARY   -> sets $bin $venv $tmp, starts the sandbox, env file at $tmp/env
bench_setup() {
  local name=$1
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rdsdeck/target}"
  bin=${2:-$CARGO_TARGET_DIR/release/rdsdeck}
  [ -x "$bin" ] || { echo "$name: build it first: cargo build --release" >&2; exit 1; }
  venv=$(sandbox/setup-venv | tail -n 1)
  tmp=$(mktemp -d)
  trap bench_cleanup EXIT
  mkfifo "$tmp/life"
  "$venv/bin/python" sandbox/sandbox.py up --stdin-lifeline --env-file "$tmp/env" < "$tmp/life" > "$tmp/sandbox.out" 2>&1 &
  exec 3> "$tmp/life"
  for _ in $(seq 1 600); do grep -q READY "$tmp/sandbox.out" && break; sleep 0.1; done
  grep -q READY "$tmp/sandbox.out" || { cat "$tmp/sandbox.out" >&2; exit 1; }
}

# The median of numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# The wall time of a command, in seconds (its output discarded).
time_it() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'; }

# Scripts may define bench_extra_cleanup (e.g. to stop tmux).
bench_cleanup() {
  if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup; fi
  exec 3>&- 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}

# The release TUI in a detached tmux session on the sandbox (after bench_setup):
#   bench_tui NAME W H [VAR=value...]  -> sets $sock; stopped by bench_cleanup
bench_tui() {
  sock="rdsdeck-$1-$$"
  local w=$2 h=$3; shift 3
  local envs
  envs=$(grep -E '^[A-Z_]+=' "$tmp/env" | tr '\n' ' ')
  tmux -L "$sock" -f /dev/null new-session -d -s m -x "$w" -y "$h" \
    "env -i PATH=$PATH HOME=$tmp TERM=xterm-256color XDG_CONFIG_HOME=$tmp/c XDG_STATE_HOME=$tmp/s $* $envs $bin"
}
bench_extra_cleanup() { [ -n "${sock:-}" ] && tmux -L "$sock" kill-server 2>/dev/null || true; }

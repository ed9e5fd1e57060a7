#!/usr/bin/env bash
# Regenerate screenshots/*.png from the real rdsdeck TUI running against the moto sandbox.
#
#   screenshots/make.sh                 # build, start the sandbox, take every shot
#   screenshots/make.sh proxies help    # only these shots
#   screenshots/make.sh --list          # list the shots
#
# Each shot starts a fresh rdsdeck (fresh XDG config/state dirs) in a detached 120x36 tmux
# session on a private socket, waits for the overview to load, sends keys, waits for a text,
# waits for the screen to settle, captures it (`capture-pane -p -e -N`) and renders it with
# tools/ansi2png.py. Everything (tmux server, rdsdeck, sandbox/moto, temp dir) is cleaned up on
# exit, Ctrl-C included.
#
# Environment:
#   CARGO_TARGET_DIR  cargo target dir (default $HOME/.cache/rdsdeck/target)
#   RDSDECK_BIN       use this binary instead of building one
#   RDSDECK_VENV      sandbox venv (default $HOME/.cache/rdsdeck/venv; made by sandbox/setup-venv)
#   SHOTS_OUT         output folder (default: this folder)
#   SHOT_TIMEOUT      seconds to wait for a text (default 30)
#   SANDBOX_TIMEOUT   seconds to wait for the sandbox to be seeded (default 120)
#   SHOTS_MOTO_PORT   moto's port, shown in the header (default 5000; a free port if it is taken)
#   SHOTS_KEEP_TMP=1  keep the temp dir (captures, app logs) and print its path
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out_dir="${SHOTS_OUT:-$here}"
cols=120
rows=36
shot_timeout="${SHOT_TIMEOUT:-30}"
sandbox_timeout="${SANDBOX_TIMEOUT:-120}"
moto_port="${SHOTS_MOTO_PORT:-5000}"
key_delay=0.15
# Default fg/bg of the "terminal" in the PNGs. The dark and light themes use bg=reset, so these
# show through; high-contrast paints black itself (but the footer row keeps the terminal's bg).
dark_bg='#222436' dark_fg='#c8d3f5'
light_bg='#ffffff' light_fg='#1f2328'
hc_bg='#000000' hc_fg='#ffffff'
# Texts that mean "the overview has loaded"; every shot waits for them before sending keys.
ready_texts=(dev-node-app 'SSM parameters under')

# ---------------------------------------------------------------------------------------------
# The shots. `shot NAME KEYS... WAITFOR`:
#   NAME     output is $out_dir/NAME.png
#   KEYS     sent one by one, after the overview has loaded:
#              tmux key names (Enter Escape Esc Tab BTab Up Down Space BSpace C-x M-x F1 ...)
#              and single characters are sent as keys; any other word is typed literally
#              (`:proxies` types ":proxies"); `wait:TEXT` waits for TEXT on screen;
#              `sleep:SECS` pauses; `type:TEXT` types TEXT literally even if it is a key name.
#   WAITFOR  text that must be on screen before the capture (then the screen must settle)
# Per-shot settings, as prefix assignments: SHOT_ARGS (extra rdsdeck arguments),
# SHOT_BG / SHOT_FG (terminal default colours for the PNG), SHOT_PALETTE (ansi2png's colours
# 0-15: auto, dark, light or xterm), SHOT_BREAK (a `sandbox.py break` scenario for this shot, fixed after).
shots() {
  shot overview                                                     'SSM parameters under'
  shot proxies          :proxies Enter                              'Proxies (1)'
  shot detail           :proxies Enter 'wait:Proxies (1)' Enter     'DBProxyName'
  shot hosts            :hosts Enter                                'Hosts (1)'
  shot security-groups  :sg Enter                                   'SGs (5)'
  shot parameters       :params Enter                               'Params (5)'
  shot filter           :sg Enter 'wait:SGs (5)' / proxy            '/5) /proxy'
  shot help             '?'                                         'fuzzy filter the list'
  shot log              L                                           ' loaded in '
  shot sql              'wait:5 SSM parameters' e 'wait:SQL ·' 'type:SELECT o.id, u.name, o.amount, o.status, o.note FROM node_db.orders o JOIN node_db.users u ON u.id = o.user_id ORDER BY o.id' F5 'row(s) in'
  shot bootstrap        'wait:5 SSM parameters' b 'wait:plan ready' r 'bootstrap complete'
  SHOT_BREAK=user-no-ssl \
  shot doctor           'wait:5 SSM parameters' D                   'Doctor · 1 failed'
  shot pulse            'wait:5 SSM parameters' 'sleep:2' p 'wait:rds-iam-auth-proxy-pinned' ']' 'wait:Pulse · last 3h' 'wait:rds-iam-auth-proxy-pinned' 'IAM authentication failed'
  shot tour             'wait:5 SSM parameters' T 'wait:7. On call' Down Down Enter 'wait:Sign a token' t 'wait:signed for' Right 'wait:What is inside' d 'lifetime   900 s'
  shot forwards         'wait:5 SSM parameters' f 'wait:No forwards yet' n 'wait:ready' 'sleep:2' 'ok '
  shot token            'wait:5 SSM parameters' t                   'hidden'
  SHOT_ARGS="--theme light" SHOT_BG="$light_bg" SHOT_FG="$light_fg" \
  shot overview-light                                               'SSM parameters under'
  SHOT_ARGS="--theme high-contrast" SHOT_BG="$hc_bg" SHOT_FG="$hc_fg" SHOT_PALETTE=xterm \
  shot overview-high-contrast                                       'SSM parameters under'
}

# ---------------------------------------------------------------------------------------------

say() { printf 'make.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

list_only=0
selected=()
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --list) list_only=1 ;;
    -*) die "unknown option $a (see --help)" ;;
    *) selected+=("$a") ;;
  esac
done

if (( list_only )); then
  shot() {
    local n="$1"; shift
    printf '%-18s keys: %-32s wait for: %s%s\n' "$n" "${*:1:$#-1}" "${!#}" "${SHOT_ARGS:+   (rdsdeck $SHOT_ARGS)}"
  }
  shots
  exit 0
fi

# Check the shot names given on the command line.
if (( ${#selected[@]} )); then
  known=()
  shot() { known+=("$1"); }
  shots
  for s in "${selected[@]}"; do
    [[ " ${known[*]} " == *" $s "* ]] || die "no shot named '$s' (known: ${known[*]})"
  done
  unset -f shot
fi

command -v tmux >/dev/null || die "tmux is not installed"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/rdsdeck-shots.XXXXXX")"
sock="$tmp/tmux.sock"
sandbox_pid=""
lifeline=""

tm() {
  # Private tmux server; never let it (or the app) inherit the sandbox's lifeline.
  if [[ -n "$lifeline" ]]; then
    tmux -u -S "$sock" -f "$tmp/tmux.conf" "$@" {lifeline}>&-
  else
    tmux -u -S "$sock" -f "$tmp/tmux.conf" "$@"
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  tmux -S "$sock" kill-server >/dev/null 2>&1 || true
  if [[ -n "$lifeline" ]]; then
    exec {lifeline}>&-   # sandbox sees EOF on stdin and stops moto
    lifeline=""
  fi
  if [[ -n "$sandbox_pid" ]]; then
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$sandbox_pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$sandbox_pid" 2>/dev/null; then
      say "sandbox did not stop on stdin EOF; sending SIGTERM"
      kill -TERM "$sandbox_pid" 2>/dev/null || true
    fi
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  if [[ "${SHOTS_KEEP_TMP:-}" == 1 ]]; then
    say "kept $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

cat >"$tmp/tmux.conf" <<'EOF'
set -g status off
set -g remain-on-exit on
set -g history-limit 0
set -sg escape-time 0
set -g default-terminal "tmux-256color"
EOF

# --- binary -----------------------------------------------------------------------------------
if [[ -n "${RDSDECK_BIN:-}" ]]; then
  bin="$RDSDECK_BIN"
  [[ -x "$bin" ]] || die "RDSDECK_BIN=$bin is not an executable file"
else
  command -v cargo >/dev/null || die "cargo is not installed (or set RDSDECK_BIN)"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rdsdeck/target}"
  say "building (cargo build --release, target dir $CARGO_TARGET_DIR)"
  (cd "$root" && cargo build --release --quiet) || die "cargo build --release failed"
  bin="$CARGO_TARGET_DIR/release/rdsdeck"
  [[ -x "$bin" ]] || die "no binary at $bin after the build"
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

# --- sandbox ----------------------------------------------------------------------------------
venv="$("$root/sandbox/setup-venv")" || die "sandbox/setup-venv failed"
py="$venv/bin/python"
"$py" -c 'import PIL' 2>/dev/null || die "Pillow is missing from $venv (rerun sandbox/setup-venv)"

# A fixed port keeps the header's "endpoint http://127.0.0.1:PORT" the same from run to run.
if ! "$py" - "$moto_port" <<'PY' 2>/dev/null; then
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
PY
  say "port $moto_port is taken: moto gets a free port (the header's endpoint will differ)"
  moto_port=0
fi

say "starting the sandbox"
mkfifo "$tmp/lifeline"
(
  # the user's AWS profile/config must not leak into the seeding
  for v in $(compgen -e | grep '^AWS_'); do unset "$v"; done
  cd "$root" && exec "$py" sandbox/sandbox.py up --stdin-lifeline --port "$moto_port" --env-file "$tmp/env"
) \
  <"$tmp/lifeline" >"$tmp/sandbox.out" 2>"$tmp/sandbox.err" &
sandbox_pid=$!
exec {lifeline}>"$tmp/lifeline"

deadline=$((SECONDS + sandbox_timeout))
until grep -q '^READY ' "$tmp/sandbox.out" 2>/dev/null; do
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    wait "$sandbox_pid" 2>/dev/null && st=0 || st=$?
    sandbox_pid=""
    die "the sandbox exited (status $st) before printing READY. Its stderr:
$(sed 's/^/  | /' "$tmp/sandbox.err")"
  fi
  (( SECONDS < deadline )) || die "the sandbox did not print READY within ${sandbox_timeout}s. Its stderr:
$(tail -n 30 "$tmp/sandbox.err" | sed 's/^/  | /')"
  sleep 0.2
done
envfile="$(sed -n 's/^READY //p' "$tmp/sandbox.out" | head -n 1)"
[[ -f "$envfile" ]] || die "sandbox said READY $envfile, but there is no such file"
say "sandbox ready ($envfile)"

# Runs inside tmux: only the sandbox's AWS_*/RDSDECK_* variables, private XDG dirs, no AWS
# config or profile from the user's HOME.
cat >"$tmp/run-app.sh" <<EOF
#!/usr/bin/env bash
xdg="\$1"; shift
for v in \$(compgen -e | grep -E '^(AWS_|RDSDECK_)'); do unset "\$v"; done
unset NO_COLOR
set -a; . $(printf '%q' "$envfile"); set +a
export AWS_CONFIG_FILE="\$xdg/aws-config" AWS_SHARED_CREDENTIALS_FILE="\$xdg/aws-credentials"
export XDG_CONFIG_HOME="\$xdg/config" XDG_STATE_HOME="\$xdg/state" XDG_CACHE_HOME="\$xdg/cache" XDG_DATA_HOME="\$xdg/data"
export TERM=xterm-256color COLORTERM=truecolor LANG=C.UTF-8 LC_ALL=C.UTF-8
exec $(printf '%q' "$bin") "\$@"
EOF
chmod +x "$tmp/run-app.sh"

# --- shot machinery ---------------------------------------------------------------------------
cur=""        # name of the running shot
cur_xdg=""    # its XDG dir

screen() { tm capture-pane -p -t app "$@" 2>/dev/null; }

app_dead() { [[ "$(tm display-message -p -t app '#{pane_dead}' 2>/dev/null)" == 1 ]]; }

show_failure() {
  # $1: message. Prints it, the last screen and the tail of any app log.
  local msg="$1" s
  say "shot '$cur': $msg"
  s="$(screen)" || s="(no screen: the tmux session is gone)"
  {
    printf '  last screen (%sx%s):\n' "$cols" "$rows"
    printf '%s\n' "$s" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' | sed 's/^/  | /'
    local f
    while IFS= read -r f; do
      printf '  %s (last 20 lines):\n' "${f#"$cur_xdg"/}"
      tail -n 20 "$f" | sed 's/^/  | /'
    done < <(find "$cur_xdg" -type f -name '*.log*' 2>/dev/null | sort)
  } >&2
}

# wait_text TEXT: until TEXT is on screen; fails (with the screen) on timeout or if the app exits.
wait_text() {
  local text="$1" deadline=$((SECONDS + shot_timeout))
  while :; do
    [[ "$(screen)" == *"$text"* ]] && return 0
    if app_dead; then
      show_failure "rdsdeck exited (status $(tm display-message -p -t app '#{pane_dead_status}' 2>/dev/null)) while waiting for the text '$text'"
      return 1
    fi
    if (( SECONDS >= deadline )); then
      show_failure "timed out after ${shot_timeout}s waiting for the text '$text'"
      return 1
    fi
    sleep 0.2
  done
}

# settle: until two captures 0.4s apart are identical (at most 6s; spinners may never settle).
settle() {
  local a b i
  a="$(screen -e -N)"
  for ((i = 0; i < 15; i++)); do
    sleep 0.4
    b="$(screen -e -N)"
    [[ "$a" == "$b" ]] && return 0
    a="$b"
  done
  say "shot '$cur': screen still changing after 6s; capturing anyway"
}

send_key() {
  local k="$1"
  case "$k" in
    wait:*) wait_text "${k#wait:}" || return 1; return 0 ;;
    sleep:*) sleep "${k#sleep:}"; return 0 ;;
    type:*) tm send-keys -t app -l -- "${k#type:}" ;;
    Esc|Escape)
      # rdsdeck reads Escape followed quickly by another key as Alt+key: leave a gap.
      tm send-keys -t app Escape; sleep 0.3 ;;
    Enter|Tab|BTab|Space|BSpace|Up|Down|Left|Right|Home|End|PageUp|PageDown|PPage|NPage|IC|DC|F[0-9]|F1[0-2]|[CMS]-?*|?)
      tm send-keys -t app -- "$k" ;;
    *) tm send-keys -t app -l -- "$k" ;;
  esac
  sleep "$key_delay"
}

failed=()
done_shots=()

# shot NAME KEYS... WAITFOR   (see the top of this file)
shot() {
  (( $# >= 2 )) || die "shot needs at least NAME and WAITFOR (got: $*)"
  local name="$1"; shift
  local waitfor="${!#}"
  local keys=("${@:1:$#-1}")
  if (( ${#selected[@]} )) && [[ " ${selected[*]} " != *" $name "* ]]; then
    return 0
  fi
  cur="$name"
  cur_xdg="$tmp/xdg-$name"
  mkdir -p "$cur_xdg"/{config,state,cache,data}
  : >"$cur_xdg/aws-config"; : >"$cur_xdg/aws-credentials"
  local -a app_args=()
  read -r -a app_args <<<"${SHOT_ARGS:-}"
  say "shot $name${SHOT_ARGS:+ (rdsdeck ${SHOT_ARGS})}${SHOT_BREAK:+ (sandbox broken: $SHOT_BREAK)}"
  if [[ -n "${SHOT_BREAK:-}" ]]; then
    (cd "$root" && "$py" sandbox/sandbox.py break "$SHOT_BREAK" --env-file "$tmp/env" >&2) \
      || { say "shot '$name': could not break $SHOT_BREAK"; failed+=("$name"); return 0; }
  fi
  tm kill-session -t app >/dev/null 2>&1 || true
  tm new-session -d -s app -x "$cols" -y "$rows" -- "$tmp/run-app.sh" "$cur_xdg" "${app_args[@]}" \
    || { say "shot '$name': could not start tmux"; failed+=("$name"); return 0; }
  local size
  size="$(tm display-message -p -t app '#{pane_width}x#{pane_height}')"
  [[ "$size" == "${cols}x${rows}" ]] || say "shot '$name': warning: pane is $size, not ${cols}x${rows}"

  local ok=1 t k
  for t in "${ready_texts[@]}"; do
    wait_text "$t" || { ok=0; break; }
  done
  if (( ok )); then
    settle
    for k in "${keys[@]}"; do
      send_key "$k" || { ok=0; break; }
    done
  fi
  (( ok )) && { wait_text "$waitfor" || ok=0; }
  if (( ok )); then
    settle
    if app_dead; then
      show_failure "rdsdeck exited before the capture"
      ok=0
    fi
  fi
  if (( ok )); then
    screen -e -N >"$tmp/$name.ansi"
    if "$py" "$root/tools/ansi2png.py" "$tmp/$name.ansi" "$out_dir/$name.png" \
         --cols "$cols" --rows "$rows" --bg "${SHOT_BG:-$dark_bg}" --fg "${SHOT_FG:-$dark_fg}" --palette "${SHOT_PALETTE:-auto}"; then
      done_shots+=("$name")
      say "  wrote ${out_dir#"$root"/}/$name.png"
    else
      say "shot '$name': ansi2png failed"
      ok=0
    fi
  fi
  (( ok )) || failed+=("$name")
  tm send-keys -t app q >/dev/null 2>&1 || true
  sleep 0.2
  tm kill-session -t app >/dev/null 2>&1 || true
  if [[ -n "${SHOT_BREAK:-}" ]]; then
    (cd "$root" && "$py" sandbox/sandbox.py fix "$SHOT_BREAK" --env-file "$tmp/env" >&2) || say "shot '$name': could not fix $SHOT_BREAK"
  fi
  return 0
}

# source_hash NAME: the SHA-256 of the files that draw shot NAME (screenshots/sources.txt: the `*`
# line and NAME's line): for each file in byte order, its path, a newline, its bytes, a newline.
# tests/screenshots.rs computes the same and fails when it no longer matches screenshots/manifest.txt.
source_hash() {
  local name="$1" line key globs f
  local -a files=()
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    key="${line%%:*}"; globs="${line#*:}"
    [[ "$key" == "*" || "$key" == "$name" ]] || continue
    for f in $globs; do
      # shellcheck disable=SC2086
      for g in $root/$f; do [[ -f "$g" ]] && files+=("${g#"$root"/}"); done
    done
  done <"$root/screenshots/sources.txt"
  printf '%s\n' "${files[@]}" | LC_ALL=C sort -u | while IFS= read -r f; do
    printf '%s\n' "$f"; cat "$root/$f"; printf '\n'
  done | sha256sum | cut -d' ' -f1
}

# record_shot NAME: its line in screenshots/manifest.txt (other shots' lines are kept).
record_shot() {
  local manifest="$root/screenshots/manifest.txt" hash
  hash="$(source_hash "$1")"
  touch "$manifest"
  { grep -v "^$1 " "$manifest" || true; printf '%s %s\n' "$1" "$hash"; } | LC_ALL=C sort >"$manifest.new"
  mv "$manifest.new" "$manifest"
}

mkdir -p "$out_dir"
shots
if [[ "$(cd "$out_dir" && pwd)" == "$root/screenshots" ]]; then
  for n in "${done_shots[@]}"; do record_shot "$n"; done
fi

if (( ${#failed[@]} )); then
  say "done: ${#done_shots[@]} written, ${#failed[@]} FAILED: ${failed[*]}"
  exit 1
fi
say "done: ${#done_shots[@]} written (${done_shots[*]:-none})"

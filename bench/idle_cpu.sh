#!/usr/bin/env bash
# Idle CPU of the TUI: start rdsdeck (release) on the sandbox in tmux, wait until
# the stack is on screen, then read the process's CPU time (utime+stime from
# /proc) over a window with no input. A UI that redraws only on change should
# use ~0% between refreshes. Then the same with the pulse view open and
# following the logs (a CloudWatch read every 5 s, a redraw only when a log
# line is new).
#   bench/idle_cpu.sh [SECONDS=20] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
. bench/sandbox.sh
bench_setup idle_cpu "${2:-}"
bench_tui idle 120 36
for _ in $(seq 1 300); do tmux -L "$sock" capture-pane -p -t m | grep -q 'SSM parameters under' && break; sleep 0.1; done
sleep 1
pid=$(pgrep -P "$(tmux -L "$sock" display -p -t m '#{pane_pid}')" || tmux -L "$sock" display -p -t m '#{pane_pid}')
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
a=$(cpu); sleep "$secs"; b=$(cpu)
awk -v a="$a" -v b="$b" -v t="$tick" -v s="$secs" -v r="$(rss)" 'BEGIN {
  printf "idle %ss: cpu %.2fs = %.3f%% of one core; RSS %.1f MiB\n", s, (b-a)/t, 100*(b-a)/t/s, r/1024 }'
# The pulse view, following: polls CloudWatch Logs every 5 s; nothing new, nothing drawn.
tmux -L "$sock" send-keys -t m p
for _ in $(seq 1 300); do tmux -L "$sock" capture-pane -p -t m | grep -q 'logs · ' && break; sleep 0.1; done
sleep 2
a=$(cpu); sleep "$secs"; b=$(cpu)
awk -v a="$a" -v b="$b" -v t="$tick" -v s="$secs" -v r="$(rss)" 'BEGIN {
  printf "pulse view following %ss: cpu %.2fs = %.3f%% of one core; RSS %.1f MiB\n", s, (b-a)/t, 100*(b-a)/t/s, r/1024 }'

#!/usr/bin/env python3
"""How much the tour asks a newcomer to read, and how long that takes at fixed rates.

Walks the whole tour on a private sandbox in a real terminal (tmux, 80x24 by default), pressing
only the keys the screen names, and counts the words of every screen as a learner meets them: the
contents, each step's text, each step's result (scrolled to its end). Then prices them:

    prose at 200 words a minute, results at 120 (they are dense: names, numbers, ARNs),
    every key press at 1 s (knows where it is) and at 5 s (looks for it), a page scrolled counted as one,
    plus the time rdsdeck itself took for each step's action (measured here).

Thinking time is not in it: that is what a trial with a person (or a simulated newcomer) adds.

    V=$(sandbox/setup-venv | tail -n 1)
    $V/bin/python bench/tour_reading.py [BINARY] [--size 80x24] [--json out.json] [-v]

BINARY defaults to $CARGO_TARGET_DIR/debug/rdsdeck (the tour's pace does not depend on the build).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROSE_WPM, RESULT_WPM = 200, 120
HEADER = re.compile(r"Tour · (\d+)/(\d+) (.*?) · step (\d+)/(\d+)")
PRESS = re.compile(r"Press (\S) to ([^.(]+?)[.(]")
SPINNER = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \d")


def words(lines):
    """Words a reader reads: tokens with a letter or a digit (box drawing and arrows are not)."""
    return sum(1 for line in lines for tok in line.split() if any(c.isalnum() for c in tok))


class Term:
    def __init__(self, sock, tmp):
        self.sock, self.tmp = sock, tmp

    def tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, check=check)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "m").stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "m", *keys)

    def settled(self, pred, what, timeout=90):
        """As wait, and the screen the same 0.3 s later (a capture can catch a frame half drawn).
        Also how long the first match took (the settling is not the app's time)."""
        start = time.monotonic()
        took = None
        while True:
            s = self.wait(pred, what, timeout)
            took = took if took is not None else time.monotonic() - start
            time.sleep(0.3)
            if self.screen() == s:
                return s, took

    def wait(self, pred, what, timeout=90):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.05)
        sys.exit(f"tour_reading: waited {timeout} s for {what}; the screen was:\n{self.screen()}")


def box(screen):
    """The tour box's rows, their borders cut: (text rows, divider row, result rows)."""
    rows = screen.splitlines()
    top = next((i for i, r in enumerate(rows) if "┌ Tour" in r), None)
    bottom = next((i for i in range(top + 1, len(rows)) if rows[i].startswith("└")), None) if top is not None else None
    if bottom is None:
        sys.exit(f"tour_reading: no tour box on the screen:\n{screen}")
    inner = [r[1:-1] if r.endswith("│") else r[1:] for r in rows[top + 1:bottom]]
    div = next((i for i, r in enumerate(inner) if "what rdsdeck did" in r), None)
    buttons = max((i for i, r in enumerate(inner) if r.startswith("[")), default=None)
    if buttons is None:
        sys.exit(f"tour_reading: no buttons row in the tour box:\n{screen}")
    if div is None:
        return inner[:buttons], "", []
    return inner[:div], inner[div], inner[div + 1:buttons]


def result_rows(t, screen):
    """The whole result, scrolled down a line at a time while the frame says there is more; and
    how many pages a reader scrolls to see it (PgDn moves a page less a line)."""
    text, div, rows = box(screen)
    rows = [r.rstrip() for r in rows]
    visible = len(rows)
    seen = screen
    # The frame says " ↓ more below ", " ↑ ↓ more " or " ↑ more above ".
    more = lambda div: "more below" in div or (" more " in div and "more above" not in div)
    for _ in range(400):
        if not more(div):
            break
        t.keys("Down")
        before = seen
        seen, _ = t.settled(lambda s: s != before, "the result to scroll", timeout=5)
        _, div, now = box(seen)
        rows.append(now[-1].rstrip())
    extra = len(rows) - visible
    # A step with nothing to run says so in the result's place: that is not a result.
    rows = [r for r in rows if not r.startswith("Nothing to run here")]
    while rows and not rows[-1].strip():
        rows.pop()
    return rows, -(-extra // max(1, visible - 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.expanduser("~"), ".cache/rdsdeck/target"))
    ap.add_argument("binary", nargs="?", default=os.path.join(target, "debug", "rdsdeck"))
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--json")
    ap.add_argument("-v", action="store_true", help="print every screen's counted text")
    a = ap.parse_args()
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"tour_reading: no binary at {a.binary}: build it (cargo build) or name it")
    if not shutil.which("tmux"):
        sys.exit("tour_reading: tmux is needed (apt-get install tmux)")
    w, h = a.size.split("x")
    if int(w) >= 120:
        sys.exit("tour_reading: at 120 columns or more the tour puts text and result side by side; measure below 120")
    tmp = tempfile.mkdtemp(prefix="tour-reading-")
    sock = f"tour-reading-{os.getpid()}"
    t = Term(sock, tmp)
    env = {"PATH": os.environ["PATH"], "HOME": tmp, "TERM": "xterm-256color",
           "XDG_CONFIG_HOME": f"{tmp}/c", "XDG_STATE_HOME": f"{tmp}/s"}
    cmd = [sys.executable, os.path.join(ROOT, "sandbox", "sandbox.py"), "run", "--env-file", f"{tmp}/env", "--", a.binary, "tour"]
    envs = " ".join(f"{k}={v}" for k, v in env.items())
    t.tmux("-f", "/dev/null", "new-session", "-d", "-s", "m", "-x", w, "-y", h, f"env -i {envs} {' '.join(cmd)}")
    steps = []
    try:
        # The contents, once the stack is read (the steps' texts name its parts).
        s = t.wait(lambda s: "[→ start]" in s and "Hosts 1" in s, "the contents", timeout=180)
        text, _, _ = box(s)
        contents = words(text)
        t.keys("Right")
        ready = lambda s: HEADER.search(s) and ("Press " in s or "Nothing to run here" in s)
        s, _ = t.settled(ready, "the first step")
        while True:
            m = HEADER.search(s)
            where = f"{m.group(1)}.{m.group(4)}"
            text, div, _ = box(s)
            step = {"step": where, "title": text[0].strip() if text else "", "prose": words(text), "keys": 1, "action_s": 0.0}
            press = PRESS.search(s)
            if press:
                key, verb = press.group(1), press.group(2).strip()
                t.keys(key)
                s, took = t.settled(lambda s: f"Press {key} to" not in s and f"{verb}…" not in s and not SPINNER.search(s), f"the step `{verb}`")
                step["action_s"] = round(took, 2)
                step["keys"] += 1
            rows, pages = result_rows(t, s)
            step["result"] = words(rows)
            step["keys"] += pages
            if a.v:
                print(f"--- {where} {step['title']}\n" + "\n".join(r.rstrip() for r in text) + "\n  ...\n" + "\n".join(rows), file=sys.stderr)
            steps.append(step)
            before = s
            t.keys("Right")
            s, _ = t.settled(lambda s: "Tour complete" in s or (ready(s) and HEADER.search(s).group(0) != m.group(0)), "the next step")
            if "Tour complete" in s and not HEADER.search(s):
                break
        t.keys("Escape")
        time.sleep(0.5)
        t.keys("q")
    finally:
        t.tmux("kill-server", check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    prose = contents + sum(s["prose"] for s in steps)
    result = sum(s["result"] for s in steps)
    action = sum(s["action_s"] for s in steps)
    presses = 1 + sum(s["keys"] for s in steps)
    reading = prose / PROSE_WPM + result / RESULT_WPM
    fast, slow = reading + (presses * 1 + action) / 60, reading + (presses * 5 + action) / 60
    print(f"{'step':<5} {'title':<42} {'prose':>5} {'result':>6} {'keys':>4} {'action':>6}")
    for s in steps:
        print(f"{s['step']:<5} {s['title'][:42]:<42} {s['prose']:>5} {s['result']:>6} {s['keys']:>4} {s['action_s']:>5.1f}s")
    print(f"contents: {contents} words · {len(steps)} steps · {prose} words of prose, {result} of results, {presses} key presses, {action:.0f} s of actions")
    print(f"reading time at {PROSE_WPM}/{RESULT_WPM} wpm: {reading:.1f} min; with keys at 1 s: {fast:.1f} min, at 5 s: {slow:.1f} min (thinking not included)")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump({"size": a.size, "contents_words": contents, "steps": steps, "prose_words": prose, "result_words": result,
                       "key_presses": presses, "action_s": action, "minutes_reading": reading, "minutes_1s": fast, "minutes_5s": slow}, fh, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Render `tmux capture-pane -p -e -N` output (text + ANSI SGR escapes) as a terminal-like PNG.

    ansi2png.py INPUT.ansi OUTPUT.png [--cols N --rows N] [--font-size 14]
                [--bg #1e1e2e] [--fg #cdd6f4] [--padding 12] [--palette auto|dark|light|xterm]

INPUT may be `-` for stdin. Without --cols/--rows the grid is sized to the input; with them it
is padded (or clipped) to exactly that many cells. Capture with `-N` so that trailing spaces that
carry a background colour are kept.

Understood: SGR 0/1/2/3/4 (incl. 4:N)/7/8/9/21/22/23/24/27/28/29/53/55, 30-37/90-97/40-47/100-107,
38/48/58 with `5;N`, `2;R;G;B` and their colon forms, 39/49/59. Other escape sequences
(CSI, OSC, charset designators) are skipped. East Asian wide/fullwidth characters take two
cells; combining marks join the previous cell.

Box drawing (U+2500-257F), block elements (U+2580-259F) and braille (U+2800-28FF) are drawn
as shapes so that they fill the cell and connect with their neighbours. Everything else comes
from DejaVu Sans Mono (regular/bold/oblique), then DejaVu Sans (scaled down to fit) as a
fallback. Requires Pillow. Output is deterministic: same input and options -> same bytes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
from functools import lru_cache

try:
    from PIL import Image, ImageDraw, ImageFont
except ImportError:  # pragma: no cover
    sys.exit(
        "ansi2png: Pillow is not installed for this python ({}).\n"
        "  Run it with the sandbox venv: $(sandbox/setup-venv)/bin/python tools/ansi2png.py ...".format(
            sys.executable
        )
    )

FONT_DIRS = [
    os.environ.get("ANSI2PNG_FONT_DIR", ""),
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/opentype/unifont",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    os.path.expanduser("~/.local/share/fonts"),
    os.path.expanduser("~/Library/Fonts"),
]


def find_font(name: str, required: bool) -> str | None:
    for d in FONT_DIRS:
        if d:
            p = os.path.join(d, name)
            if os.path.isfile(p):
                return p
    if required:
        sys.exit(
            f"ansi2png: font {name} not found (looked in: {', '.join(d for d in FONT_DIRS if d)}).\n"
            "  Install DejaVu fonts (Debian/Ubuntu: apt-get install fonts-dejavu-core) "
            "or set ANSI2PNG_FONT_DIR to the folder holding DejaVuSansMono.ttf."
        )
    return None


# ---------------------------------------------------------------------------------------------
# Colours

# 16-colour palettes (Catppuccin Mocha for dark backgrounds, Latte for light ones).
ANSI16 = {
    "dark": [
        "#45475a", "#f38ba8", "#a6e3a1", "#f9e2af", "#89b4fa", "#f5c2e7", "#94e2d5", "#bac2de",
        "#585b70", "#f38ba8", "#a6e3a1", "#f9e2af", "#89b4fa", "#f5c2e7", "#94e2d5", "#a6adc8",
    ],
    "light": [
        "#5c5f77", "#d20f39", "#40a02b", "#df8e1d", "#1e66f5", "#ea76cb", "#179299", "#acb0be",
        "#6c6f85", "#d20f39", "#40a02b", "#df8e1d", "#1e66f5", "#ea76cb", "#179299", "#bcc0cc",
    ],
    # xterm's defaults: pure black and white, for themes that name plain colours on purpose.
    "xterm": [
        "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
        "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
    ],
}


def hex_rgb(s: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"#?([0-9a-fA-F]{6})", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a #rrggbb colour: {s!r}")
    v = int(m.group(1), 16)
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


def palette256(kind: str) -> list[tuple[int, int, int]]:
    pal = [hex_rgb(c) for c in ANSI16[kind]]
    steps = [0, 95, 135, 175, 215, 255]
    for r in steps:
        for g in steps:
            for b in steps:
                pal.append((r, g, b))
    for i in range(24):
        v = 8 + 10 * i
        pal.append((v, v, v))
    return pal


PALETTE = palette256("dark")


def blend(a, b, t: float):
    """a*(1-t) + b*t"""
    return tuple(int(round(x * (1 - t) + y * t)) for x, y in zip(a, b))


# ---------------------------------------------------------------------------------------------
# Parsing

class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse", "hidden", "strike",
                 "overline", "ulcolor")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None = default, int = palette index, tuple = rgb
        self.bg = None
        self.bold = self.dim = self.italic = self.reverse = self.hidden = False
        self.strike = self.overline = False
        self.underline = 0  # 0 none, 1 single, 2 double, 3 curly, 4 dotted, 5 dashed
        self.ulcolor = None

    def key(self):
        return (self.fg, self.bg, self.bold, self.dim, self.italic, self.underline, self.reverse,
                self.hidden, self.strike, self.overline, self.ulcolor)


def parse_ext_colour(params: list[list[str]], i: int):
    """Parse 38/48/58 colour starting at params[i]. Returns (colour, next_index)."""
    head = params[i]
    if len(head) > 1:  # colon form: 38:5:N or 38:2:[cs]:R:G:B
        sub = head[1:]
        try:
            if sub[0] == "5":
                return int(sub[1]) & 255, i + 1
            if sub[0] == "2":
                rgb = sub[1:]
                if len(rgb) >= 4:  # colour-space id present
                    rgb = rgb[1:]
                r, g, b = (int(x or 0) & 255 for x in rgb[:3])
                return (r, g, b), i + 1
        except (ValueError, IndexError):
            pass
        return None, i + 1
    flat = lambda k: params[k][0] if k < len(params) else ""
    kind = flat(i + 1)
    try:
        if kind == "5":
            return int(flat(i + 2) or 0) & 255, i + 3
        if kind == "2":
            r, g, b = (int(flat(i + k) or 0) & 255 for k in (2, 3, 4))
            return (r, g, b), i + 5
    except ValueError:
        pass
    return None, i + 2


def apply_sgr(st: Style, arg: str):
    params = [p.split(":") for p in arg.split(";")] if arg else [["0"]]
    i = 0
    while i < len(params):
        p = params[i]
        try:
            n = int(p[0]) if p[0] else 0
        except ValueError:
            i += 1
            continue
        if n == 0:
            st.reset()
        elif n == 1:
            st.bold = True
        elif n == 2:
            st.dim = True
        elif n == 3:
            st.italic = True
        elif n == 4:
            if len(p) > 1:
                try:
                    st.underline = min(int(p[1] or 0), 5)
                except ValueError:
                    st.underline = 1
            else:
                st.underline = 1
        elif n == 7:
            st.reverse = True
        elif n == 8:
            st.hidden = True
        elif n == 9:
            st.strike = True
        elif n == 21:
            st.underline = 2
        elif n == 22:
            st.bold = st.dim = False
        elif n == 23:
            st.italic = False
        elif n == 24:
            st.underline = 0
        elif n == 27:
            st.reverse = False
        elif n == 28:
            st.hidden = False
        elif n == 29:
            st.strike = False
        elif 30 <= n <= 37:
            st.fg = n - 30
        elif n == 38:
            c, i = parse_ext_colour(params, i)
            if c is not None:
                st.fg = c
            continue
        elif n == 39:
            st.fg = None
        elif 40 <= n <= 47:
            st.bg = n - 40
        elif n == 48:
            c, i = parse_ext_colour(params, i)
            if c is not None:
                st.bg = c
            continue
        elif n == 49:
            st.bg = None
        elif n == 53:
            st.overline = True
        elif n == 55:
            st.overline = False
        elif n == 58:
            c, i = parse_ext_colour(params, i)
            if c is not None:
                st.ulcolor = c
            continue
        elif n == 59:
            st.ulcolor = None
        elif 90 <= n <= 97:
            st.fg = n - 90 + 8
        elif 100 <= n <= 107:
            st.bg = n - 100 + 8
        i += 1


def char_width(ch: str) -> int:
    o = ord(ch)
    if o < 32 or 0x7F <= o < 0xA0:
        return 0
    if unicodedata.combining(ch) or o in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF) \
            or 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF:
        return 0
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


ESC_RE = re.compile(
    r"\x1b\[([0-9;:?<=>]*)([ -/]*)([@-~])"      # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"     # OSC
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"          # DCS/SOS/PM/APC
    r"|\x1b[()*+\-./][ -~]?"                   # charset designation
    r"|\x1b[ -/]*[0-~]?"                       # any other ESC sequence
)


def parse(text: str):
    """Returns rows: list of list of cells; a cell is [text, style_key]; '' text = wide filler."""
    st = Style()
    rows: list[list[list]] = []
    row: list[list] = []
    if text.endswith("\n"):
        text = text[:-1]
    pos = 0
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == "\x1b":
            m = ESC_RE.match(text, pos)
            if m is None:
                pos += 1
                continue
            if m.group(3) == "m" and not m.group(2) and not (m.group(1) or "").startswith(("?", "<", "=", ">")):
                apply_sgr(st, m.group(1) or "")
            pos = m.end()
            continue
        pos += 1
        if ch == "\n":
            rows.append(row)
            row = []
            continue
        if ch == "\r":
            continue  # tmux never emits bare CR mid-line; treat CRLF as LF
        if ch == "\t":
            for _ in range(8 - len(row) % 8):
                row.append([" ", st.key()])
            continue
        w = char_width(ch)
        if w == 0:
            if row and ord(ch) >= 32 and ch != "\x7f":
                k = len(row) - 1
                while k > 0 and row[k][0] == "":
                    k -= 1
                row[k][0] += ch
            continue
        row.append([ch, st.key()])
        if w == 2:
            row.append(["", st.key()])
    rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Box drawing, blocks, braille

SS = 4  # supersampling factor for drawn glyphs

# (up, right, down, left); 0 none, 1 light, 2 heavy, 3 double
BOX = {}


def _box_table():
    L, H, D = 1, 2, 3
    t = {
        0x2500: (0, L, 0, L), 0x2501: (0, H, 0, H), 0x2502: (L, 0, L, 0), 0x2503: (H, 0, H, 0),
        0x250C: (0, L, L, 0), 0x250D: (0, H, L, 0), 0x250E: (0, L, H, 0), 0x250F: (0, H, H, 0),
        0x2510: (0, 0, L, L), 0x2511: (0, 0, L, H), 0x2512: (0, 0, H, L), 0x2513: (0, 0, H, H),
        0x2514: (L, L, 0, 0), 0x2515: (L, H, 0, 0), 0x2516: (H, L, 0, 0), 0x2517: (H, H, 0, 0),
        0x2518: (L, 0, 0, L), 0x2519: (L, 0, 0, H), 0x251A: (H, 0, 0, L), 0x251B: (H, 0, 0, H),
        0x251C: (L, L, L, 0), 0x251D: (L, H, L, 0), 0x251E: (H, L, L, 0), 0x251F: (L, L, H, 0),
        0x2520: (H, L, H, 0), 0x2521: (H, H, L, 0), 0x2522: (L, H, H, 0), 0x2523: (H, H, H, 0),
        0x2524: (L, 0, L, L), 0x2525: (L, 0, L, H), 0x2526: (H, 0, L, L), 0x2527: (L, 0, H, L),
        0x2528: (H, 0, H, L), 0x2529: (H, 0, L, H), 0x252A: (L, 0, H, H), 0x252B: (H, 0, H, H),
        0x252C: (0, L, L, L), 0x252D: (0, L, L, H), 0x252E: (0, H, L, L), 0x252F: (0, H, L, H),
        0x2530: (0, L, H, L), 0x2531: (0, L, H, H), 0x2532: (0, H, H, L), 0x2533: (0, H, H, H),
        0x2534: (L, L, 0, L), 0x2535: (L, L, 0, H), 0x2536: (L, H, 0, L), 0x2537: (L, H, 0, H),
        0x2538: (H, L, 0, L), 0x2539: (H, L, 0, H), 0x253A: (H, H, 0, L), 0x253B: (H, H, 0, H),
        0x253C: (L, L, L, L), 0x253D: (L, L, L, H), 0x253E: (L, H, L, L), 0x253F: (L, H, L, H),
        0x2540: (H, L, L, L), 0x2541: (L, L, H, L), 0x2542: (H, L, H, L), 0x2543: (H, L, L, H),
        0x2544: (H, H, L, L), 0x2545: (L, L, H, H), 0x2546: (L, H, H, L), 0x2547: (H, H, L, H),
        0x2548: (L, H, H, H), 0x2549: (H, L, H, H), 0x254A: (H, H, H, L), 0x254B: (H, H, H, H),
        0x2550: (0, D, 0, D), 0x2551: (D, 0, D, 0),
        0x2552: (0, D, L, 0), 0x2553: (0, L, D, 0), 0x2554: (0, D, D, 0),
        0x2555: (0, 0, L, D), 0x2556: (0, 0, D, L), 0x2557: (0, 0, D, D),
        0x2558: (L, D, 0, 0), 0x2559: (D, L, 0, 0), 0x255A: (D, D, 0, 0),
        0x255B: (L, 0, 0, D), 0x255C: (D, 0, 0, L), 0x255D: (D, 0, 0, D),
        0x255E: (L, D, L, 0), 0x255F: (D, L, D, 0), 0x2560: (D, D, D, 0),
        0x2561: (L, 0, L, D), 0x2562: (D, 0, D, L), 0x2563: (D, 0, D, D),
        0x2564: (0, D, L, D), 0x2565: (0, L, D, L), 0x2566: (0, D, D, D),
        0x2567: (L, D, 0, D), 0x2568: (D, L, 0, L), 0x2569: (D, D, 0, D),
        0x256A: (L, D, L, D), 0x256B: (D, L, D, L), 0x256C: (D, D, D, D),
        0x2574: (0, 0, 0, L), 0x2575: (L, 0, 0, 0), 0x2576: (0, L, 0, 0), 0x2577: (0, 0, L, 0),
        0x2578: (0, 0, 0, H), 0x2579: (H, 0, 0, 0), 0x257A: (0, H, 0, 0), 0x257B: (0, 0, H, 0),
        0x257C: (0, H, 0, L), 0x257D: (L, 0, H, 0), 0x257E: (0, L, 0, H), 0x257F: (H, 0, L, 0),
    }
    BOX.update(t)


_box_table()

# dashed lines: code -> (horizontal?, heavy?, number of dashes)
DASHES = {
    0x2504: (True, False, 3), 0x2505: (True, True, 3), 0x2506: (False, False, 3), 0x2507: (False, True, 3),
    0x2508: (True, False, 4), 0x2509: (True, True, 4), 0x250A: (False, False, 4), 0x250B: (False, True, 4),
    0x254C: (True, False, 2), 0x254D: (True, True, 2), 0x254E: (False, False, 2), 0x254F: (False, True, 2),
}

ARCS = {0x256D: "dr", 0x256E: "dl", 0x256F: "ul", 0x2570: "ur"}


def is_drawn(ch: str) -> bool:
    if len(ch) != 1:
        return False
    o = ord(ch)
    return 0x2500 <= o <= 0x259F or 0x2800 <= o <= 0x28FF


@lru_cache(maxsize=None)
def drawn_mask(ch: str, w: int, h: int) -> Image.Image:
    """An 'L' mask of size (w, h) for a box/block/braille character."""
    o = ord(ch)
    W, H = w * SS, h * SS
    m = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(m)
    # stroke widths and the gap between the rails of a double line, in output pixels
    light_px = max(1, round(w / 8))
    heavy_px = max(light_px + 1, round(w / 4))
    gap_px = max(1, w // 4)
    if gap_px % 2 != light_px % 2:
        gap_px += 1  # same parity as a light line, so both are centred alike
    cx = (w // 2) * SS  # centre lines, aligned to whole output pixels
    cy = (h // 2) * SS

    def split(t_px):
        """extent (before, after) of a line of t_px pixels around the centre line"""
        return (t_px // 2) * SS, (t_px - t_px // 2) * SS

    def rect(x0, y0, x1, y1, v=255):
        if x1 > x0 and y1 > y0:
            d.rectangle([x0, y0, x1 - 1, y1 - 1], fill=v)

    def rect_yx(y0, y1, x0, x1, v=255):
        rect(x0, y0, x1, y1, v)

    la, lb = split(light_px)
    if o in BOX:
        arms = dict(zip("urdl", BOX[o]))
        ia, ib = split(gap_px)               # hollow of a double line
        oa, ob = ia + light_px * SS, ib + light_px * SS  # outside of a double line
        ext = {0: (0, 0), 1: (la, lb), 2: split(heavy_px), 3: (oa, ob)}

        def reach(dirs, own):
            """how far an arm runs past the centre: to the far side of the crossing arms"""
            ws = [arms[k] for k in dirs if arms[k]]
            if not ws:
                return own
            return max(ext[k][0] for k in ws), max(ext[k][1] for k in ws)

        def band(dn, a, b, before, after, v=255):
            if dn == "l":
                rect(0, cy - a, cx + after, cy + b, v)
            elif dn == "r":
                rect(cx - before, cy - a, W, cy + b, v)
            elif dn == "u":
                rect(cx - a, 0, cx + b, cy + after, v)
            else:
                rect(cx - a, cy - before, cx + b, H, v)

        def perp(dn):
            return "ud" if dn in "lr" else "lr"

        # double lines first: a solid band, then hollowed out, so the joins come out right
        for dn in "urdl":
            if arms[dn] == 3:
                before, after = reach(perp(dn), (oa, ob))
                band(dn, oa, ob, before, after)
        for dn in "urdl":
            if arms[dn] == 3:
                band(dn, ia, ib, ia, ib, 0)
        for dn in "urdl":
            if arms[dn] in (1, 2):
                a, b = ext[arms[dn]]
                before, after = reach(perp(dn), (a, b))
                band(dn, a, b, before, after)
    elif o in DASHES:
        horiz, hv, n = DASHES[o]
        a, b = split(heavy_px if hv else light_px)
        span = W if horiz else H
        unit = SS
        for k in range(n):
            s0 = round((k * span / n + span / n * 0.15) / unit) * unit
            s1 = round(((k + 1) * span / n - span / n * 0.15) / unit) * unit
            if horiz:
                rect(s0, cy - a, s1, cy + b)
            else:
                rect(cx - a, s0, cx + b, s1)
    elif o in ARCS:
        kind = ARCS[o]
        t = light_px * SS
        lx, ly = cx - la + t / 2, cy - la + t / 2  # centre of the stroke
        r = min(W - lx, H - ly, lx, ly)
        ox = lx + (r if "r" in kind else -r)
        oy = ly + (r if "d" in kind else -r)
        if "r" in kind:
            rect(int(ox), cy - la, W, cy + lb)
        else:
            rect(0, cy - la, int(round(ox)), cy + lb)
        if "d" in kind:
            rect(cx - la, int(oy), cx + lb, H)
        else:
            rect(cx - la, 0, cx + lb, int(round(oy)))
        start = {"dr": 180, "dl": 270, "ul": 0, "ur": 90}[kind]
        R = r + t / 2
        d.arc([ox - R, oy - R, ox + R, oy + R], start, start + 90, fill=255, width=t)
    elif 0x2571 <= o <= 0x2573:
        if o in (0x2571, 0x2573):
            d.line([(0, H), (W, 0)], fill=255, width=light_px * SS)
        if o in (0x2572, 0x2573):
            d.line([(0, 0), (W, H)], fill=255, width=light_px * SS)
    elif 0x2580 <= o <= 0x259F:
        e8w = lambda k: round(w * k / 8) * SS
        e8h = lambda k: round(h * k / 8) * SS
        hw, hh = (w // 2) * SS, (h // 2) * SS
        if o == 0x2580:
            rect_yx(0, hh, 0, W)
        elif 0x2581 <= o <= 0x2588:
            rect_yx(H - e8h(o - 0x2580), H, 0, W)
        elif 0x2589 <= o <= 0x258F:
            rect_yx(0, H, 0, e8w(0x2590 - o))
        elif o == 0x2590:
            rect_yx(0, H, hw, W)
        elif 0x2591 <= o <= 0x2593:
            rect_yx(0, H, 0, W, {0x2591: 64, 0x2592: 128, 0x2593: 192}[o])
        elif o == 0x2594:
            rect_yx(0, e8h(1), 0, W)
        elif o == 0x2595:
            rect_yx(0, H, W - e8w(1), W)
        else:
            # quadrants: bits UL=1 UR=2 LL=4 LR=8
            q = {0x2596: 4, 0x2597: 8, 0x2598: 1, 0x2599: 1 | 4 | 8, 0x259A: 1 | 8, 0x259B: 1 | 2 | 4,
                 0x259C: 1 | 2 | 8, 0x259D: 2, 0x259E: 2 | 4, 0x259F: 2 | 4 | 8}[o]
            if q & 1:
                rect_yx(0, hh, 0, hw)
            if q & 2:
                rect_yx(0, hh, hw, W)
            if q & 4:
                rect_yx(hh, H, 0, hw)
            if q & 8:
                rect_yx(hh, H, hw, W)
    elif 0x2800 <= o <= 0x28FF:
        bits = o - 0x2800
        dots = [(0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10), (1, 2, 0x20),
                (0, 3, 0x40), (1, 3, 0x80)]
        rad = max(w * SS * 0.12, SS * 0.9)
        for col, row, bit in dots:
            if bits & bit:
                x = W * (0.27 + 0.46 * col)
                y = H * (0.14 + 0.24 * row)
                d.ellipse([x - rad, y - rad, x + rad, y + rad], fill=255)
    return m.reduce(SS)


# ---------------------------------------------------------------------------------------------
# Fonts

class Fonts:
    def __init__(self, size: int):
        self.size = size
        basic = ImageFont.Layout.BASIC
        path = find_font("DejaVuSansMono.ttf", True)
        bold = find_font("DejaVuSansMono-Bold.ttf", True)
        obl = find_font("DejaVuSansMono-Oblique.ttf", False) or path
        boldobl = find_font("DejaVuSansMono-BoldOblique.ttf", False) or bold
        self.mono = {
            (False, False): ImageFont.truetype(path, size, layout_engine=basic),
            (True, False): ImageFont.truetype(bold, size, layout_engine=basic),
            (False, True): ImageFont.truetype(obl, size, layout_engine=basic),
            (True, True): ImageFont.truetype(boldobl, size, layout_engine=basic),
        }
        sans = find_font("DejaVuSans.ttf", False)
        sansb = find_font("DejaVuSans-Bold.ttf", False) or sans
        # Glyphs DejaVu lacks: CJK and the rest of the BMP from GNU Unifont, emoji and other
        # planes from Unifont Upper (Debian: fonts-unifont), when installed.
        wide = [find_font("unifont.otf", False), find_font("unifont_upper.otf", False)]
        self.fallback_paths = {False: [sans, *wide], True: [sansb, *wide]}
        f = self.mono[(False, False)]
        self.ascent, self.descent = f.getmetrics()
        self.cw = max(1, int(round(f.getlength("M"))))
        self.ch = self.ascent + self.descent
        self._notdef = {}

    def _missing(self, font, ch: str) -> bool:
        key = id(font)
        if key not in self._notdef:
            m = font.getmask("\U0010FFFD")
            self._notdef[key] = (m.size, bytes(m))
        m = font.getmask(ch)
        return (m.size, bytes(m)) == self._notdef[key]

    @lru_cache(maxsize=None)
    def pick(self, text: str, bold: bool, italic: bool, cells: int):
        """Returns (font, x_offset) for drawing `text` into `cells` cells."""
        mono = self.mono[(bold, italic)]
        base = text[0]
        if base == " " or not self._missing(mono, base):
            return mono, 0
        for p in self.fallback_paths[bold]:
            if not p:
                continue
            f = ImageFont.truetype(p, self.size, layout_engine=ImageFont.Layout.BASIC)
            if not self._missing(f, base):
                avail = self.cw * cells
                adv = f.getlength(text)
                size = self.size
                while adv > avail and size > 6:
                    size -= 1
                    f = ImageFont.truetype(p, size, layout_engine=ImageFont.Layout.BASIC)
                    adv = f.getlength(text)
                return f, int((avail - adv) // 2)
        return mono, 0


# ---------------------------------------------------------------------------------------------
# Rendering

def resolve(c, default):
    if c is None:
        return default
    if isinstance(c, int):
        return PALETTE[c]
    return c


def render(rows, cols: int, nrows: int, fonts: Fonts, fg, bg, padding: int) -> Image.Image:
    cw, chh = fonts.cw, fonts.ch
    img = Image.new("RGB", (cols * cw + 2 * padding, nrows * chh + 2 * padding), bg)
    draw = ImageDraw.Draw(img)
    cells = []  # (x, y, ncells, text, fg, bg, style)
    for r in range(nrows):
        row = rows[r] if r < len(rows) else []
        c = 0
        while c < cols:
            if c < len(row):
                text, key = row[c]
            else:
                text, key = " ", None
            if text == "":  # stray filler (wide char cut off) -> blank
                text = " "
            n = 1
            if c + 1 < cols and c + 1 < len(row) and row[c + 1][0] == "":
                n = 2
            elif char_width(text[0]) == 2:
                text = " "  # wide char with no room: blank, like a terminal would
            if key is None:
                f, b = fg, bg
                st = None
            else:
                (kfg, kbg, bold, dim, italic, ul, rev, hidden, strike, over, ulc) = key
                f, b = resolve(kfg, fg), resolve(kbg, bg)
                if rev:
                    f, b = b, f
                if dim:
                    f = blend(f, b, 0.45)
                if hidden:
                    f = b
                st = (bold, italic, ul, strike, over, resolve(ulc, f) if ulc is not None else f)
            x = padding + c * cw
            y = padding + r * chh
            if b != bg:
                draw.rectangle([x, y, x + n * cw - 1, y + chh - 1], fill=b)
            cells.append((x, y, n, text, f, st))
            c += n
    for x, y, n, text, f, st in cells:
        bold, italic = (st[0], st[1]) if st else (False, False)
        if text != " ":
            if is_drawn(text[0]):
                img.paste(f, (x, y, x + cw, y + chh), drawn_mask(text[0], cw, chh))
                if len(text) > 1:
                    font, dx = fonts.pick(text[1:], bold, italic, n)
                    draw.text((x + dx, y + fonts.ascent), text[1:], font=font, fill=f, anchor="ls")
            else:
                font, dx = fonts.pick(text, bold, italic, n)
                draw.text((x + dx, y + fonts.ascent), text, font=font, fill=f, anchor="ls")
        if st:
            ul, strike, over, ulc = st[2], st[3], st[4], st[5]
            lw = max(1, fonts.size // 14)
            if ul:
                uy = y + fonts.ascent + max(1, fonts.descent // 3)
                if ul == 2:
                    draw.rectangle([x, uy, x + n * cw - 1, uy + lw - 1], fill=ulc)
                    draw.rectangle([x, uy + 2 * lw, x + n * cw - 1, uy + 3 * lw - 1], fill=ulc)
                elif ul in (4, 5):
                    step = 2 if ul == 4 else 4
                    for px in range(x, x + n * cw, step * 2):
                        draw.rectangle([px, uy, min(px + step - 1, x + n * cw - 1), uy + lw - 1], fill=ulc)
                elif ul == 3:
                    for px in range(x, x + n * cw):
                        dy = (0, 1, 1, 0)[(px - padding) % 4] * lw
                        draw.rectangle([px, uy + dy, px, uy + dy + lw - 1], fill=ulc)
                else:
                    draw.rectangle([x, uy, x + n * cw - 1, uy + lw - 1], fill=ulc)
            if strike:
                sy = y + fonts.ascent - int(fonts.size * 0.3)
                draw.rectangle([x, sy, x + n * cw - 1, sy + lw - 1], fill=f)
            if over:
                draw.rectangle([x, y, x + n * cw - 1, y + lw - 1], fill=f)
    return img


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Render `tmux capture-pane -p -e -N` output (ANSI SGR text) as a terminal-like PNG.")
    ap.add_argument("input", help="ANSI text file, or - for stdin")
    ap.add_argument("output", help="PNG file to write")
    ap.add_argument("--cols", type=int, help="grid width in cells (default: widest input line)")
    ap.add_argument("--rows", type=int, help="grid height in cells (default: number of input lines)")
    ap.add_argument("--font-size", type=int, default=14, help="font size in px (default 14)")
    ap.add_argument("--bg", type=hex_rgb, default=hex_rgb("#1e1e2e"), help="default background (#rrggbb)")
    ap.add_argument("--fg", type=hex_rgb, default=hex_rgb("#cdd6f4"), help="default foreground (#rrggbb)")
    ap.add_argument("--padding", type=int, default=12, help="margin around the grid in px (default 12)")
    ap.add_argument("--palette", choices=("auto", "dark", "light", "xterm"), default="auto",
                    help="colours 0-15: Catppuccin dark or light flavour, or xterm's plain ones "
                         "(default auto: dark or light from --bg's lightness)")
    a = ap.parse_args(argv)

    for name, v in (("--cols", a.cols), ("--rows", a.rows)):
        if v is not None and not (1 <= v <= 2000):
            ap.error(f"{name} must be between 1 and 2000")
    if not (6 <= a.font_size <= 96):
        ap.error("--font-size must be between 6 and 96")
    if a.padding < 0:
        ap.error("--padding must be >= 0")

    try:
        if a.input == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(a.input, "rb") as fh:
                data = fh.read()
    except OSError as e:
        sys.exit(f"ansi2png: cannot read {a.input}: {e.strerror}")
    text = data.decode("utf-8", errors="replace")
    rows = parse(text)
    cols = a.cols or max([len(r) for r in rows] + [1])
    nrows = a.rows or max(len(rows), 1)
    if len(rows) > nrows and any(r for r in rows[nrows:]):
        print(f"ansi2png: warning: input has {len(rows)} lines, only the first {nrows} are drawn", file=sys.stderr)

    global PALETTE
    kind = a.palette
    if kind == "auto":
        r, g, b = a.bg
        kind = "light" if (0.2126 * r + 0.7152 * g + 0.0722 * b) > 128 else "dark"
    PALETTE = palette256(kind)

    fonts = Fonts(a.font_size)
    img = render(rows, cols, nrows, fonts, a.fg, a.bg, a.padding)
    out_dir = os.path.dirname(os.path.abspath(a.output))
    tmp = os.path.join(out_dir, f".{os.path.basename(a.output)}.{os.getpid()}.tmp")
    try:
        img.save(tmp, format="PNG", optimize=False, compress_level=9)
        os.replace(tmp, a.output)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        sys.exit(f"ansi2png: cannot write {a.output}: {e.strerror}")


if __name__ == "__main__":
    main()

//! The list state of one pane: the rows, the fuzzy filter, the sort and the
//! selection. Pure logic (no terminal), fast enough for 100k rows per keystroke.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32String};

use crate::stack::Resource;

#[derive(Debug, Default, Clone)]
pub struct TableView {
    pub items: Vec<Resource>,
    /// Per row: the searchable text as nucleo wants it, and lower-cased for the fast path.
    haystacks: Vec<Utf32String>,
    lower: Vec<Box<str>>,
    /// Indexes into `items` that pass the filter, in display order.
    pub visible: Vec<usize>,
    pub filter: String,
    /// Filter the current `visible` was computed for (for incremental narrowing).
    applied: String,
    pub sort: Option<(usize, bool)>,
    pub selected: usize,
    pub offset: usize,
}

impl TableView {
    pub fn set_items(&mut self, items: Vec<Resource>) {
        let keep = self.selected_item().map(|r| r.id.clone());
        let texts: Vec<String> = items.iter().map(Resource::haystack).collect();
        self.lower = texts.iter().map(|t| t.to_lowercase().into_boxed_str()).collect();
        self.haystacks = texts.into_iter().map(Utf32String::from).collect();
        self.items = items;
        self.applied.clear();
        self.recompute();
        if let Some(id) = keep
            && let Some(pos) = self.visible.iter().position(|&i| self.items[i].id == id)
        {
            self.selected = pos;
        }
        self.clamp();
    }

    pub fn set_filter(&mut self, f: &str) {
        self.filter = f.to_string();
        self.recompute();
        self.selected = 0;
        self.offset = 0;
    }

    /// Re-filters and re-sorts. When the new filter only extends the last one,
    /// only the rows that passed before are checked again.
    fn recompute(&mut self) {
        let f = self.filter.trim().to_string();
        if f.is_empty() {
            self.visible = (0..self.items.len()).collect();
        } else {
            let narrowing = !self.applied.is_empty() && f.starts_with(self.applied.as_str()) && !f.contains(' ');
            let candidates: Vec<usize> =
                if narrowing { std::mem::take(&mut self.visible) } else { (0..self.items.len()).collect() };
            self.visible = if is_plain(&f) {
                // Plain lower-case words: each must be a subsequence of the row, which is
                // exactly nucleo's fuzzy match without the cost of scoring.
                let words: Vec<&[u8]> = f.split_whitespace().map(str::as_bytes).collect();
                candidates
                    .into_iter()
                    .filter(|&i| words.iter().all(|w| is_subsequence(w, self.lower[i].as_bytes())))
                    .collect()
            } else {
                // `^prefix` and `suffix$` are about a value, not the whole row: they are checked
                // against each cell (and the id); the other atoms against the row, as nucleo does.
                let (anchored, rest): (Vec<&str>, Vec<&str>) = f.split_whitespace().partition(|w| Anchored::parse(w).is_some());
                let anchored: Vec<Anchored> = anchored.iter().filter_map(|w| Anchored::parse(w)).collect();
                let mut matcher = Matcher::new(Config::DEFAULT);
                let pattern = Pattern::parse(&rest.join(" "), CaseMatching::Smart, Normalization::Smart);
                let items = &self.items;
                candidates
                    .into_iter()
                    .filter(|&i| {
                        let r = &items[i];
                        anchored.iter().all(|a| a.matches(r.cells.iter().map(String::as_str).chain(std::iter::once(r.id.as_str()))))
                            && (rest.is_empty() || pattern.score(self.haystacks[i].slice(..), &mut matcher).is_some())
                    })
                    .collect()
            };
            if !narrowing {
                self.sort_visible();
            }
        }
        self.applied = f.clone();
        if f.is_empty() {
            self.sort_visible();
        }
    }

    fn sort_visible(&mut self) {
        if let Some((col, desc)) = self.sort {
            let items = &self.items;
            let key = |i: &usize| items[*i].cells.get(col).map(String::as_str).unwrap_or("");
            self.visible.sort_by(|a, b| {
                let (ka, kb) = (key(a), key(b));
                let o = match (ka.parse::<f64>(), kb.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                    _ => ka.to_lowercase().cmp(&kb.to_lowercase()),
                };
                if desc { o.reverse() } else { o }
            });
        }
    }

    /// Sort by the next column (None -> 0 -> 1 ... -> None).
    pub fn cycle_sort(&mut self, ncols: usize) {
        self.sort = match self.sort {
            None => Some((0, false)),
            Some((c, d)) if c + 1 < ncols => Some((c + 1, d)),
            Some(_) => None,
        };
        self.resort();
    }

    pub fn reverse_sort(&mut self) {
        self.sort = Some(match self.sort {
            None => (0, true),
            Some((c, d)) => (c, !d),
        });
        self.resort();
    }

    fn resort(&mut self) {
        if self.sort.is_none() {
            self.visible.sort_unstable();
        }
        self.sort_visible();
    }

    pub fn selected_item(&self) -> Option<&Resource> {
        self.visible.get(self.selected).map(|&i| &self.items[i])
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.visible.is_empty() {
            self.selected = 0;
            return;
        }
        let max = self.visible.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, max) as usize;
    }

    pub fn select(&mut self, i: usize) {
        self.selected = i;
        self.clamp();
    }

    fn clamp(&mut self) {
        if self.selected >= self.visible.len() {
            self.selected = self.visible.len().saturating_sub(1);
        }
    }

    /// Moves `offset` so the selection is inside a window of `height` rows.
    pub fn ensure_visible(&mut self, height: usize) {
        let h = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        let max_offset = self.visible.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }
}

/// A filter of lower-case ASCII words with none of nucleo's special syntax
/// (`'exact`, `^prefix`, `suffix$`, `!not`, escapes, smart-case upper case).
/// A `^prefix`, `suffix$` or `^exact$` atom (`!` in front: no value may match), with smart case.
struct Anchored {
    text: String,
    prefix: bool,
    suffix: bool,
    negated: bool,
    ignore_case: bool,
}

impl Anchored {
    fn parse(w: &str) -> Option<Anchored> {
        let (negated, w) = match w.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, w),
        };
        if w.contains('\\') {
            return None;
        }
        let (prefix, w) = match w.strip_prefix('^') {
            Some(r) => (true, r),
            None => (false, w),
        };
        let (suffix, w) = match w.strip_suffix('$') {
            Some(r) => (true, r),
            None => (false, w),
        };
        let ignore_case = !w.chars().any(char::is_uppercase);
        (prefix || suffix).then(|| Anchored { ignore_case, text: w.to_string(), prefix, suffix, negated })
    }

    fn matches<'a>(&self, mut values: impl Iterator<Item = &'a str>) -> bool {
        let t = self.text.as_str();
        let hit = values.any(|v| {
            let v = if self.ignore_case { std::borrow::Cow::Owned(v.to_lowercase()) } else { std::borrow::Cow::Borrowed(v) };
            match (self.prefix, self.suffix) {
                (true, true) => v == t,
                (true, false) => v.starts_with(t),
                _ => v.ends_with(t),
            }
        });
        hit != self.negated
    }
}

fn is_plain(f: &str) -> bool {
    f.split_whitespace().all(|w| {
        w.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase() && b != b'\\')
            && !w.starts_with(['\'', '^', '!'])
            && !w.ends_with('$')
    })
}

fn is_subsequence(needle: &[u8], hay: &[u8]) -> bool {
    let mut rest = hay;
    for &b in needle {
        match rest.iter().position(|&h| h == b) {
            Some(p) => rest = &rest[p + 1..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Kind;

    fn rows(names: &[&str]) -> Vec<Resource> {
        names.iter().map(|n| Resource::new(Kind::Host, *n, *n).cells([n.to_string(), format!("{}", n.len())])).collect()
    }

    #[test]
    fn anchors_are_about_a_value_not_the_row() {
        let mut t = TableView::default();
        t.set_items(rows(&["rds-iam-auth-proxy-sg", "bastion", "rds-iam-auth-db"]));
        // Each row is "NAME LENGTH": the row ends with a number, the name with "sg".
        t.set_filter("sg$");
        assert_eq!(t.visible, vec![0]);
        t.set_filter("^bas");
        assert_eq!(t.visible, vec![1]);
        t.set_filter("^rds auth db");
        assert_eq!(t.visible, vec![2], "anchored and fuzzy atoms together");
        t.set_filter("!sg$ ^rds");
        assert_eq!(t.visible, vec![2]);
        t.set_filter("^bastion$");
        assert_eq!(t.visible, vec![1]);
        t.set_filter("^Bastion");
        assert!(t.visible.is_empty(), "an upper-case letter makes it case-sensitive");
    }

    #[test]
    fn filter_narrows_and_widens() {
        let mut t = TableView::default();
        t.set_items(rows(&["rds-iam-auth-node-app", "bastion", "rds-iam-auth-db"]));
        t.set_filter("rds");
        assert_eq!(t.visible.len(), 2);
        t.set_filter("rdsdb");
        assert_eq!(t.visible, vec![2]);
        t.set_filter("rds");
        assert_eq!(t.visible.len(), 2);
        t.set_filter("");
        assert_eq!(t.visible.len(), 3);
        t.set_filter("zzz");
        assert!(t.visible.is_empty());
        assert!(t.selected_item().is_none());
    }

    #[test]
    fn fast_path_agrees_with_nucleo() {
        let names = ["rds-iam-auth-node-app", "bastion", "rds-iam-auth-db", "Ünïcode-host", "a b c", "proxy-sg"];
        let mut matcher = Matcher::new(Config::DEFAULT);
        for f in ["r", "rds", "rdsdb", "auth db", "pxsg", "zz", "b c", "host", "-", "sg"] {
            assert!(is_plain(f));
            let pattern = Pattern::parse(f, CaseMatching::Smart, Normalization::Smart);
            for n in names {
                let hay = format!("{n} {}", n.len());
                let slow = pattern.score(Utf32String::from(hay.as_str()).slice(..), &mut matcher).is_some();
                let fast = f.split_whitespace().all(|w| is_subsequence(w.as_bytes(), hay.to_lowercase().as_bytes()));
                assert_eq!(fast, slow, "filter {f:?} on {hay:?}");
            }
        }
        for f in ["'exact", "^pre", "suf$", "!not", "Upper", "a\\ b"] {
            assert!(!is_plain(f), "{f}");
        }
    }

    #[test]
    fn sort_cycles_and_reverses() {
        let mut t = TableView::default();
        t.set_items(rows(&["b", "a", "ccc"]));
        t.cycle_sort(2);
        assert_eq!(t.selected_item().unwrap().name, "a");
        t.reverse_sort();
        assert_eq!(t.selected_item().unwrap().name, "ccc");
        t.cycle_sort(2); // by length column, descending kept
        assert_eq!(t.selected_item().unwrap().name, "ccc");
        t.cycle_sort(2); // off: original order
        assert_eq!(t.selected_item().unwrap().name, "b");
    }

    #[test]
    fn selection_survives_refresh() {
        let mut t = TableView::default();
        t.set_items(rows(&["a", "b", "c"]));
        t.move_by(2);
        t.set_items(rows(&["x", "c", "a", "b"]));
        assert_eq!(t.selected_item().unwrap().name, "c");
        t.move_by(100);
        assert_eq!(t.selected, 3);
        t.move_by(-100);
        assert_eq!(t.selected, 0);
    }
}

//! Result cells and the writers of `rdsdeck sql`: rows are written as they
//! arrive (CSV and JSON stream; the table buffers a bounded sample for widths).

use std::io::Write;

pub use super::rows::{Cell, Sink, ValueKind};
use super::rows::TextRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Table, Format::Csv, Format::Json];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            Format::Table => "an aligned table",
            Format::Csv => "RFC 4180 CSV with a header row",
            Format::Json => "one JSON array of objects per result set (numeric columns as numbers; a repeated column name gets _2, _3…)",
        }
    }
}


pub fn sink<'a, W: Write + 'a>(format: Format, out: W) -> Box<dyn Sink + 'a> {
    match format {
        Format::Csv => Box::new(Csv { out, first_set: true }),
        Format::Json => Box::new(Json { out, keys: Vec::new(), kinds: Vec::new(), n: 0 }),
        Format::Table => Box::new(Table { out, columns: Vec::new(), rows: Vec::new(), widths: Vec::new(), flushed: false }),
    }
}

struct Csv<W: Write> {
    out: W,
    first_set: bool,
}

fn needs_quotes(s: &str) -> bool {
    s.is_empty() || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) || s.starts_with(' ') || s.ends_with(' ')
}

fn csv_field(s: &str) -> String {
    if needs_quotes(s) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl<W: Write> Sink for Csv<W> {
    fn start(&mut self, columns: &[String]) -> std::io::Result<()> {
        if !self.first_set {
            writeln!(self.out)?;
        }
        self.first_set = false;
        writeln!(self.out, "{}", columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","))
    }
    /// NULL is an empty unquoted field; an empty string is `""`. Written
    /// field by field, without building the line first (this is the hot path).
    fn row(&mut self, row: Vec<Cell>) -> std::io::Result<()> {
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            match c {
                Cell::Null => {}
                Cell::Text(s) if needs_quotes(s) => self.out.write_all(csv_field(s).as_bytes())?,
                Cell::Text(s) => self.out.write_all(s.as_bytes())?,
                Cell::Binary(b) => self.out.write_all(Cell::hex(b).as_bytes())?,
            }
        }
        self.out.write_all(b"\n")
    }
    /// The hot path of `sql -o csv`: the same output as [`Csv::row`], with no cell built.
    fn row_text(&mut self, row: &TextRow<'_>) -> std::io::Result<()> {
        for (i, f) in row.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            match f {
                None => {}
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) if needs_quotes(s) => self.out.write_all(csv_field(s).as_bytes())?,
                    Ok(_) => self.out.write_all(b)?,
                    Err(_) => self.out.write_all(Cell::hex(b).as_bytes())?,
                },
            }
        }
        self.out.write_all(b"\n")
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

struct Json<W: Write> {
    out: W,
    /// The columns' names, already as JSON strings.
    keys: Vec<String>,
    kinds: Vec<ValueKind>,
    n: usize,
}

/// Whether `s` is a JSON number as written (so a numeric column's text can go out verbatim, exact).
fn json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

impl<W: Write> Json<W> {
    fn value(&mut self, i: usize, c: Cell) -> std::io::Result<()> {
        match c {
            Cell::Null => write!(self.out, "null"),
            Cell::Text(s) if self.kinds.get(i) == Some(&ValueKind::Number) && json_number(&s) => write!(self.out, "{s}"),
            Cell::Text(s) => serde_json::to_writer(&mut self.out, &s).map_err(std::io::Error::from),
            Cell::Binary(b) => serde_json::to_writer(&mut self.out, &Cell::hex(&b)).map_err(std::io::Error::from),
        }
    }
}

/// Column names as object keys: a name that repeats (`SELECT 1 AS a, 2 AS a`, a join's two `id`s)
/// gets `_2`, `_3`… so no column is lost to a JSON reader keeping one value a key.
pub fn unique_names(columns: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    columns
        .iter()
        .map(|c| {
            let mut name = c.clone();
            let mut n = 1;
            while !seen.insert(name.clone()) {
                n += 1;
                name = format!("{c}_{n}");
            }
            name
        })
        .collect()
}

impl<W: Write> Sink for Json<W> {
    fn kinds(&mut self, kinds: &[ValueKind]) -> std::io::Result<()> {
        self.kinds = kinds.to_vec();
        Ok(())
    }
    fn start(&mut self, columns: &[String]) -> std::io::Result<()> {
        self.keys = unique_names(columns).iter().map(|c| serde_json::to_string(c).unwrap_or_default()).collect();
        if self.kinds.len() != columns.len() {
            self.kinds = vec![ValueKind::Other; columns.len()];
        }
        self.n = 0;
        write!(self.out, "[")
    }
    /// One object per row: NULL is null, numeric columns are numbers, binary is a `0x…` hex string.
    fn row(&mut self, row: Vec<Cell>) -> std::io::Result<()> {
        write!(self.out, "{}\n  {{", if self.n == 0 { "" } else { "," })?;
        for (i, c) in row.into_iter().enumerate() {
            let key = self.keys.get(i).cloned().unwrap_or_else(|| format!("\"{i}\""));
            write!(self.out, "{}{key}:", if i == 0 { "" } else { "," })?;
            self.value(i, c)?;
        }
        write!(self.out, "}}")?;
        self.n += 1;
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.kinds.clear();
        writeln!(self.out, "{}]", if self.n == 0 { "" } else { "\n" })?;
        self.out.flush()
    }
}

/// Buffers the first rows to size the columns, then streams the rest.
struct Table<W: Write> {
    out: W,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    widths: Vec<usize>,
    flushed: bool,
}

const TABLE_SAMPLE: usize = 1000;
const TABLE_MAX_WIDTH: usize = 60;

impl<W: Write> Table<W> {
    fn line(&mut self, cells: &[String]) -> std::io::Result<()> {
        let parts: Vec<String> = cells
            .iter()
            .zip(&self.widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(unicode_width::UnicodeWidthStr::width(c.as_str())))))
            .collect();
        writeln!(self.out, "| {} |", parts.join(" | "))
    }
    fn rule(&mut self) -> std::io::Result<()> {
        let parts: Vec<String> = self.widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(self.out, "+-{}-+", parts.join("-+-"))
    }
    fn flush_sample(&mut self) -> std::io::Result<()> {
        if self.flushed {
            return Ok(());
        }
        self.flushed = true;
        self.rule()?;
        let cols = self.columns.clone();
        self.line(&cols)?;
        self.rule()?;
        for r in std::mem::take(&mut self.rows) {
            self.line(&r)?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for Table<W> {
    fn start(&mut self, columns: &[String]) -> std::io::Result<()> {
        self.columns = columns.to_vec();
        self.widths = columns.iter().map(|c| unicode_width::UnicodeWidthStr::width(c.as_str())).collect();
        self.rows.clear();
        self.flushed = false;
        Ok(())
    }
    fn row(&mut self, row: Vec<Cell>) -> std::io::Result<()> {
        let cells: Vec<String> = row.iter().map(|c| c.display(TABLE_MAX_WIDTH)).collect();
        if self.flushed {
            let cells: Vec<String> = cells
                .into_iter()
                .zip(self.widths.clone())
                .map(|(c, w)| if unicode_width::UnicodeWidthStr::width(c.as_str()) > w { format!("{}…", c.chars().take(w.saturating_sub(1)).collect::<String>()) } else { c })
                .collect();
            return self.line(&cells);
        }
        for (w, c) in self.widths.iter_mut().zip(&cells) {
            *w = (*w).max(unicode_width::UnicodeWidthStr::width(c.as_str()));
        }
        self.rows.push(cells);
        if self.rows.len() >= TABLE_SAMPLE {
            self.flush_sample()?;
        }
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.flush_sample()?;
        self.rule()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_from_wire_rows_equals_csv_from_cells() {
        let fields: Vec<Option<&[u8]>> = vec![Some(b"1"), None, Some(b""), Some(b"a,\"b\""), Some(&[0xff, 0x00]), Some(b" pad"), Some(b"line\nbreak")];
        let packet = crate::db::packet::encode_row(&fields);
        let mut a = Vec::new();
        let mut b = Vec::new();
        {
            let mut s = sink(Format::Csv, &mut a);
            crate::db::wire::with_row(&packet, fields.len(), |r| s.row_text(r)).unwrap().unwrap();
            s.finish().unwrap();
        }
        {
            let mut s = sink(Format::Csv, &mut b);
            s.row(fields.iter().map(|f| Cell::from_bytes(*f)).collect()).unwrap();
            s.finish().unwrap();
        }
        assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        // And the cells are what the driver's values give.
        let values = vec![mysql_async::Value::Bytes(b"a".to_vec()), mysql_async::Value::NULL, mysql_async::Value::Bytes(vec![0xff])];
        let via_values: Vec<Cell> = values.into_iter().map(Cell::from_value).collect();
        assert_eq!(via_values, vec![Cell::from_bytes(Some(b"a")), Cell::from_bytes(None), Cell::from_bytes(Some(&[0xff]))]);
    }

    use super::*;

    fn render(format: Format) -> String {
        let mut buf = Vec::new();
        {
            let mut s = sink(format, &mut buf);
            s.start(&["id".into(), "note".into(), "blob".into()]).unwrap();
            s.row(vec![Cell::Text("1".into()), Cell::Null, Cell::Binary(vec![0xff, 0x00])]).unwrap();
            s.row(vec![Cell::Text("2".into()), Cell::Text(String::new()), Cell::Text("a,\"b\"".into())]).unwrap();
            s.finish().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn csv_tells_null_from_empty_and_hexes_binary() {
        assert_eq!(render(Format::Csv), "id,note,blob\n1,,0xFF00\n2,\"\",\"a,\"\"b\"\"\"\n");
    }

    #[test]
    fn json_numbers_are_checked_before_going_out_verbatim() {
        for ok in ["0", "-3", "12.50", "1.5e3", "1E-7", "18446744073709551615"] {
            assert!(json_number(ok), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "NaN", "inf", "0x10", "1 2", "+1"] {
            assert!(!json_number(bad), "{bad}");
        }
        let mut out = Vec::new();
        {
            let mut s = sink(Format::Json, &mut out);
            s.kinds(&[ValueKind::Number, ValueKind::Number]).unwrap();
            s.start(&["n".into(), "odd".into()]).unwrap();
            s.row(vec![Cell::Text("7".into()), Cell::Text("NaN".into())]).unwrap();
            s.finish().unwrap();
        }
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!((v[0]["n"].as_u64(), v[0]["odd"].as_str()), (Some(7), Some("NaN")), "not a JSON number: a string");
    }

    #[test]
    fn json_keeps_every_column_when_names_repeat() {
        let cols = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(unique_names(&cols(&["id", "name", "id", "id", "id_2"])), cols(&["id", "name", "id_2", "id_3", "id_2_2"]));
        let mut out = Vec::new();
        {
            let mut s = sink(Format::Json, &mut out);
            s.start(&cols(&["a", "a"])).unwrap();
            s.row(vec![Cell::Text("1".into()), Cell::Text("2".into())]).unwrap();
            s.finish().unwrap();
        }
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!((v[0]["a"].as_str(), v[0]["a_2"].as_str()), (Some("1"), Some("2")), "{v}");
    }

    #[test]
    fn json_uses_null() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(v[0]["note"], serde_json::Value::Null);
        assert_eq!(v[1]["note"], "");
        assert_eq!(v[0]["blob"], "0xFF00");
    }

    #[test]
    fn table_shows_null_and_hex() {
        let t = render(Format::Table);
        assert!(t.contains("| 1  | NULL | 0xFF00 |"), "{t}");
        assert!(t.contains("| 2  |      | a,\"b\"  |"), "{t}");
    }
}

//! The rows of the SQL path, shared by every part of it: a row as it came off
//! the wire ([`TextRow`], borrowed from its packet), a cell ([`Cell`]), where
//! rows go ([`Sink`]), and what a statement did ([`Outcome`]).

use mysql_async::Value;
use std::time::Duration;

use super::packet::{NULL_SPAN, Span};

/// A row as it arrived: every field borrowed from the packet.
pub struct TextRow<'a> {
    pub(super) data: &'a [u8],
    pub(super) spans: &'a [Span],
}

impl<'a> TextRow<'a> {
    /// `None` for NULL.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let s = self.spans[i];
        (s != NULL_SPAN).then(|| &self.data[s.start as usize..(s.start + s.len) as usize])
    }
    pub fn iter(&self) -> impl Iterator<Item = Option<&'a [u8]>> + '_ {
        (0..self.spans.len()).map(|i| self.get(i))
    }
}

/// One cell: NULL, text, or bytes that are not UTF-8 (shown as hex, never raw).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Binary(Vec<u8>),
}

impl Cell {
    /// A text-protocol field (`None` is NULL).
    pub fn from_bytes(b: Option<&[u8]>) -> Cell {
        match b {
            None => Cell::Null,
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => Cell::Text(s.to_string()),
                Err(_) => Cell::Binary(b.to_vec()),
            },
        }
    }

    pub fn from_value(v: Value) -> Cell {
        match v {
            Value::NULL => Cell::Null,
            Value::Bytes(b) => match String::from_utf8(b) {
                Ok(s) => Cell::Text(s),
                Err(e) => Cell::Binary(e.into_bytes()),
            },
            Value::Int(i) => Cell::Text(i.to_string()),
            Value::UInt(u) => Cell::Text(u.to_string()),
            Value::Float(f) => Cell::Text(f.to_string()),
            Value::Double(d) => Cell::Text(d.to_string()),
            Value::Date(y, mo, d, h, mi, s, us) => Cell::Text(if us > 0 {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }),
            Value::Time(neg, d, h, m, s, us) => {
                let h = d * 24 + h as u32;
                Cell::Text(format!("{}{h:02}:{m:02}:{s:02}{}", if neg { "-" } else { "" }, if us > 0 { format!(".{us:06}") } else { String::new() }))
            }
        }
    }

    /// For display: NULL is `NULL`, binary is `0x…` hex (truncated), control characters escaped.
    pub fn display(&self, max: usize) -> String {
        match self {
            Cell::Null => "NULL".into(),
            Cell::Text(s) => {
                let clean: String = s.chars().map(|c| if c.is_control() { '·' } else { c }).collect();
                if clean.chars().count() > max { format!("{}…", clean.chars().take(max.saturating_sub(1)).collect::<String>()) } else { clean }
            }
            Cell::Binary(b) => {
                let n = (max.saturating_sub(2) / 2).max(1);
                let hex: String = b.iter().take(n).map(|x| format!("{x:02X}")).collect();
                format!("0x{hex}{}", if b.len() > n { "…" } else { "" })
            }
        }
    }

    pub(super) fn hex(b: &[u8]) -> String {
        format!("0x{}", b.iter().map(|x| format!("{x:02X}")).collect::<String>())
    }
}

/// What a column holds, as the protocol's column definition says (for outputs that keep types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Integer, decimal, float, double, year: a number in JSON.
    Number,
    Other,
}

/// Receives one result set at a time.
pub trait Sink {
    fn start(&mut self, columns: &[String]) -> std::io::Result<()>;
    fn row(&mut self, row: Vec<Cell>) -> std::io::Result<()>;
    /// A row as it came off the wire, borrowed from its packet (the CSV
    /// writer copies the bytes out without building cells).
    fn row_text(&mut self, row: &TextRow<'_>) -> std::io::Result<()> {
        self.row(row.iter().map(Cell::from_bytes).collect())
    }
    fn finish(&mut self) -> std::io::Result<()>;
    /// The columns' kinds, just before `start` (readers that know them call it).
    fn kinds(&mut self, _kinds: &[ValueKind]) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub result_sets: usize,
    pub rows: u64,
    pub affected: u64,
    pub elapsed: Duration,
    /// Time from sending the statement to the first row.
    pub first_row: Option<Duration>,
}

/// A sink that keeps nothing (for statements run for their effect).
pub struct Discard;

impl Sink for Discard {
    fn start(&mut self, _columns: &[String]) -> std::io::Result<()> {
        Ok(())
    }
    fn row(&mut self, _row: Vec<Cell>) -> std::io::Result<()> {
        Ok(())
    }
    fn row_text(&mut self, _row: &TextRow<'_>) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

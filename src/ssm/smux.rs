//! smux v1 framing (SSM_PROTOCOL.md §3, "Port forwarding"): the agent
//! multiplexes many TCP connections over one port session's byte stream.
//! Frame: version u8 (1), cmd u8 (SYN 0, FIN 1, PSH 2, NOP 3), length u16 LE,
//! stream id u32 LE, then `length` bytes. Keepalive (NOP) is never sent: a
//! mismatch of keepalive settings is what kills idle plugin sessions.

pub const VERSION: u8 = 1;
pub const HEADER: usize = 8;
/// Largest frame body.
pub const MAX_FRAME: usize = 32 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Syn,
    Fin,
    Psh,
    Nop,
}

impl Cmd {
    fn byte(self) -> u8 {
        match self {
            Cmd::Syn => 0,
            Cmd::Fin => 1,
            Cmd::Psh => 2,
            Cmd::Nop => 3,
        }
    }

    fn from_byte(b: u8) -> Option<Cmd> {
        match b {
            0 => Some(Cmd::Syn),
            1 => Some(Cmd::Fin),
            2 => Some(Cmd::Psh),
            3 => Some(Cmd::Nop),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub cmd: Cmd,
    pub stream: u32,
    pub data: Vec<u8>,
}

pub fn encode(cmd: Cmd, stream: u32, data: &[u8]) -> Vec<u8> {
    assert!(data.len() <= MAX_FRAME, "smux frame body over {MAX_FRAME} bytes");
    let mut out = Vec::with_capacity(HEADER + data.len());
    out.push(VERSION);
    out.push(cmd.byte());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(&stream.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Reassembles frames from a byte stream cut anywhere.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame; an error when the stream is not smux v1.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, String> {
        if self.buf.len() < HEADER {
            return Ok(None);
        }
        if self.buf[0] != VERSION {
            return Err(format!("smux: version {} (expected {VERSION})", self.buf[0]));
        }
        let cmd = Cmd::from_byte(self.buf[1]).ok_or_else(|| format!("smux: unknown command {}", self.buf[1]))?;
        let len = u16::from_le_bytes([self.buf[2], self.buf[3]]) as usize;
        if self.buf.len() < HEADER + len {
            return Ok(None);
        }
        let stream = u32::from_le_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
        let data = self.buf[HEADER..HEADER + len].to_vec();
        self.buf.drain(..HEADER + len);
        Ok(Some(Frame { cmd, stream, data }))
    }
}

/// Client stream ids: odd, from 1.
#[derive(Debug)]
pub struct Ids(u32);

impl Default for Ids {
    fn default() -> Self {
        Ids(1)
    }
}

impl Ids {
    pub fn next_id(&mut self) -> u32 {
        let id = self.0;
        self.0 = self.0.wrapping_add(2);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_frame() {
        assert_eq!(encode(Cmd::Psh, 3, b"ab"), vec![1, 2, 2, 0, 3, 0, 0, 0, b'a', b'b']);
        assert_eq!(encode(Cmd::Syn, 0x01020304, b""), vec![1, 0, 0, 0, 4, 3, 2, 1]);
    }

    #[test]
    fn frames_split_anywhere_reassemble() {
        let mut wire = Vec::new();
        wire.extend(encode(Cmd::Syn, 1, b""));
        wire.extend(encode(Cmd::Psh, 1, &[7u8; 3000]));
        wire.extend(encode(Cmd::Fin, 1, b""));
        for cut in [1usize, 5, 8, 9, 1000, 3007] {
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for piece in wire.chunks(cut) {
                d.push(piece);
                while let Some(f) = d.next_frame().unwrap() {
                    got.push(f);
                }
            }
            assert_eq!(got.len(), 3, "cut {cut}");
            assert_eq!(got[1].data.len(), 3000);
            assert_eq!((got[0].cmd, got[2].cmd), (Cmd::Syn, Cmd::Fin));
        }
        let mut d = Decoder::default();
        d.push(&[2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(d.next_frame().is_err());
        let mut ids = Ids::default();
        assert_eq!((ids.next_id(), ids.next_id(), ids.next_id()), (1, 3, 5));
    }
}

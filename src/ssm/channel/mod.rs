//! The data channel of a Session Manager session (SSM_PROTOCOL.md §3):
//! `message` is the binary frame, `reliable` the acks, ordering and
//! retransmission over it, `driver` the websocket and the handshake.

pub mod driver;
pub mod message;
pub mod reliable;

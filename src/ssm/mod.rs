//! Session Manager: the data channel (frame codec, reliable delivery).
//! Sessions, the transports and managed forwards build on it.

pub mod channel;

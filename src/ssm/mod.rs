//! Session Manager: the API (start, resume, terminate sessions), the data
//! channel (frame codec, reliable delivery, the websocket driver), smux, and
//! managed port forwards built on them.

pub mod api;
pub mod channel;
pub mod forward;
pub mod plugin;
pub mod shell;
pub mod smux;
pub mod transport;

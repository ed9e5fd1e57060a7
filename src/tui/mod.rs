//! The terminal UI (filled in below).
pub async fn run(_s: crate::settings::Settings) -> anyhow::Result<i32> { Ok(0) }

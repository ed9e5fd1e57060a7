//! The stack: its model, where it is described, and how it is discovered.

pub mod discover;
pub mod model;
pub mod sources;

pub use discover::{DiscoverError, Located, Snapshot, fetch_kind, locate, snapshot};
pub use model::{Health, Identity, Kind, KindResult, Resource};
pub use sources::{Anchor, RdsConf, TerraformOutputs};

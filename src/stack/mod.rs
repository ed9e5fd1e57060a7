//! The stack: its model, where it is described, and how it is discovered
//! (`locate` finds its centre, `fetch` loads each kind, one file per service).

pub mod api;
pub mod fetch;
pub mod locate;
pub mod model;
pub mod sources;

pub use fetch::{Snapshot, fetch_kind, snapshot};
pub use locate::{DiscoverError, Located, locate};
pub use model::{Health, Identity, Kind, KindResult, Resource};
pub use sources::{Anchor, RdsConf, TerraformOutputs};

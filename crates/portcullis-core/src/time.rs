//! Time as the domain sees it: Unix seconds, passed in by the caller.

use serde::{Deserialize, Serialize};

/// A point in time, in seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(pub i64);

/// A duration in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seconds(pub i64);

impl std::ops::Add<Seconds> for UnixTime {
    type Output = UnixTime;
    fn add(self, rhs: Seconds) -> UnixTime {
        UnixTime(self.0.saturating_add(rhs.0))
    }
}

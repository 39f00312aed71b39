//! The one place the server reads the wall clock.

use std::time::{SystemTime, UNIX_EPOCH};

use portcullis_core::UnixTime;

/// Now, in Unix seconds.
pub fn system_now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    )
}

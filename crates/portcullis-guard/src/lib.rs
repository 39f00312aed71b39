#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod builder;
mod claims;
mod error;
mod guard;
mod key_source;
mod layer;
mod resource_metadata;
mod scopes;
mod token_cache;

pub use builder::{BuildError, GuardBuilder};
pub use claims::AccessClaims;
pub use error::Rejection;
pub use guard::Guard;
pub use key_source::FetchError;
pub use layer::{RequireBearer, RequireBearerService};
pub use resource_metadata::ResourceMetadata;
pub use scopes::Scopes;

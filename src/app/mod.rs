//! The cockpit's state and the pure logic behind it.
//!
//! - `version`: versions, revision names, skew
//! - `pod`: what the cockpit keeps of a pod
//! - `injection`: namespace labels resolved through tags
//! - `istiod_log`: istiod log lines and NACKs

pub mod injection;
pub mod istiod_log;
pub mod pod;
pub mod version;

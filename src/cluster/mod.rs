//! Everything that talks to the cluster: connecting, watching, following istiod's logs.
//! Reading only: nothing in this module writes.

pub mod connect;
pub mod istiod_logs;
pub mod watch_loop;
pub mod watchers;

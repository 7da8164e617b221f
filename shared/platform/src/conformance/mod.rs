//! One conformance suite per port: the same bodies run against the embedded adapters and against the AWS ones
//! (on a local AWS-compatible server), so `lastmile dev` and a deployment behave alike. Each suite answers the
//! first check that failed, by name, and never panics.

pub mod blob;
pub mod queue;
pub mod table;

/// Fails the suite with `message` unless `condition` holds.
macro_rules! check {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}
pub(crate) use check;

/// Turns an adapter's error into the suite's, saying which step failed.
fn step<T, E: std::fmt::Debug>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|error| format!("{what}: {error:?}"))
}

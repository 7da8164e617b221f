//! One conformance suite per port: the same bodies run against the embedded adapters and against the AWS ones
//! (on a local AWS-compatible server), so `lastmile dev` and a deployment behave alike. Each suite answers the
//! first check that failed, by name.

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

//! The conformance suites of the ports: what every adapter must do, written once as library functions (not
//! tests) so that the same checks run against the embedded adapters in `cargo test` and against AWS or a local
//! stand-in for it. Each answers `Err` naming the first check that failed, and never panics.

/// Fails the suite with a message when a condition does not hold.
macro_rules! check {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

pub mod blob;
pub mod queue;

/// Turns an adapter's error into the suite's, saying which step failed.
fn step<T, E: std::fmt::Debug>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|error| format!("{what}: {error:?}"))
}

//! Tracing set-up and redaction. Logs carry correlation ids and tenant ids, never personal data: names,
//! street lines, phones and free-text addresses go through [`Redacted`] when they must appear at all.

use std::fmt;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. `RUST_LOG` overrides the configured level. Calling it twice is harmless.
pub fn init(log: &LogConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match log.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// Wraps personal data so that `Debug` and `Display` print only its length.
pub struct Redacted<T>(pub T);

impl<T: AsRef<str>> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[redacted {} chars]", self.0.as_ref().chars().count())
    }
}

impl<T: AsRef<str>> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_text_shows_only_its_length() {
        let shown = format!("{} {:?}", Redacted("221B Baker Street"), Redacted("Jane".to_owned()));
        assert_eq!(shown, "[redacted 17 chars] [redacted 4 chars]");
    }
}

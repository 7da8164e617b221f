//! Secrets by reference: code names a secret, the deployment decides where it lives (Secrets Manager on AWS,
//! the environment for `lastmile dev`), and no secret value is ever written into configuration.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("secret {0} is not set")]
    Missing(String),
    #[error("secrets: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Secrets: Send + Sync {
    /// The value of the secret `reference` names (an environment variable, a Secrets Manager ARN …).
    async fn get(&self, reference: &str) -> Result<String, SecretError>;
}

/// Secrets from environment variables, for `lastmile dev` and tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvSecrets;

#[async_trait]
impl Secrets for EnvSecrets {
    async fn get(&self, reference: &str) -> Result<String, SecretError> {
        std::env::var(reference)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| SecretError::Missing(reference.to_owned()))
    }
}

/// Secrets kept as files in one folder, for the keys `lastmile dev` makes for itself (the token sealing key): the
/// reference is the file's name. Written with owner-only permissions.
#[derive(Debug, Clone)]
pub struct FileSecrets {
    dir: std::path::PathBuf,
}

impl FileSecrets {
    pub fn new(dir: impl Into<std::path::PathBuf>) -> FileSecrets {
        FileSecrets { dir: dir.into() }
    }

    /// The secret's value, read at once (what [`Secrets::get`] answers), for callers outside async code.
    pub fn read(&self, reference: &str) -> Result<String, SecretError> {
        let path = self.path(reference)?;
        match std::fs::read_to_string(&path) {
            Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
            Ok(_) => Err(SecretError::Missing(reference.to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SecretError::Missing(reference.to_owned())),
            Err(e) => Err(SecretError::Backend(format!("{}: {e}", path.display()))),
        }
    }

    fn path(&self, reference: &str) -> Result<std::path::PathBuf, SecretError> {
        let plain =
            !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !plain || reference.starts_with('.') {
            return Err(SecretError::Backend(format!("{reference:?} is not a plain file name")));
        }
        Ok(self.dir.join(reference))
    }

    /// Writes the secret `reference` with `value` unless it exists; answers whether it wrote.
    pub fn create_if_missing(&self, reference: &str, value: &str) -> Result<bool, SecretError> {
        use std::io::Write;
        let path = self.path(reference)?;
        let backend = |e: std::io::Error| SecretError::Backend(format!("{}: {e}", path.display()));
        std::fs::create_dir_all(&self.dir).map_err(backend)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(value.as_bytes()).map_err(backend)?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}

#[async_trait]
impl Secrets for FileSecrets {
    async fn get(&self, reference: &str) -> Result<String, SecretError> {
        self.read(reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_secret_is_created_once_owner_only_and_read_back() {
        let dir = std::env::temp_dir().join(format!("lastmile-file-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let secrets = FileSecrets::new(&dir);
        assert_eq!(secrets.get("token.key").await, Err(SecretError::Missing("token.key".into())));
        assert!(secrets.create_if_missing("token.key", "first").expect("written"));
        assert!(!secrets.create_if_missing("token.key", "second").expect("kept"), "an existing key is kept");
        assert_eq!(secrets.get("token.key").await.expect("read"), "first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("token.key")).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(secrets.get("../etc/passwd").await.is_err() && secrets.get(".hidden").await.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

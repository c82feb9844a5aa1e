//! Client-side token storage: a private file, an environment variable, the OS keyring.
//!
//! A token is a bearer credential, so every location keeps it away from other users: the
//! file is mode 0600 and replaced atomically, and a file that group or others can access
//! is rejected rather than read. Errors name the location, never the token.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Reason a token could not be loaded, stored or cleared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The location can only be read, such as an environment variable.
    #[error("{location} is read-only; {hint}")]
    ReadOnly {
        /// The location.
        location: String,
        /// The action to take instead.
        hint: &'static str,
    },
    /// The token file is accessible by group or others, so it is not trusted.
    #[error(
        "token file `{}` has mode {mode:o}, which group or others can access; run `chmod 600` on it or remove it",
        path.display()
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The value is not a token that can be stored.
    #[error("{location}: {reason}")]
    Invalid {
        /// The location.
        location: String,
        /// Description of the problem.
        reason: String,
    },
    /// An I/O error on a token file.
    #[error("{location}: I/O failed")]
    Io {
        /// The location.
        location: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The OS keyring failed or is not available.
    #[error("{location}: {reason}")]
    Keyring {
        /// The location.
        location: String,
        /// The keyring's error.
        reason: String,
    },
}

/// A place a client keeps its token.
pub trait TokenStorage: Send + Sync {
    /// Describes the location for messages, such as "token file `~/.warden/token`".
    fn location(&self) -> String;

    /// Returns the stored token, or `None` when the location has none.
    fn load(&self) -> Result<Option<String>, StorageError>;

    /// Stores `token`, replacing any previous one.
    fn store(&self, token: &str) -> Result<(), StorageError>;

    /// Removes the token; succeeds when there was none.
    fn clear(&self) -> Result<(), StorageError>;
}

/// Rejects values that cannot be a compact token, which would corrupt the file format.
pub(crate) fn check_token(location: &str, token: &str) -> Result<(), StorageError> {
    let invalid = |reason: &str| StorageError::Invalid {
        location: location.to_owned(),
        reason: reason.to_owned(),
    };
    if token.is_empty() {
        return Err(invalid("the token is empty"));
    }
    if token
        .chars()
        .any(|character| character.is_whitespace() || character.is_control())
    {
        return Err(invalid(
            "the token contains whitespace or control characters",
        ));
    }
    Ok(())
}

/// A token in a file of its own, mode 0600, replaced atomically.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// Uses the file at `path`; nothing is touched until a load, store or clear.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore { path: path.into() }
    }

    /// Returns the file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, source: std::io::Error) -> StorageError {
        StorageError::Io {
            location: self.location(),
            source,
        }
    }

    /// Rejects a file that group or others can read, write or execute.
    fn check_private(&self, file: &File) -> Result<(), StorageError> {
        let metadata = file.metadata().map_err(|source| self.io_error(source))?;
        if !metadata.is_file() {
            return Err(StorageError::Invalid {
                location: self.location(),
                reason: "not a regular file".to_owned(),
            });
        }
        let mode = permission_bits(&metadata);
        if mode & 0o077 != 0 {
            return Err(StorageError::InsecurePermissions {
                path: self.path.clone(),
                mode,
            });
        }
        Ok(())
    }

    /// Opens the existing file, if any, and checks its permissions.
    fn open_existing(&self) -> Result<Option<File>, StorageError> {
        match File::open(&self.path) {
            Ok(file) => {
                self.check_private(&file)?;
                Ok(Some(file))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.io_error(error)),
        }
    }
}

impl TokenStorage for FileTokenStore {
    fn location(&self) -> String {
        format!("token file `{}`", self.path.display())
    }

    fn load(&self) -> Result<Option<String>, StorageError> {
        let Some(mut file) = self.open_existing()? else {
            return Ok(None);
        };
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|source| self.io_error(source))?;
        let token = text.trim_end_matches(['\n', '\r']);
        if token.is_empty() {
            return Ok(None);
        }
        check_token(&self.location(), token)?;
        Ok(Some(token.to_owned()))
    }

    fn store(&self, token: &str) -> Result<(), StorageError> {
        check_token(&self.location(), token)?;
        self.open_existing()?;
        let contents = format!("{token}\n");
        write_atomic(&self.path, contents.as_bytes(), |_| Ok(()))
            .map_err(|source| self.io_error(source))
    }

    fn clear(&self) -> Result<(), StorageError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => sync_parent(&self.path).map_err(|source| self.io_error(source)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.io_error(error)),
        }
    }
}

/// Writes `contents` to `path` through a new mode-0600 temporary file in the same folder:
/// write, fsync, rename over `path`, fsync the folder. A crash at any step leaves either
/// the old file or the new one. `before_rename` runs on the synced temporary file; an error
/// from it, or from any step, removes the temporary file and leaves `path` as it was.
pub(crate) fn write_atomic(
    path: &Path,
    contents: &[u8],
    before_rename: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let temporary = temporary_path(path)?;
    let result = (|| {
        let mut file = private_options().open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        before_rename(&temporary)?;
        std::fs::rename(&temporary, path)?;
        sync_parent(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Returns `.NAME.RANDOM.tmp` beside `path`; the random part keeps concurrent writers
/// and leftovers of a crashed writer apart.
fn temporary_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the token path has no file name"))?;
    let mut random = [0_u8; 8];
    getrandom::fill(&mut random).map_err(|error| std::io::Error::other(error.to_string()))?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(".{}.tmp", hex_string(&random)));
    Ok(path.with_file_name(temporary))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        Some(parent) => File::open(parent)?.sync_all(),
        None => File::open(".")?.sync_all(),
    }
}

#[cfg(unix)]
fn private_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options
}

#[cfg(unix)]
fn permission_bits(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

// TODO: check and set the file's ACL on Windows; only Unix permission bits are enforced.
#[cfg(not(unix))]
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    options
}

#[cfg(not(unix))]
fn permission_bits(_metadata: &std::fs::Metadata) -> u32 {
    0o600
}

/// A token read from an environment variable; the process cannot change its caller's
/// environment, so storing and clearing are errors.
#[derive(Debug, Clone)]
pub struct EnvTokenSource {
    variable: String,
}

impl EnvTokenSource {
    /// Reads the token from `variable`.
    pub fn new(variable: impl Into<String>) -> Self {
        EnvTokenSource {
            variable: variable.into(),
        }
    }
}

impl TokenStorage for EnvTokenSource {
    fn location(&self) -> String {
        format!("environment variable `{}`", self.variable)
    }

    fn load(&self) -> Result<Option<String>, StorageError> {
        match std::env::var(&self.variable) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => {
                let token = value.trim();
                check_token(&self.location(), token)?;
                Ok(Some(token.to_owned()))
            }
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(StorageError::Invalid {
                location: self.location(),
                reason: "the value is not valid Unicode".to_owned(),
            }),
        }
    }

    fn store(&self, _token: &str) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly {
            location: self.location(),
            hint: "set the variable in the shell or service that starts this program",
        })
    }

    fn clear(&self) -> Result<(), StorageError> {
        if std::env::var_os(&self.variable).is_none() {
            return Ok(());
        }
        Err(StorageError::ReadOnly {
            location: self.location(),
            hint: "unset it in the shell or service that sets it",
        })
    }
}

/// The outcome of clearing every location.
#[derive(Debug, Default)]
pub struct ClearReport {
    /// Locations that hold no token now.
    pub cleared: Vec<String>,
    /// Locations that could not be cleared, with the reason.
    pub failed: Vec<(String, StorageError)>,
}

/// Several token locations, searched in order.
#[derive(Default)]
pub struct TokenLocations {
    locations: Vec<Box<dyn TokenStorage>>,
}

impl std::fmt::Debug for TokenLocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenLocations")
            .field("locations", &self.names())
            .finish()
    }
}

impl TokenLocations {
    /// Starts with no locations.
    pub fn new() -> Self {
        TokenLocations::default()
    }

    /// Adds a location after those already added.
    pub fn with(mut self, location: impl TokenStorage + 'static) -> Self {
        self.locations.push(Box::new(location));
        self
    }

    /// Returns each location's description, in search order.
    pub fn names(&self) -> Vec<String> {
        self.locations
            .iter()
            .map(|store| store.location())
            .collect()
    }

    /// Adds an already boxed location after those already added.
    pub fn with_boxed(mut self, location: Box<dyn TokenStorage>) -> Self {
        self.locations.push(location);
        self
    }

    /// Returns the first token found, with its location. An error in a location, such as
    /// an insecure file, stops the search rather than falling through to the next one.
    pub fn load(&self) -> Result<Option<(String, String)>, StorageError> {
        for location in &self.locations {
            if let Some(token) = location.load()? {
                return Ok(Some((token, location.location())));
            }
        }
        Ok(None)
    }

    /// Removes the token from every location and reports each one that failed.
    pub fn clear(&self) -> ClearReport {
        let mut report = ClearReport::default();
        for location in &self.locations {
            match location.clear() {
                Ok(()) => report.cleared.push(location.location()),
                Err(error) => report.failed.push((location.location(), error)),
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_before_rename_keeps_old_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("token"));
        store.store("old.token.value").unwrap();
        let result = write_atomic(store.path(), b"new.token.value\n", |_| {
            Err(std::io::Error::other("simulated crash before rename"))
        });
        assert!(result.is_err());
        assert_eq!(store.load().unwrap().as_deref(), Some("old.token.value"));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["token"], "the temporary file is removed");
    }

    #[test]
    fn temporary_file_is_private_before_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let mut seen = None;
        write_atomic(&path, b"a.b.c\n", |temporary| {
            seen = Some(permission_bits(&std::fs::metadata(temporary)?));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, Some(0o600));
    }
}

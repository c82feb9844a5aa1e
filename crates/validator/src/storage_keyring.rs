//! The OS keyring as a token location, through the `keyring` crate: the macOS Keychain,
//! the Windows Credential Manager, or the Linux kernel key store (keyutils).
//!
//! On Linux the token is stored in the kernel session keyring, so it lasts until the login
//! session ends; it needs no running secret service.
// TODO: writing fails with "access denied" where the process may not write its session
// keyring (seen in containers), so the `keyring` feature is off by default and untested in CI.

use keyring::Entry;

use crate::storage::{StorageError, TokenStorage};

/// A token kept in the OS keyring under a service name and an account name.
#[derive(Debug, Clone)]
pub struct KeyringTokenStore {
    service: String,
    account: String,
}

impl KeyringTokenStore {
    /// Uses the keyring entry `service`/`account`, such as `warden`/`default`.
    pub fn new(service: impl Into<String>, account: impl Into<String>) -> Self {
        KeyringTokenStore {
            service: service.into(),
            account: account.into(),
        }
    }

    fn entry(&self) -> Result<Entry, StorageError> {
        Entry::new(&self.service, &self.account).map_err(|error| self.failed(&error))
    }

    fn failed(&self, error: &keyring::Error) -> StorageError {
        StorageError::Keyring {
            location: self.location(),
            reason: error.to_string(),
        }
    }
}

impl TokenStorage for KeyringTokenStore {
    fn location(&self) -> String {
        format!("OS keyring entry `{}/{}`", self.service, self.account)
    }

    fn load(&self) -> Result<Option<String>, StorageError> {
        match self.entry()?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(self.failed(&error)),
        }
    }

    fn store(&self, token: &str) -> Result<(), StorageError> {
        crate::storage::check_token(&self.location(), token)?;
        match self.entry()?.set_password(token) {
            Ok(()) => Ok(()),
            // keyutils reports a denied write as "no entry" (keyring 3.6).
            Err(keyring::Error::NoEntry) => Err(StorageError::Keyring {
                location: self.location(),
                reason: "the keyring rejected the write; on Linux, check that this process has a session keyring it may write (`keyctl show @s`)".to_owned(),
            }),
            Err(error) => Err(self.failed(&error)),
        }
    }

    fn clear(&self) -> Result<(), StorageError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(self.failed(&error)),
        }
    }
}

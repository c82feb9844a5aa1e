//! Durable revocation list and usage counters: an append-only journal replayed into a
//! [`MemoryStore`] and a [`MemoryUsageCounter`].
//!
//! Each record is one line, `CRC32 JSON\n`, where the CRC (8 hex digits) covers the JSON.
//! A revocation is appended with one `write` and synced with `fdatasync` before `revoke`
//! returns. A use is appended with one `write` but not synced, so it survives a crash of
//! the process. An operating system crash may lose the uses since the last sync, which the
//! next revocation or compaction makes, so counts can only come out low.
//!
//! On open, the journal is replayed. A torn tail, which is a last record without its
//! newline or NUL bytes left by a crash, is cut off and logged. A damaged record anywhere
//! else stops the open with an error that names its byte offset. Compaction rewrites the
//! journal with the live revocations and one snapshot record per running count.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::model::{Revocation, RevocationStore, StoreError, TokenFacts, UsageCounter, UsageKey};
use crate::{MemoryStore, MemoryUsageCounter};

/// One journal record.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    /// A revocation entry.
    Revoke(Revocation),
    /// One use, replayed with the arguments `increment` had.
    Use {
        key: UsageKey,
        at: i64,
        window: Option<u64>,
        expires_at: Option<i64>,
    },
    /// A running count, written by compaction in place of its uses.
    Count {
        key: UsageKey,
        uses: u64,
        lapse_at: Option<i64>,
    },
}

/// Revocation list and usage counters backed by a journal file; see the module docs for
/// the format.
///
/// Several processes may share one file: appends take an exclusive lock, and each check
/// or use first reads any records other processes appended since the last one, so counts
/// are exact across processes. Every use adds a line, so run [`FileStore::compact`] (or
/// `purge`) now and then.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    index: MemoryStore,
    usage: MemoryUsageCounter,
    journal: Mutex<Journal>,
}

/// Kind of `flock` taken on the journal.
#[derive(Clone, Copy)]
enum Lock {
    Shared,
    Exclusive,
}

#[derive(Debug)]
struct Journal {
    file: File,
    /// Bytes of the file already replayed into the index.
    replayed: u64,
}

impl FileStore {
    /// Opens the journal at `path`, creating it if missing, and replays it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|source| io_error(&path, source))?;
        // Compaction renames a new file over the path. Resolving a symlink first keeps the link
        // pointing at the one journal, instead of replacing it with a regular file.
        let path = std::fs::canonicalize(&path).map_err(|source| io_error(&path, source))?;
        let store = FileStore {
            path,
            index: MemoryStore::new(),
            usage: MemoryUsageCounter::new(),
            journal: Mutex::new(Journal { file, replayed: 0 }),
        };
        {
            let mut journal = store.lock_journal()?;
            store.lock_current(&mut journal, Lock::Exclusive)?;
            let result = store.catch_up(&mut journal, true);
            let _ = journal.file.unlock();
            result?;
        }
        Ok(store)
    }

    /// Returns the journal path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rewrites the journal with only the entries and counts live at `now`, atomically
    /// (temporary file, sync, rename, directory sync), and returns how many revocation
    /// entries were dropped.
    pub fn compact(&self, now: i64) -> Result<usize, StoreError> {
        let mut journal = self.lock_journal()?;
        self.lock_current(&mut journal, Lock::Exclusive)?;
        let result = self.compact_locked(&mut journal, now);
        let _ = journal.file.unlock();
        result
    }

    fn compact_locked(&self, journal: &mut Journal, now: i64) -> Result<usize, StoreError> {
        self.catch_up(journal, false)?;
        let dropped = self.index.purge(now)?;
        self.usage.purge(now);
        let live = self.index.list(now)?;
        let mut text = String::new();
        for revocation in live {
            text.push_str(&encode(&Record::Revoke(revocation))?);
        }
        for (key, uses, lapse_at) in self.usage.snapshot(now) {
            text.push_str(&encode(&Record::Count {
                key,
                uses,
                lapse_at,
            })?);
        }
        let temporary = self.path.with_extension("compact.tmp");
        let write = || -> std::io::Result<File> {
            let mut file = File::create(&temporary)?;
            // The rewritten journal keeps the original's permissions, such as 0600.
            file.set_permissions(journal.file.metadata()?.permissions())?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)?;
            if let Some(parent) = self
                .path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                File::open(parent)?.sync_all()?;
            }
            OpenOptions::new().read(true).append(true).open(&self.path)
        };
        let file = write().map_err(|source| io_error(&self.path, source))?;
        journal.file = file;
        journal.replayed = text.len() as u64;
        Ok(dropped)
    }

    fn lock_journal(&self) -> Result<std::sync::MutexGuard<'_, Journal>, StoreError> {
        self.journal.lock().map_err(|_| {
            StoreError::Unavailable(format!("journal `{}` lock poisoned", self.path.display()))
        })
    }

    /// Locks the file now at the journal path. A file that another process replaced by
    /// compaction is reopened and replayed from the start first, because a lock on the old
    /// file would not exclude processes that already append to the new one.
    fn lock_current(&self, journal: &mut Journal, lock: Lock) -> Result<(), StoreError> {
        loop {
            let locked = match lock {
                Lock::Shared => journal.file.lock_shared(),
                Lock::Exclusive => journal.file.lock(),
            };
            locked.map_err(|source| io_error(&self.path, source))?;
            match self.was_replaced(journal) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(error) => {
                    let _ = journal.file.unlock();
                    return Err(error);
                }
            }
            let _ = journal.file.unlock();
            // Compaction only drops lapsed entries, so replaying the new file over the
            // current index is exact.
            journal.file = OpenOptions::new()
                .read(true)
                .append(true)
                .open(&self.path)
                .map_err(|source| io_error(&self.path, source))?;
            journal.replayed = 0;
        }
    }

    /// Replays records appended since the last replay. With `repair`, a torn tail is
    /// truncated; the caller must hold the exclusive file lock for that, and a lock of
    /// either kind otherwise.
    fn catch_up(&self, journal: &mut Journal, repair: bool) -> Result<(), StoreError> {
        let length = journal
            .file
            .metadata()
            .map_err(|source| io_error(&self.path, source))?
            .len();
        if length == journal.replayed {
            return Ok(());
        }
        let mut bytes = Vec::new();
        journal
            .file
            .seek(SeekFrom::Start(journal.replayed))
            .map_err(|source| io_error(&self.path, source))?;
        (&journal.file)
            .take(length.saturating_sub(journal.replayed))
            .read_to_end(&mut bytes)
            .map_err(|source| io_error(&self.path, source))?;
        let base = journal.replayed;
        let (records, good_len, tail) = parse_records(&bytes, base, &self.path)?;
        for record in records {
            self.apply(record);
        }
        journal.replayed = base + good_len;
        if let Some(reason) = tail
            && repair
        {
            tracing::warn!(
                path = %self.path.display(),
                offset = journal.replayed,
                reason,
                "cutting off torn journal tail left by an interrupted write"
            );
            journal
                .file
                .set_len(journal.replayed)
                .map_err(|source| io_error(&self.path, source))?;
            journal
                .file
                .sync_all()
                .map_err(|source| io_error(&self.path, source))?;
        }
        Ok(())
    }
}

impl FileStore {
    fn apply(&self, record: Record) {
        match record {
            Record::Revoke(revocation) => self.index.insert(revocation),
            Record::Use {
                key,
                at,
                window,
                expires_at,
            } => {
                // `MemoryUsageCounter::increment` always returns `Ok`.
                let _ = self.usage.increment(&key, at, window, expires_at);
            }
            Record::Count {
                key,
                uses,
                lapse_at,
            } => self.usage.restore(key, uses, lapse_at),
        }
    }

    #[cfg(unix)]
    fn was_replaced(&self, journal: &Journal) -> Result<bool, StoreError> {
        use std::os::unix::fs::MetadataExt;
        let open = journal
            .file
            .metadata()
            .map_err(|source| io_error(&self.path, source))?;
        let current =
            std::fs::metadata(&self.path).map_err(|source| io_error(&self.path, source))?;
        Ok(open.ino() != current.ino() || open.dev() != current.dev())
    }

    #[cfg(not(unix))]
    fn was_replaced(&self, _journal: &Journal) -> Result<bool, StoreError> {
        Ok(false)
    }
}

impl FileStore {
    /// Appends one encoded record and syncs it; the caller must hold the file lock.
    fn append(&self, journal: &mut Journal, line: &str) -> Result<(), StoreError> {
        journal
            .file
            .write_all(line.as_bytes())
            .map_err(|source| io_error(&self.path, source))?;
        journal
            .file
            .sync_data()
            .map_err(|source| io_error(&self.path, source))?;
        journal.replayed += line.len() as u64;
        Ok(())
    }
}

impl RevocationStore for FileStore {
    fn revoke(&self, revocation: Revocation) -> Result<(), StoreError> {
        let line = encode(&Record::Revoke(revocation.clone()))?;
        let mut journal = self.lock_journal()?;
        self.lock_current(&mut journal, Lock::Exclusive)?;
        let result = (|| {
            self.catch_up(&mut journal, true)?;
            self.append(&mut journal, &line)?;
            // Inserting before the lock is released keeps `try_revoke` exact in-process.
            self.index.insert(revocation);
            Ok(())
        })();
        let _ = journal.file.unlock();
        result
    }

    fn try_revoke(&self, revocation: Revocation) -> Result<bool, StoreError> {
        let line = encode(&Record::Revoke(revocation.clone()))?;
        let mut journal = self.lock_journal()?;
        journal
            .file
            .lock()
            .map_err(|source| io_error(&self.path, source))?;
        let result = (|| {
            self.catch_up(&mut journal, true)?;
            if self
                .index
                .has_live(&revocation.target, revocation.revoked_at)
            {
                return Ok(false);
            }
            self.append(&mut journal, &line)?;
            self.index.insert(revocation);
            Ok(true)
        })();
        let _ = journal.file.unlock();
        result
    }

    fn check(&self, facts: &TokenFacts<'_>, now: i64) -> Result<Option<Revocation>, StoreError> {
        {
            let mut journal = self.lock_journal()?;
            self.lock_current(&mut journal, Lock::Shared)?;
            let result = self.catch_up(&mut journal, false);
            let _ = journal.file.unlock();
            result?;
        }
        self.index.check(facts, now)
    }

    fn list(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        {
            let mut journal = self.lock_journal()?;
            self.lock_current(&mut journal, Lock::Shared)?;
            let result = self.catch_up(&mut journal, false);
            let _ = journal.file.unlock();
            result?;
        }
        self.index.list(now)
    }

    fn purge(&self, now: i64) -> Result<usize, StoreError> {
        self.compact(now)
    }
}

impl crate::model::TokenState for FileStore {}

impl UsageCounter for FileStore {
    fn increment(
        &self,
        key: &UsageKey,
        now: i64,
        window: Option<u64>,
        expires_at: Option<i64>,
    ) -> Result<u64, StoreError> {
        let line = encode(&Record::Use {
            key: key.clone(),
            at: now,
            window,
            expires_at,
        })?;
        let mut journal = self.lock_journal()?;
        self.lock_current(&mut journal, Lock::Exclusive)?;
        let result = (|| {
            self.catch_up(&mut journal, true)?;
            journal
                .file
                .write_all(line.as_bytes())
                .map_err(|source| io_error(&self.path, source))?;
            journal.replayed += line.len() as u64;
            // Counted while the file lock is held, so the count follows the file's order.
            self.usage.increment(key, now, window, expires_at)
        })();
        let _ = journal.file.unlock();
        result
    }
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn encode(record: &Record) -> Result<String, StoreError> {
    let json = serde_json::to_string(record).map_err(|error| {
        StoreError::Unavailable(format!("cannot encode journal record: {error}"))
    })?;
    Ok(format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes())))
}

/// Parsed records, the length of the good prefix, and why the tail was torn, if it was.
type Parsed = (Vec<Record>, u64, Option<&'static str>);

fn parse_records(bytes: &[u8], base: u64, path: &Path) -> Result<Parsed, StoreError> {
    let mut records = Vec::new();
    let mut offset = 0_usize;
    while offset < bytes.len() {
        let rest = bytes.get(offset..).unwrap_or_default();
        let Some(newline) = rest.iter().position(|byte| *byte == b'\n') else {
            return Ok((records, offset as u64, Some("last record has no newline")));
        };
        let line = rest.get(..newline).unwrap_or_default();
        match decode_line(line) {
            Ok(record) => records.push(record),
            Err(reason) => {
                // Zero bytes are what a crash leaves when the file grew but the data block
                // was never written. Only then is a complete-looking line a torn tail.
                let after = rest.get(newline + 1..).unwrap_or_default();
                if rest.contains(&0) && after.iter().all(|byte| *byte == 0 || *byte == b'\n') {
                    return Ok((records, offset as u64, Some("tail contains NUL bytes")));
                }
                return Err(StoreError::Corrupted {
                    path: path.display().to_string(),
                    offset: base + offset as u64,
                    reason,
                });
            }
        }
        offset += newline + 1;
    }
    Ok((records, offset as u64, None))
}

fn decode_line(line: &[u8]) -> Result<Record, String> {
    let text = std::str::from_utf8(line).map_err(|_| "record is not UTF-8".to_owned())?;
    let (crc, json) = text.split_once(' ').ok_or("record has no checksum")?;
    let expected =
        u32::from_str_radix(crc, 16).map_err(|_| format!("bad checksum field `{crc}`"))?;
    if crc.len() != 8 || crc32fast::hash(json.as_bytes()) != expected {
        return Err("checksum mismatch".to_owned());
    }
    serde_json::from_str(json).map_err(|error| format!("invalid record: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target;

    fn token(hash: u8) -> Revocation {
        Revocation::new(Target::Token { hash: [hash; 32] }, 0, Some(1_000))
    }

    fn facts(hash: u8) -> TokenFacts<'static> {
        TokenFacts {
            token_hash: [hash; 32],
            ..TokenFacts::default()
        }
    }

    #[test]
    fn revocation_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        FileStore::open(&path).unwrap().revoke(token(1)).unwrap();
        let reopened = FileStore::open(&path).unwrap();
        assert!(reopened.check(&facts(1), 10).unwrap().is_some());
        assert!(reopened.check(&facts(2), 10).unwrap().is_none());
    }

    #[test]
    fn torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        FileStore::open(&path).unwrap().revoke(token(1)).unwrap();
        let good_len = std::fs::metadata(&path).unwrap().len();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"1234abcd {\"op\":\"rev").unwrap();
        drop(file);
        let store = FileStore::open(&path).unwrap();
        assert!(store.check(&facts(1), 10).unwrap().is_some());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
        store.revoke(token(2)).unwrap();
        assert!(
            FileStore::open(&path)
                .unwrap()
                .check(&facts(2), 10)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn nul_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        FileStore::open(&path).unwrap().revoke(token(1)).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[0; 64]).unwrap();
        file.write_all(b"\n").unwrap();
        drop(file);
        assert!(
            FileStore::open(&path)
                .unwrap()
                .check(&facts(1), 10)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn corruption_names_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let store = FileStore::open(&path).unwrap();
        store.revoke(token(1)).unwrap();
        store.revoke(token(2)).unwrap();
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        let first_len = bytes.iter().position(|byte| *byte == b'\n').unwrap() + 1;
        bytes[first_len + 20] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        match FileStore::open(&path) {
            Err(StoreError::Corrupted { offset, reason, .. }) => {
                assert_eq!(offset, first_len as u64);
                assert_eq!(reason, "checksum mismatch");
            }
            other => panic!("expected corruption, got {other:?}"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "a corrupted journal is left as it is"
        );
    }

    #[test]
    fn sees_appends_from_another_handle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let reader = FileStore::open(&path).unwrap();
        FileStore::open(&path).unwrap().revoke(token(5)).unwrap();
        assert!(reader.check(&facts(5), 10).unwrap().is_some());
    }

    #[test]
    fn follows_compaction_by_another_handle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let reader = FileStore::open(&path).unwrap();
        let writer = FileStore::open(&path).unwrap();
        writer.revoke(token(1)).unwrap();
        writer.compact(10).unwrap();
        writer.revoke(token(2)).unwrap();
        assert!(reader.check(&facts(1), 10).unwrap().is_some());
        assert!(reader.check(&facts(2), 10).unwrap().is_some());
    }

    #[test]
    fn try_revoke_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        assert!(
            FileStore::open(&path)
                .unwrap()
                .try_revoke(token(1))
                .unwrap()
        );
        let reopened = FileStore::open(&path).unwrap();
        assert!(!reopened.try_revoke(token(1)).unwrap());
        assert!(reopened.check(&facts(1), 10).unwrap().is_some());
    }

    #[test]
    fn try_revoke_has_one_winner_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                // Separate handles, as separate processes would have, plus a shared one.
                let store = std::sync::Arc::new(FileStore::open(&path).unwrap());
                let shared = store.clone();
                let first = std::thread::spawn(move || store.try_revoke(token(9)).unwrap());
                let second = std::thread::spawn(move || shared.try_revoke(token(9)).unwrap());
                [first, second]
            })
            .collect();
        let winners = handles
            .into_iter()
            .flatten()
            .map(|handle| handle.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(winners, 1);
        let journal = std::fs::read_to_string(&path).unwrap();
        assert_eq!(journal.lines().count(), 1, "only the winner appended");
    }

    #[test]
    fn compaction_drops_lapsed_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let store = FileStore::open(&path).unwrap();
        store
            .revoke(Revocation::new(
                Target::Token { hash: [1; 32] },
                0,
                Some(50),
            ))
            .unwrap();
        store.revoke(token(2)).unwrap();
        assert_eq!(store.purge(100).unwrap(), 1);
        store.revoke(token(3)).unwrap();
        let reopened = FileStore::open(&path).unwrap();
        assert_eq!(reopened.list(100).unwrap().len(), 2);
        assert!(reopened.check(&facts(3), 100).unwrap().is_some());
    }

    #[test]
    fn usage_count_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let key = UsageKey::Token([1; 32]);
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.increment(&key, 10, None, Some(100)).unwrap(), 1);
        assert_eq!(store.increment(&key, 11, None, Some(100)).unwrap(), 2);
        drop(store);
        let reopened = FileStore::open(&path).unwrap();
        assert_eq!(reopened.increment(&key, 12, None, Some(100)).unwrap(), 3);
    }

    #[test]
    fn usage_counts_are_exact_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::sync::Arc::new(dir.path().join("revoked.journal"));
        let key = UsageKey::Jti {
            issuer: None,
            jti: "j".into(),
        };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                let key = key.clone();
                std::thread::spawn(move || {
                    let store = FileStore::open(path.as_ref()).unwrap();
                    for _ in 0..100 {
                        store.increment(&key, 0, None, None).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let store = FileStore::open(path.as_ref()).unwrap();
        assert_eq!(store.increment(&key, 0, None, None).unwrap(), 401);
    }

    #[test]
    fn compaction_keeps_running_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let running = UsageKey::Token([1; 32]);
        let lapsed = UsageKey::Token([2; 32]);
        let store = FileStore::open(&path).unwrap();
        for at in 0..5 {
            store.increment(&running, at, Some(100), None).unwrap();
        }
        store.increment(&lapsed, 0, Some(10), None).unwrap();
        store.compact(50).unwrap();
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(
            lines, 1,
            "one snapshot for the running count, none for the lapsed one"
        );
        let reopened = FileStore::open(&path).unwrap();
        assert_eq!(
            reopened.increment(&running, 60, Some(100), None).unwrap(),
            6
        );
        assert_eq!(reopened.increment(&lapsed, 60, Some(10), None).unwrap(), 1);
        assert_eq!(
            reopened.increment(&running, 100, Some(100), None).unwrap(),
            1
        );
    }

    #[test]
    fn torn_use_record_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked.journal");
        let key = UsageKey::Token([1; 32]);
        FileStore::open(&path)
            .unwrap()
            .increment(&key, 0, None, None)
            .unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"0badc0de {\"op\":\"use\",\"key\"").unwrap();
        drop(file);
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.increment(&key, 0, None, None).unwrap(), 2);
    }
}

#[cfg(all(test, unix))]
mod permission_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::Target;

    #[test]
    fn compaction_keeps_mode_and_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.journal");
        let link = dir.path().join("link.journal");
        std::fs::write(&real, b"").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let store = FileStore::open(&link).unwrap();
        store
            .revoke(Revocation::new(
                Target::Token { hash: [9; 32] },
                0,
                Some(1_000),
            ))
            .unwrap();
        store.compact(10).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "link was replaced"
        );
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let facts = TokenFacts {
            token_hash: [9; 32],
            ..TokenFacts::default()
        };
        assert!(
            FileStore::open(&link)
                .unwrap()
                .check(&facts, 10)
                .unwrap()
                .is_some()
        );
    }
}

//! Durable revocation list: an append-only journal replayed into a [`MemoryStore`].
//!
//! Each record is one line, `CRC32 JSON\n`, where the CRC (8 hex digits) covers the JSON.
//! A revocation is appended with one `write` and synced with `fdatasync` before `revoke`
//! returns. On open, the journal is replayed: a torn tail (a last record without its
//! newline, or NUL bytes left by a crash) is cut off and logged, while a damaged record
//! anywhere else stops the open with an error that names its byte offset.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::MemoryStore;
use crate::model::{Revocation, RevocationStore, StoreError, TokenFacts};

/// One journal record.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Revoke(Revocation),
}

/// Revocation list backed by a journal file; see the module docs for the format.
///
/// Several processes may share one file: appends take an exclusive lock, and each check
/// first reads any records other processes appended since the last one.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    index: MemoryStore,
    journal: Mutex<Journal>,
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
        let store = FileStore {
            path,
            index: MemoryStore::new(),
            journal: Mutex::new(Journal { file, replayed: 0 }),
        };
        {
            let mut journal = store.lock_journal()?;
            journal
                .file
                .lock()
                .map_err(|source| io_error(&store.path, source))?;
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

    /// Rewrites the journal with only the entries live at `now`, atomically (temporary
    /// file, sync, rename, directory sync).
    pub fn compact(&self, now: i64) -> Result<usize, StoreError> {
        let mut journal = self.lock_journal()?;
        journal
            .file
            .lock()
            .map_err(|source| io_error(&self.path, source))?;
        let result = self.compact_locked(&mut journal, now);
        let _ = journal.file.unlock();
        result
    }

    fn compact_locked(&self, journal: &mut Journal, now: i64) -> Result<usize, StoreError> {
        self.catch_up(journal, false)?;
        let dropped = self.index.purge(now)?;
        let live = self.index.list(now)?;
        let mut text = String::new();
        for revocation in live {
            text.push_str(&encode(&Record::Revoke(revocation))?);
        }
        let temporary = self.path.with_extension("compact.tmp");
        let write = || -> std::io::Result<File> {
            let mut file = File::create(&temporary)?;
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

    /// Replays records appended since the last replay. With `repair`, a torn tail is
    /// truncated; the caller must hold the file lock.
    fn catch_up(&self, journal: &mut Journal, repair: bool) -> Result<(), StoreError> {
        if self.was_replaced(journal)? {
            // Another process compacted the journal into a new file. Compaction only drops
            // lapsed entries, so replaying the new file over the current index is exact.
            journal.file = OpenOptions::new()
                .read(true)
                .append(true)
                .open(&self.path)
                .map_err(|source| io_error(&self.path, source))?;
            journal.replayed = 0;
        }
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
        for Record::Revoke(revocation) in records {
            self.index.insert(revocation);
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

impl RevocationStore for FileStore {
    fn revoke(&self, revocation: Revocation) -> Result<(), StoreError> {
        let line = encode(&Record::Revoke(revocation.clone()))?;
        let mut journal = self.lock_journal()?;
        journal
            .file
            .lock()
            .map_err(|source| io_error(&self.path, source))?;
        let result = (|| {
            self.catch_up(&mut journal, true)?;
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
        })();
        let _ = journal.file.unlock();
        result?;
        self.index.insert(revocation);
        Ok(())
    }

    fn check(&self, facts: &TokenFacts<'_>, now: i64) -> Result<Option<Revocation>, StoreError> {
        {
            let mut journal = self.lock_journal()?;
            journal
                .file
                .lock_shared()
                .map_err(|source| io_error(&self.path, source))?;
            let result = self.catch_up(&mut journal, false);
            let _ = journal.file.unlock();
            result?;
        }
        self.index.check(facts, now)
    }

    fn list(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        {
            let mut journal = self.lock_journal()?;
            self.catch_up(&mut journal, false)?;
        }
        self.index.list(now)
    }

    fn purge(&self, now: i64) -> Result<usize, StoreError> {
        self.compact(now)
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
                // was never written; only then is a complete-looking line a torn tail.
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
}

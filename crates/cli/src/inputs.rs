//! Token sources: arguments, a file with one token per line, or stdin.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

/// A stream of tokens, with a progress bar on stderr when stderr is a terminal.
pub struct TokenSource {
    lines: Box<dyn BufRead>,
    arguments: std::vec::IntoIter<String>,
    progress: ProgressBar,
}

impl TokenSource {
    /// Picks the source: `arguments` if any, else `file`, else stdin (which must not be
    /// a terminal, so a forgotten argument does not hang the command).
    pub fn open(arguments: Vec<String>, file: Option<&Path>) -> Result<Self> {
        let empty: Box<dyn BufRead> = Box::new(std::io::empty());
        if !arguments.is_empty() {
            if file.is_some() {
                bail!("give tokens as arguments or with `--tokens`, not both");
            }
            return Ok(TokenSource {
                lines: empty,
                arguments: arguments.into_iter(),
                progress: ProgressBar::hidden(),
            });
        }
        let (reader, length): (Box<dyn Read>, Option<u64>) = match file {
            Some(path) if path.as_os_str() != "-" => {
                let file = File::open(path)
                    .with_context(|| format!("cannot read tokens from `{}`", path.display()))?;
                let length = file.metadata().ok().map(|metadata| metadata.len());
                (Box::new(file), length)
            }
            _ => {
                if std::io::stdin().is_terminal() {
                    bail!(
                        "no tokens given; pass them as arguments, with `--tokens FILE`, or on stdin"
                    );
                }
                (Box::new(std::io::stdin()), None)
            }
        };
        Ok(TokenSource {
            lines: Box::new(BufReader::with_capacity(1 << 16, reader)),
            arguments: Vec::new().into_iter(),
            progress: progress_bar(length),
        })
    }

    /// Finishes the progress bar, if one is shown.
    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }
}

impl Iterator for TokenSource {
    type Item = Result<String>;

    /// Yields the next token; blank lines and lines starting with `#` are skipped. A line
    /// that is not UTF-8 is passed on with replacement characters, so it is reported as
    /// malformed instead of ending the batch.
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(argument) = self.arguments.next() {
            return Some(Ok(argument));
        }
        loop {
            match read_line_capped(&mut self.lines, MAX_LINE_BYTES) {
                Ok(None) => return None,
                Ok(Some((line, consumed))) => {
                    self.progress.inc(consumed);
                    let text = String::from_utf8_lossy(&line);
                    let token = text.trim();
                    if !token.is_empty() && !token.starts_with('#') {
                        return Some(Ok(token.to_owned()));
                    }
                }
                Err(error) => {
                    return Some(Err(anyhow::Error::new(error).context("cannot read tokens")));
                }
            }
        }
    }
}

/// Maximum line length kept in memory, in bytes. A longer line is cut there, so it is still
/// longer than any sensible `max_token_length` and is reported as too long.
const MAX_LINE_BYTES: usize = 1 << 20;

/// Reads one line and keeps at most `cap` bytes of it. Returns the kept bytes and the
/// number of bytes consumed, or `None` at the end of input.
fn read_line_capped(
    reader: &mut dyn BufRead,
    cap: usize,
) -> std::io::Result<Option<(Vec<u8>, u64)>> {
    let mut line = Vec::new();
    let mut consumed = 0_u64;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((consumed > 0).then_some((line, consumed)));
        }
        let (chunk, found_newline) = match buffer.iter().position(|byte| *byte == b'\n') {
            Some(index) => (buffer.get(..index).unwrap_or_default(), true),
            None => (buffer, false),
        };
        let room = cap.saturating_sub(line.len());
        line.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        let used = chunk.len() + usize::from(found_newline);
        reader.consume(used);
        consumed += used as u64;
        if found_newline {
            return Ok(Some((line, consumed)));
        }
    }
}

fn progress_bar(length: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match length {
        Some(length) => {
            let bar = ProgressBar::new(length);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {elapsed} eta {eta}")
            {
                bar.set_style(style);
            }
            bar
        }
        None => ProgressBar::new_spinner(),
    }
}

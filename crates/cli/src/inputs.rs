//! Where tokens come from: arguments, a file with one token per line, or stdin.

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

    /// Yields the next token; blank lines and lines starting with `#` are skipped.
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(argument) = self.arguments.next() {
            return Some(Ok(argument));
        }
        let mut line = String::new();
        loop {
            line.clear();
            match self.lines.read_line(&mut line) {
                Ok(0) => return None,
                Ok(read) => {
                    self.progress.inc(read as u64);
                    let token = line.trim();
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

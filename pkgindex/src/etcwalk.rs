//! Turning an `/etc` tree into config chunks: every admitted text file (see
//! [`crate::secrets`]) is split into chunks of whole lines, at most [`CHUNK_CHARS`]
//! characters (well under the model's 256-token window), breaking at ini-style
//! `[section]` headers so each chunk knows its section. Symlinks are not followed.

use std::path::{Path, PathBuf};

use crate::secrets::{self, Skip};

/// Character budget of one chunk (≈ 150–220 MiniLM tokens on config text).
pub const CHUNK_CHARS: usize = 640;

/// A piece of a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Path as the system sees it (`/etc/...`).
    pub path: String,
    /// 1-based inclusive line range.
    pub lines: (usize, usize),
    /// Nearest `[section]` header above (or inside) the chunk.
    pub section: String,
    /// The (redacted) text.
    pub text: String,
    /// Index of this chunk within its file.
    pub index: usize,
}

/// What the walk saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WalkReport {
    pub files: usize,
    pub skipped_secret: usize,
    pub skipped_unreadable: usize,
    pub skipped_other: usize,
}

/// Splits one file's text into chunks.
pub fn chunk_file(path: &str, text: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut cur = String::new();
    let mut start = 1;
    let mut cur_section = String::new();
    let flush = |out: &mut Vec<Chunk>, cur: &mut String, start: usize, end: usize, sec: &str| {
        if !cur.trim().is_empty() {
            out.push(Chunk {
                path: path.to_string(),
                lines: (start, end),
                section: sec.to_string(),
                text: std::mem::take(cur),
                index: out.len(),
            });
        }
        cur.clear();
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        let is_header = t.starts_with('[') && t.ends_with(']') && t.len() > 2 && !t.contains('=');
        if (is_header && !cur.is_empty())
            || (!cur.is_empty() && cur.len() + line.len() + 1 > CHUNK_CHARS)
        {
            flush(&mut out, &mut cur, start, n - 1, &cur_section);
            start = n;
        }
        if cur.is_empty() {
            start = n;
            cur_section = section.clone();
        }
        if is_header {
            section = t[1..t.len() - 1].to_string();
            cur_section = section.clone();
        }
        // A single over-long line is cut, not dropped.
        let mut l = line;
        if l.len() > CHUNK_CHARS {
            let mut cut = CHUNK_CHARS;
            while !l.is_char_boundary(cut) {
                cut -= 1;
            }
            l = &l[..cut];
        }
        cur.push_str(l);
        cur.push('\n');
    }
    let end = text.lines().count();
    flush(&mut out, &mut cur, start, end, &cur_section);
    out
}

/// Walks `etc` (shown to users as `/etc`), admitting files by the secret rules;
/// `allow` lists paths (`/etc/...`) indexed even if not world-readable.
pub fn walk(etc: &Path, allow: &[PathBuf]) -> (Vec<Chunk>, WalkReport) {
    let mut chunks = Vec::new();
    let mut rep = WalkReport::default();
    let mut entries: Vec<_> = walkdir::WalkDir::new(etc)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .collect();
    entries.retain(|e| e.file_type().is_file());
    for e in entries {
        let rel = e.path().strip_prefix(etc).expect("below etc").to_path_buf();
        let shown = Path::new("/etc").join(&rel);
        let Ok(meta) = e.metadata() else { continue };
        if secrets::secret_path(&rel) {
            rep.skipped_secret += 1;
            tracing::debug!(path = %shown.display(), "skipped: secret by path");
            continue;
        }
        let allowed = allow.iter().any(|a| a == &shown);
        let bytes = match std::fs::read(e.path()) {
            Ok(b) => b,
            Err(_) => {
                rep.skipped_unreadable += 1;
                continue;
            }
        };
        match secrets::admit(&rel, &meta, &bytes, allowed) {
            Ok(text) => {
                rep.files += 1;
                chunks.extend(chunk_file(&shown.to_string_lossy(), &text));
            }
            Err(Skip::SecretPath | Skip::PrivateKey) => {
                rep.skipped_secret += 1;
                tracing::debug!(path = %shown.display(), "skipped: holds secrets");
            }
            Err(Skip::NotWorldReadable) => rep.skipped_unreadable += 1,
            Err(Skip::Binary | Skip::TooLarge) => rep.skipped_other += 1,
        }
    }
    (chunks, rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_follow_sections_and_budget() {
        let text = "# pacman.conf\n[options]\nHoldPkg = pacman glibc\nArchitecture = auto\n\n[core]\nInclude = /etc/pacman.d/mirrorlist\n";
        let c = chunk_file("/etc/pacman.conf", text);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!((c[1].section.as_str(), c[1].lines), ("options", (2, 5)));
        assert_eq!((c[2].section.as_str(), c[2].lines), ("core", (6, 7)));
        let long: String = (0..200)
            .map(|i| format!("key{i} = value number {i}\n"))
            .collect();
        let c = chunk_file("/etc/x.conf", &long);
        assert!(c.len() > 5 && c.iter().all(|x| x.text.len() <= CHUNK_CHARS + 1));
        assert_eq!(c.last().unwrap().lines.1, 200);
        assert_eq!(
            c.iter().map(|x| x.lines.1 - x.lines.0 + 1).sum::<usize>(),
            200,
            "every line in exactly one chunk"
        );
    }
}

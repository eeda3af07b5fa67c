//! pacman's `desc` format: sections `%KEY%` followed by value lines, ended by a blank
//! line. Used by sync databases (inside the tar) and the local database (one file per
//! package). The parser never panics and keeps only what it understands; it is fuzzed
//! (`fuzz/fuzz_targets/desc.rs`).

use std::collections::BTreeMap;

/// Parsed sections: key (without `%`) → value lines.
pub type Desc = BTreeMap<String, Vec<String>>;

/// Parses a desc file (invalid UTF-8 is replaced, not rejected).
pub fn parse(bytes: &[u8]) -> Desc {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Desc::new();
    let mut key: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            key = None;
            continue;
        }
        if line.len() > 2 && line.starts_with('%') && line.ends_with('%') && key.is_none() {
            let k = line[1..line.len() - 1].to_string();
            out.entry(k.clone()).or_default();
            key = Some(k);
            continue;
        }
        if let Some(k) = &key {
            out.entry(k.clone()).or_default().push(line.to_string());
        }
    }
    out
}

/// First value of `key`, if any.
pub fn first<'a>(d: &'a Desc, key: &str) -> Option<&'a str> {
    d.get(key).and_then(|v| v.first()).map(String::as_str)
}

/// All values of `key` (empty if absent).
pub fn all(d: &Desc, key: &str) -> Vec<String> {
    d.get(key).cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections() {
        let d = parse(b"%NAME%\nacl\n\n%DEPENDS%\nattr\nlibattr.so\n\n%EMPTY%\n\n");
        assert_eq!(first(&d, "NAME"), Some("acl"));
        assert_eq!(all(&d, "DEPENDS"), vec!["attr", "libattr.so"]);
        assert_eq!(all(&d, "EMPTY"), Vec::<String>::new());
        assert_eq!(first(&d, "MISSING"), None);
    }

    #[test]
    fn tolerates_garbage() {
        for junk in [
            &b""[..],
            b"%",
            b"%%\n",
            b"no header\nvalue",
            b"%A%\n\xff\xfe",
            b"%A%\r\nx\r\n",
        ] {
            let _ = parse(junk);
        }
        assert_eq!(first(&parse(b"%A%\r\nx\r\n"), "A"), Some("x"));
    }
}

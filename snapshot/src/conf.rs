//! Per-snapshot configuration, astOS's `/etc/ast.conf`: one `key::value` per line
//! (e.g. `aur::True`), `#` comments and blank lines allowed.

use std::collections::BTreeMap;

use crate::{Error, Result};

/// Path of the file inside a snapshot's root.
pub const AST_CONF: &str = "etc/ast.conf";

/// Parses and validates `text`.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || Error::BadConf {
            line: i + 1,
            text: raw.to_string(),
        };
        let (k, v) = line.split_once("::").ok_or_else(bad)?;
        let k = k.trim();
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(bad());
        }
        out.insert(k.to_string(), v.trim().to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_astos_syntax() {
        let c = parse("# comment\naur::True\n\n  dist :: arch \n").unwrap();
        assert_eq!(c["aur"], "True");
        assert_eq!(c["dist"], "arch");
    }

    #[test]
    fn reports_the_bad_line() {
        match parse("aur::True\nnonsense\n") {
            Err(Error::BadConf { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
        assert!(parse("a b::c").is_err());
    }
}

//! What never enters the index (nor the logs): the rules of docs/security.md.
//!
//! Whole files are skipped when their path or content says they hold secrets:
//! `shadow`/`gshadow` (and their `-` backups), anything under
//! `NetworkManager/system-connections/`, ssh host keys (`ssh/ssh_host_*`), `*.key`,
//! any file containing a `PRIVATE KEY` block, files that are not world-readable (unless
//! allow-listed), binary files and files over 1 MiB. In every other file, the value of
//! any `key = value` / `key: value` / `key value` line whose key looks like a secret
//! (password, passwd, psk, secret, token, api_key, …) is replaced by `[REDACTED]` before
//! the text is chunked, embedded or stored. Only paths are ever logged.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Marker that replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";
/// Largest file indexed.
pub const MAX_FILE: u64 = 1 << 20;

/// Key fragments that mark a value as secret (compared case-insensitively, ignoring
/// `_`, `-` and `.`).
const SECRET_KEYS: [&str; 13] = [
    "password",
    "passwd",
    "passphrase",
    "psk",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "presharedkey",
    "credential",
    "authkey",
    "wepkey",
    "auth_pass",
];

/// Values that are settings, not secrets (`PasswordAuthentication no` stays readable).
const PLAIN_VALUES: [&str; 10] = [
    "yes",
    "no",
    "true",
    "false",
    "on",
    "off",
    "0",
    "1",
    "none",
    "prohibit-password",
];

/// Why a file was left out (reported by `index build` as counts, never contents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    SecretPath,
    PrivateKey,
    NotWorldReadable,
    Binary,
    TooLarge,
}

/// Decides from the path (relative to the /etc root) whether a file is off limits.
pub fn secret_path(rel: &Path) -> bool {
    let s = rel.to_string_lossy();
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    matches!(
        name.as_str(),
        "shadow" | "gshadow" | "shadow-" | "gshadow-" | "passwd-" | "group-"
    ) || name.ends_with(".key")
        || (s.starts_with("ssh/") && name.starts_with("ssh_host_"))
        || s.starts_with("NetworkManager/system-connections")
        || s.contains("/NetworkManager/system-connections/")
}

/// Checks a file's metadata and content; `Ok(text)` if it may be indexed.
pub fn admit(
    rel: &Path,
    meta: &std::fs::Metadata,
    bytes: &[u8],
    allowed: bool,
) -> Result<String, Skip> {
    if secret_path(rel) {
        return Err(Skip::SecretPath);
    }
    if meta.permissions().mode() & 0o004 == 0 && !allowed {
        return Err(Skip::NotWorldReadable);
    }
    if meta.len() > MAX_FILE {
        return Err(Skip::TooLarge);
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err(Skip::Binary);
    }
    let text = String::from_utf8_lossy(bytes);
    if text.contains("PRIVATE KEY-----") || text.contains("PRIVATE KEY BLOCK-----") {
        return Err(Skip::PrivateKey);
    }
    Ok(redact(&text))
}

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_secret_key(key: &str) -> bool {
    let k = normalise(key);
    !k.is_empty() && SECRET_KEYS.iter().any(|s| k.contains(&normalise(s)))
}

/// Replaces secret values in every line.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&redact_line(line));
    }
    out
}

fn redact_line(line: &str) -> String {
    let body = line.trim_end_matches(['\n', '\r']);
    let ending = &line[body.len()..];
    let trimmed = body.trim_start();
    if trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.is_empty() {
        // Comments can hold examples of secrets too; redact them the same way.
        let lead = &body[..body.len() - trimmed.len()];
        let marker = &trimmed[..trimmed.len().min(1)];
        let rest = &trimmed[marker.len()..];
        if rest.trim().is_empty() || rest.trim_start().starts_with(['#', ';']) {
            return line.to_string();
        }
        let inner = redact_line(rest);
        return format!("{lead}{marker}{inner}{ending}");
    }
    // `key = value` / `key: value` when the part before the first = or : is one word,
    // else `key value` (sshd, wpa_supplicant's network blocks use =, ini files =).
    let lead = body.len() - trimmed.len();
    let eq = body
        .find(['=', ':'])
        .filter(|&i| !body[lead..i].trim().contains(char::is_whitespace));
    let ws = trimmed.find(char::is_whitespace).map(|i| i + lead);
    let Some(i) = eq.or(ws) else {
        return line.to_string();
    };
    let key = body[..i].trim().trim_matches(['"', '\'']);
    if !is_secret_key(key) {
        return line.to_string();
    }
    // The separator may be a multi-byte character (U+2000 is whitespace too).
    let sep_len = body[i..].chars().next().map(char::len_utf8).unwrap_or(1);
    let after = &body[i + sep_len..];
    let value = after.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    if value.is_empty() || PLAIN_VALUES.contains(&value.as_str()) {
        return line.to_string();
    }
    let lead_ws = &after[..after.len() - after.trim_start().len()];
    format!(
        "{}{}{lead_ws}{REDACTED}{ending}",
        &body[..i],
        &body[i..i + sep_len]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_keys_in_common_syntaxes() {
        let text = "user=alice\npassword = hunter2\napi_token: abc123\nAPI-KEY=zzz\n  psk=\"wifi-pass\"\nPreSharedKey = wg\n# secret=commented\nPasswordAuthentication no\nport=22\n";
        let r = redact(text);
        for s in ["hunter2", "abc123", "zzz", "wifi-pass", "wg", "commented"] {
            assert!(!r.contains(s), "{s} leaked: {r}");
        }
        assert!(r.contains("user=alice") && r.contains("port=22"));
        assert!(
            r.contains("PasswordAuthentication no\n"),
            "settings stay readable: {r}"
        );
        assert!(r.contains("password = [REDACTED]\n"));
        assert_eq!(r.lines().count(), text.lines().count());
    }

    #[test]
    fn multibyte_separators_do_not_panic() {
        // Found by cargo-fuzz (target redact): U+2000 (3 bytes) as the separator.
        let r = redact("token\u{2000}hunter2\npassword\u{3000}=\u{3000}x\n");
        assert!(!r.contains("hunter2") && !r.contains("=\u{3000}x"), "{r}");
        let crash = [
            0x74, 0x80, 0x80, 0xea, 0xe2, 0x74, 0x6f, 0x6b, 0x65, 0x6e, 0xe2, 0x80, 0x80, 0x79,
            0x65, 0x73, 0x3a,
        ];
        let _ = redact(&String::from_utf8_lossy(&crash));
    }

    #[test]
    fn secret_paths() {
        for p in [
            "shadow",
            "gshadow-",
            "ssh/ssh_host_ed25519_key",
            "ssh/ssh_host_rsa_key.pub",
            "NetworkManager/system-connections/home.nmconnection",
            "tls/server.key",
        ] {
            assert!(secret_path(Path::new(p)), "{p}");
        }
        for p in [
            "pacman.conf",
            "ssh/sshd_config",
            "systemd/system/sshd.service",
        ] {
            assert!(!secret_path(Path::new(p)), "{p}");
        }
    }
}

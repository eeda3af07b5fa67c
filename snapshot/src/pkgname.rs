//! Package names from users are checked before pacman ever sees them.

use crate::{Error, Result};

/// pacman's rule: letters, digits and `@._+-`, not starting with `-` or `.`.
pub fn validate(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '.'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidPackage(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_real_names_and_rejects_injection() {
        for good in [
            "base",
            "linux-firmware",
            "gtk+3",
            "python3.11",
            "lib32-glibc",
            "@scope",
        ] {
            super::validate(good).unwrap();
        }
        for bad in ["", "-Syu", "../x", "a;rm", "a b", ".hidden", "$(id)", "a/b"] {
            assert!(super::validate(bad).is_err(), "{bad:?}");
        }
    }
}

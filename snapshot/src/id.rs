//! Snapshot ids. Ids come from users (argv, JSON, astOS files): they are parsed
//! strictly — ASCII digits only, at most 9 of them — so an id can never smuggle a path
//! (`../x`) or shell syntax (`1;rm`) into a subvolume path.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The number of a snapshot in the tree; 0 is the base snapshot.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SnapId(pub u64);

impl SnapId {
    /// The base snapshot.
    pub const BASE: SnapId = SnapId(0);

    pub fn is_base(self) -> bool {
        self == Self::BASE
    }
}

impl FromStr for SnapId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim_start_matches('#');
        if t.is_empty() || t.len() > 9 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidId(s.to_string()));
        }
        Ok(SnapId(
            t.parse().map_err(|_| Error::InvalidId(s.to_string()))?,
        ))
    }
}

impl fmt::Display for SnapId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_hash_prefix() {
        assert_eq!("0".parse::<SnapId>().unwrap(), SnapId(0));
        assert_eq!("#12".parse::<SnapId>().unwrap(), SnapId(12));
    }

    #[test]
    fn rejects_paths_and_shell() {
        for bad in [
            "",
            "1;rm",
            "../x",
            "-1",
            "+1",
            " 1",
            "1 ",
            "0x1",
            "1234567890",
            "1/2",
            "#",
        ] {
            assert!(bad.parse::<SnapId>().is_err(), "{bad:?} accepted");
        }
    }
}

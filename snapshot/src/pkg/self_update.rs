//! `self-update`: rast's own package, upgraded in a new snapshot.
//!
//! The upgrade is an ordinary transaction: a branch of snapshot N gets `pacman -S
//! rast` against N's sync databases as they are — never a refresh first (that would be
//! a partial upgrade, `-Sy PKG`, which Arch does not support); `rast refresh N` or
//! `-Syu` bring newer databases. N itself is never changed, so the old rast stays one
//! rollback away. A rast that pacman did not install is not touched: the caller says
//! how it was installed.

use serde::Serialize;

use super::db::{self, PkgDb};
use super::{PkgOpts, PkgOutcome};
use crate::layout::Part;
use crate::{Rast, Result, SnapId};

/// What `self-update` found or did.
#[derive(Debug, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SelfUpdate {
    /// No package `name` in N's local database.
    NotPackaged { snapshot: SnapId },
    /// The sync databases hold nothing newer.
    Newest {
        snapshot: SnapId,
        installed: String,
        /// The version the sync databases have (none: no repository has it).
        available: Option<String>,
    },
    /// A new snapshot holds the new version.
    Updated {
        from: SnapId,
        snapshot: SnapId,
        old: String,
        new: String,
    },
    /// pacman failed; the new snapshot was deleted again.
    Failed { from: SnapId, outcome: PkgOutcome },
}

impl Rast {
    /// Upgrades package `name` (rast's) of snapshot `n` in a new branch of `n`.
    pub fn self_update(&self, n: SnapId, name: &str, opts: PkgOpts) -> Result<SelfUpdate> {
        self.meta()?.get(n)?;
        let (local, sync) = {
            let db = PkgDb::open(&self.layout().part(Part::Rootfs, n))?;
            (db.installed_pkg(name), db.sync_pkg(name))
        };
        let Some(local) = local else {
            return Ok(SelfUpdate::NotPackaged { snapshot: n });
        };
        let newer = sync
            .as_ref()
            .filter(|s| db::vercmp(&s.version, &local.version) == std::cmp::Ordering::Greater);
        let Some(newer) = newer else {
            return Ok(SelfUpdate::Newest {
                snapshot: n,
                installed: local.version,
                available: sync.map(|s| s.version),
            });
        };
        let m = self.branch(n)?;
        self.describe(
            m,
            &format!(
                "self-update of {n}: {name} {} → {}",
                local.version, newer.version
            ),
        )?;
        let o = self.install(m, &[name.to_string()], opts)?;
        if !o.committed {
            self.delete(&[m], &mut |_| true)?;
            return Ok(SelfUpdate::Failed {
                from: n,
                outcome: o,
            });
        }
        Ok(SelfUpdate::Updated {
            from: n,
            snapshot: m,
            old: local.version,
            new: newer.version.clone(),
        })
    }
}

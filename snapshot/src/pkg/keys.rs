//! `pkg fix-keys`: re-initialise and populate pacman's keyring inside a snapshot,
//! then reinstall `archlinux-keyring` — astOS's recipe for "invalid or corrupted
//! package (PGP signature)", run as one transaction.
//!
//! Steps, each reported: (1) remove the snapshot's `etc/pacman.d/gnupg`;
//! (2) `pacman-key --init` — the snapshot's own pacman-key in a chroot when it has
//! one, else the host's with `--gpgdir` pointed into the snapshot; (3) `pacman-key
//! --populate` from the snapshot's own keyrings (`usr/share/pacman/keyrings`; skipped,
//! and said so, when it ships none, as test snapshots don't); (4) `pacman -S
//! archlinux-keyring` when a sync database has it (skipped otherwise).

use std::process::Command;

use serde::Serialize;

use super::{PkgOpts, PkgOutcome};
use crate::sandbox::Sandbox;
use crate::{txn, Error, Rast, Result, SnapId};

/// One step of fix-keys and what happened.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub step: &'static str,
    pub done: bool,
    pub note: String,
}

impl Rast {
    /// `pkg fix-keys` on snapshot `n`.
    pub fn fix_keys(&self, n: SnapId, opts: PkgOpts) -> Result<(PkgOutcome, Vec<Step>)> {
        let _g = self.lock(&format!("fix-keys {n}"))?;
        let meta = self.meta()?;
        let mut steps = Vec::new();
        let outcome = self.pkg_txn(&meta, n, false, |t, pm| {
            let root = t.root();
            let gnupg = root.join("etc/pacman.d/gnupg");
            let inside = root.join("usr/bin/pacman-key").is_file();
            let mut steps_body = || -> Result<std::process::ExitStatus> {
                if gnupg.exists() {
                    std::fs::remove_dir_all(&gnupg).map_err(Error::io(&gnupg))?;
                }
                steps.push(Step {
                    step: "remove old keyring",
                    done: true,
                    note: gnupg.display().to_string(),
                });
                // pacman-key's chatter goes to stderr, like pacman's (stdout is rast's result).
                let key_cmd = |args: &[&str]| -> Result<Command> {
                    let mut c = if inside {
                        let mut argv = vec!["pacman-key"];
                        argv.extend_from_slice(args);
                        Sandbox::chroot(root).command(&argv)?
                    } else {
                        let mut c = Command::new("pacman-key");
                        c.arg("--gpgdir")
                            .arg(&gnupg)
                            .arg("--config")
                            .arg(pm.config()?)
                            .args(args);
                        c
                    };
                    c.stdout(std::io::stderr());
                    Ok(c)
                };
                let st = txn::status(&mut key_cmd(&["--init"])?, "pacman-key")?;
                steps.push(Step {
                    step: "pacman-key --init",
                    done: st.success(),
                    note: if inside {
                        "in the snapshot".into()
                    } else {
                        "host pacman-key, keyring in the snapshot".into()
                    },
                });
                if !st.success() {
                    return Ok(st);
                }
                let keyrings = root.join("usr/share/pacman/keyrings");
                let has_keyrings = std::fs::read_dir(&keyrings)
                    .map(|rd| {
                        rd.flatten()
                            .any(|e| e.path().extension().is_some_and(|x| x == "gpg"))
                    })
                    .unwrap_or(false);
                if inside && has_keyrings {
                    let st = txn::status(&mut key_cmd(&["--populate"])?, "pacman-key")?;
                    steps.push(Step {
                        step: "pacman-key --populate",
                        done: st.success(),
                        note: String::new(),
                    });
                    if !st.success() {
                        return Ok(st);
                    }
                } else {
                    steps.push(Step {
                        step: "pacman-key --populate",
                        done: false,
                        note: format!(
                            "skipped: {} ships no keyrings it can load",
                            keyrings.display()
                        ),
                    });
                }
                let in_repos = super::db::PkgDb::open(root)?
                    .sync_pkg("archlinux-keyring")
                    .is_some();
                if in_repos {
                    let op = Rast::op_args(
                        &["-S"],
                        PkgOpts {
                            noconfirm: true,
                            ..opts
                        },
                    );
                    let st = pm.run(&op, &["archlinux-keyring".to_string()])?;
                    steps.push(Step {
                        step: "reinstall archlinux-keyring",
                        done: st.success(),
                        note: String::new(),
                    });
                    return Ok(st);
                }
                steps.push(Step {
                    step: "reinstall archlinux-keyring",
                    done: false,
                    note: "skipped: not in this snapshot's repositories".into(),
                });
                Ok(super::success_status())
            };
            let r = steps_body();
            stop_gpg_agents(root, &gnupg, inside);
            r
        })?;
        Ok((outcome, steps))
    }
}

/// pacman-key (and archlinux-keyring's scriptlet) start a gpg-agent whose home is the
/// keyring inside the snapshot being changed. Left running it would keep that
/// snapshot's filesystem busy and outlive the transaction, so it is stopped,
/// whatever the outcome. Best effort: nothing to stop is fine.
fn stop_gpg_agents(root: &std::path::Path, gnupg: &std::path::Path, inside: bool) {
    let args = ["--kill", "all"];
    let cmd = if inside {
        Sandbox::chroot(root)
            .command(&[
                "gpgconf",
                "--homedir",
                "/etc/pacman.d/gnupg",
                args[0],
                args[1],
            ])
            .ok()
    } else {
        let mut c = Command::new("gpgconf");
        c.arg("--homedir").arg(gnupg).args(args);
        Some(c)
    };
    if let Some(mut c) = cmd {
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        match c.status() {
            Ok(st) if st.success() => tracing::debug!("stopped gpg agents of {}", gnupg.display()),
            Ok(st) => tracing::debug!("gpgconf --kill all: {st}"),
            Err(e) => tracing::debug!("gpgconf not run: {e}"),
        }
    }
}

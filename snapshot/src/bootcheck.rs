//! `rast boot-confirm`: the boot-success step, run by the booted system once it is up
//! (`rast-boot-confirm.service` after multi-user.target; the boot tests' init runs it).
//!
//! - If this boot is a deployment's trial, the trial is confirmed: GRUB's boot state
//!   makes this slot the default, systemd-boot's entry loses its boot counter (what
//!   systemd-bless-boot does).
//! - If the other slot's trial spent its try without getting here, that deployment
//!   failed to boot: it is recorded in the tree metadata (`rast status` and `rast tree`
//!   say so), the trial is cleared so it is never booted again, the running slot is made
//!   the default subvolume again, and the running deployment is the current deployment
//!   (what a later `rollback` reverts from).
//!
//! Nothing is changed when there is nothing to confirm; running it twice is harmless.

use serde::Serialize;

use crate::bootenv::BootEnv;
use crate::bootloader::{bootenv_path, entry_counter, entry_slot, other_slot};
use crate::esp::Esp;
use crate::layout::{Mode, Part};
use crate::meta::{now, FailedBoot};
use crate::{btrfs, state, Error, Rast, Result, SnapId};

/// What `boot-confirm` found.
#[derive(Clone, Debug, Serialize)]
pub struct BootConfirm {
    pub slot: String,
    pub snapshot: Option<SnapId>,
    /// This boot ended this slot's trial.
    pub confirmed_trial: bool,
    /// The other slot's deployment that failed to boot.
    pub failed: Option<FailedBoot>,
}

impl Rast {
    /// `boot-confirm` (see the module doc).
    pub fn boot_confirm(&self) -> Result<BootConfirm> {
        let l = self.layout();
        if l.mode != Mode::Live {
            return Err(Error::Invalid(
                "boot-confirm confirms the boot of the system it runs on; run it on the booted rastOS (--root /)".into(),
            ));
        }
        let _g = self.lock("boot-confirm")?;
        let running = state::running_slot(l)?.ok_or_else(|| {
            Error::Invalid("this system did not boot from a rastOS deployment slot".into())
        })?;
        let other = other_slot(running);
        let snapshot = state::current(l)?;
        let mut confirmed = false;
        let mut failed: Option<Option<SnapId>> = None;

        // GRUB: rast's boot state.
        let envp = bootenv_path(l);
        if envp.exists() {
            let mut env = BootEnv::load(&envp)?;
            match env.get("rast_trial") {
                Some(t) if t == running => confirmed = true,
                Some(t) if t == other && env.get("rast_tries") == Some("0") => {
                    failed = Some(env.get("rast_trial_snapshot").and_then(|s| s.parse().ok()));
                }
                _ => {}
            }
            if confirmed || failed.is_some() {
                env.set("rast_default", running);
                for k in ["rast_trial", "rast_tries", "rast_trial_snapshot"] {
                    env.set(k, "");
                }
                env.save(&envp)?;
            }
        }

        // systemd-boot: the loader entries' boot counters.
        if let Some(p) = self.esp_path()? {
            let esp = Esp::open(&p)?;
            for name in esp.list("loader/entries")? {
                let Some(slot) = entry_slot(&name) else {
                    continue;
                };
                let Some((left, _)) = entry_counter(&name) else {
                    continue;
                };
                let path = format!("loader/entries/{name}");
                if slot == running {
                    let plain = format!("{}.conf", name.rsplit_once('+').expect("counter").0);
                    esp.rename(&path, &format!("loader/entries/{plain}"))?;
                    confirmed = true;
                } else if left == 0 {
                    esp.remove_file(&path)?;
                    failed = Some(state::read_snap_file(&l.named(Part::Rootfs, other)));
                }
            }
        }

        let mut report = BootConfirm {
            slot: running.to_string(),
            snapshot,
            confirmed_trial: confirmed,
            failed: None,
        };
        let Some(fsnap) = failed else {
            return Ok(report);
        };
        // The failed slot may still be the default subvolume: what runs is what boots.
        btrfs::set_default_subvolume(&l.named(Part::Rootfs, running))?;
        let mut meta = self.meta_locked()?;
        let last = meta
            .deployments
            .iter()
            .rev()
            .find(|d| d.slot == other)
            .cloned();
        let fb = FailedBoot {
            snapshot: fsnap
                .or(last.as_ref().map(|d| d.snapshot))
                .unwrap_or(SnapId::BASE),
            slot: other.to_string(),
            deployed: last.as_ref().map(|d| d.time).unwrap_or(0),
            found: now(),
            running: snapshot,
        };
        tracing::warn!(
            "deployment of snapshot {} (slot {other}) failed to boot; running {running}",
            fb.snapshot
        );
        meta.failed_boots.push(fb.clone());
        let excess = meta.failed_boots.len().saturating_sub(20);
        meta.failed_boots.drain(..excess);
        if let Some(s) = snapshot {
            let b = meta
                .deployments
                .iter()
                .rev()
                .find(|d| d.slot == running)
                .and_then(|d| d.bootloader);
            meta.record_deployment(s, running, b);
        }
        meta.save(&l.meta_file())?;
        report.failed = Some(fb);
        Ok(report)
    }
}

//! One line in plain words per action (what `rast "…"` shows before it asks).

use crate::action::{Action, NEW};

/// One line in plain words per action.
pub fn explain(a: &Action) -> String {
    let snap = |s: &Option<String>| match s.as_deref() {
        None => "the current snapshot".to_string(),
        Some(NEW) => "the new snapshot".to_string(),
        Some(n) => format!("snapshot {n}"),
    };
    match a {
        Action::Install { packages, snapshot } => {
            format!("install {} into {}", packages.join(", "), snap(snapshot))
        }
        Action::Remove { packages, snapshot } => {
            format!("remove {} from {}", packages.join(", "), snap(snapshot))
        }
        Action::Upgrade {
            snapshot,
            security_only,
        } => format!(
            "upgrade {}{}",
            snap(snapshot),
            if *security_only {
                " (security fixes only)"
            } else {
                ""
            }
        ),
        Action::Search { query } => format!("search packages for {query:?}"),
        Action::ListInstalled { query, snapshot } => format!(
            "list packages installed in {}{}",
            snap(snapshot),
            query
                .as_ref()
                .map(|q| format!(" matching {q:?}"))
                .unwrap_or_default()
        ),
        Action::Info { packages } => format!("show details of {}", packages.join(", ")),
        Action::CleanUnused { snapshot } => {
            format!("remove unused dependencies from {}", snap(snapshot))
        }
        Action::FixKeys { snapshot } => format!("repair the pacman keyring of {}", snap(snapshot)),
        Action::Refresh { snapshot } => {
            format!("refresh the package databases of {}", snap(snapshot))
        }
        Action::Tree => "show the snapshot tree".into(),
        Action::Current => "show the current snapshot".into(),
        Action::NewTree => "make a new base tree (a fresh snapshot of the base)".into(),
        Action::Rollback => "roll back to the previous deployment".into(),
        Action::EtcUpdate => "save the running /etc into the current snapshot".into(),
        Action::Clone { snapshot } => format!("clone {} as a new tree", snap(snapshot)),
        Action::CloneTree { snapshot } => {
            format!("clone {} with its whole subtree", snap(snapshot))
        }
        Action::Branch { snapshot } => format!("make a new child of {}", snap(snapshot)),
        Action::CloneBranch { snapshot } => format!("clone {} as a sibling", snap(snapshot)),
        Action::CloneUnder { snapshot, parent } => {
            format!("clone {} under snapshot {parent}", snap(snapshot))
        }
        Action::Deploy { snapshot } => {
            format!("deploy {} (used from the next boot)", snap(snapshot))
        }
        Action::Delete { snapshot } => format!("delete snapshot {snapshot}"),
        Action::Describe { snapshot, text } => format!("describe {} as {text:?}", snap(snapshot)),
        Action::Run { snapshot, command } => {
            format!("run {:?} inside {}", command.join(" "), snap(snapshot))
        }
        Action::Sync { snapshot } => {
            format!("sync the packages of {} into its children", snap(snapshot))
        }
        Action::Diff { snapshots } => format!(
            "compare the packages of snapshots {}",
            snapshots.join(" and ")
        ),
        Action::BackupCreate { snapshot, target } => format!(
            "back up {} to {}",
            snap(snapshot),
            target.as_deref().unwrap_or("the configured target")
        ),
        Action::BackupRestore { snapshot, target } => format!(
            "restore the newest backup of {} from {}",
            snap(snapshot),
            target.as_deref().unwrap_or("the configured target")
        ),
        Action::BackupList { .. } => "list backups".into(),
        Action::BackupVerify { .. } => "verify all backups".into(),
        Action::BackupPrune { .. } => "prune backups by the retention policy".into(),
        Action::ConfigSearch { query } => format!("search /etc for {query:?}"),
        Action::ConfigLog { file } => format!("show the history of {file} along the tree"),
        Action::ConfigDiff { file, snapshots } => {
            let side = |s: &str| match s {
                "live" => "the running /etc".to_string(),
                n => format!("snapshot {n}"),
            };
            let (a, b) = (
                snapshots.first().map(String::as_str).unwrap_or("?"),
                snapshots.get(1).map(String::as_str).unwrap_or("?"),
            );
            format!("compare {file} in {} with {}", side(a), side(b))
        }
        Action::ConfigRestore {
            file,
            from,
            snapshot,
        } => format!(
            "put snapshot {from}'s version of {file} into {}",
            snap(snapshot)
        ),
        Action::Clarify { question, .. } => question.clone(),
    }
}

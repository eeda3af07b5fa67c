//! The typed actions a plan is made of (../shared/DESIGN.md, "Typed actions"): serde
//! JSON with `kind` as the tag and the field names of that table.
//!
//! Invariants: package names in an action are real names resolved against the
//! catalogue, never raw user text; `run` carries an argv vector, never a shell string;
//! a snapshot is a decimal id, or `"new"` — the snapshot made by the previous action of
//! the same plan (clone, branch, …) — or absent for the current snapshot.

use serde::{Deserialize, Serialize};

/// A snapshot reference inside a plan: an id, or [`NEW`].
pub type SnapRef = Option<String>;

/// "The snapshot the previous action of this plan made".
pub const NEW: &str = "new";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Install {
        packages: Vec<String>,
        #[serde(default)]
        snapshot: SnapRef,
    },
    Remove {
        packages: Vec<String>,
        #[serde(default)]
        snapshot: SnapRef,
    },
    Upgrade {
        #[serde(default)]
        snapshot: SnapRef,
        #[serde(default)]
        security_only: bool,
    },
    Search {
        query: String,
    },
    ListInstalled {
        #[serde(default)]
        query: Option<String>,
        #[serde(default)]
        snapshot: SnapRef,
    },
    Info {
        packages: Vec<String>,
    },
    CleanUnused {
        #[serde(default)]
        snapshot: SnapRef,
    },
    FixKeys {
        #[serde(default)]
        snapshot: SnapRef,
    },
    Refresh {
        #[serde(default)]
        snapshot: SnapRef,
    },
    Tree,
    Current,
    NewTree,
    Rollback,
    EtcUpdate,
    Clone {
        #[serde(default)]
        snapshot: SnapRef,
    },
    CloneTree {
        #[serde(default)]
        snapshot: SnapRef,
    },
    Branch {
        #[serde(default)]
        snapshot: SnapRef,
    },
    CloneBranch {
        #[serde(default)]
        snapshot: SnapRef,
    },
    CloneUnder {
        #[serde(default)]
        snapshot: SnapRef,
        parent: String,
    },
    Deploy {
        #[serde(default)]
        snapshot: SnapRef,
    },
    Delete {
        snapshot: String,
    },
    Describe {
        #[serde(default)]
        snapshot: SnapRef,
        text: String,
    },
    Run {
        #[serde(default)]
        snapshot: SnapRef,
        command: Vec<String>,
    },
    Sync {
        #[serde(default)]
        snapshot: SnapRef,
    },
    Diff {
        snapshots: Vec<String>,
    },
    BackupCreate {
        #[serde(default)]
        snapshot: SnapRef,
        #[serde(default)]
        target: Option<String>,
    },
    BackupRestore {
        #[serde(default)]
        snapshot: SnapRef,
        #[serde(default)]
        target: Option<String>,
    },
    BackupList {
        #[serde(default)]
        target: Option<String>,
    },
    BackupVerify {
        #[serde(default)]
        target: Option<String>,
    },
    BackupPrune {
        #[serde(default)]
        target: Option<String>,
    },
    ConfigSearch {
        query: String,
    },
    /// The versions of an /etc file along the tree (`rast config log FILE`).
    ConfigLog {
        file: String,
    },
    /// An /etc file between two snapshots, or a snapshot and `live`.
    ConfigDiff {
        file: String,
        snapshots: Vec<String>,
    },
    /// Snapshot `from`'s version of an /etc file into `snapshot` (default: current).
    ConfigRestore {
        file: String,
        from: String,
        #[serde(default)]
        snapshot: SnapRef,
    },
    Clarify {
        question: String,
        #[serde(default)]
        candidates: Vec<String>,
    },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        use Action::*;
        match self {
            Install { .. } => "install",
            Remove { .. } => "remove",
            Upgrade { .. } => "upgrade",
            Search { .. } => "search",
            ListInstalled { .. } => "list_installed",
            Info { .. } => "info",
            CleanUnused { .. } => "clean_unused",
            FixKeys { .. } => "fix_keys",
            Refresh { .. } => "refresh",
            Tree => "tree",
            Current => "current",
            NewTree => "new_tree",
            Rollback => "rollback",
            EtcUpdate => "etc_update",
            Clone { .. } => "clone",
            CloneTree { .. } => "clone_tree",
            Branch { .. } => "branch",
            CloneBranch { .. } => "clone_branch",
            CloneUnder { .. } => "clone_under",
            Deploy { .. } => "deploy",
            Delete { .. } => "delete",
            Describe { .. } => "describe",
            Run { .. } => "run",
            Sync { .. } => "sync",
            Diff { .. } => "diff",
            BackupCreate { .. } => "backup_create",
            BackupRestore { .. } => "backup_restore",
            BackupList { .. } => "backup_list",
            BackupVerify { .. } => "backup_verify",
            BackupPrune { .. } => "backup_prune",
            ConfigSearch { .. } => "config_search",
            ConfigLog { .. } => "config_log",
            ConfigDiff { .. } => "config_diff",
            ConfigRestore { .. } => "config_restore",
            Clarify { .. } => "clarify",
        }
    }

    /// Whether running it changes the system (and so needs confirmation).
    pub fn mutates(&self) -> bool {
        use Action::*;
        !matches!(
            self,
            Search { .. }
                | ListInstalled { .. }
                | Info { .. }
                | Tree
                | Current
                | Diff { .. }
                | BackupList { .. }
                | BackupVerify { .. }
                | ConfigSearch { .. }
                | ConfigLog { .. }
                | ConfigDiff { .. }
                | Clarify { .. }
        )
    }

    /// Whether it makes a new snapshot a later action can call [`NEW`].
    pub fn makes_snapshot(&self) -> bool {
        matches!(
            self,
            Action::Clone { .. }
                | Action::CloneBranch { .. }
                | Action::Branch { .. }
                | Action::CloneUnder { .. }
                | Action::NewTree
        )
    }

    /// Checks the invariants a plan from any source (the offline planner, an LLM,
    /// a socket client) must hold before anything runs.
    pub fn validate(&self) -> Result<(), String> {
        let snap_ok = |s: &SnapRef| match s.as_deref() {
            None | Some(NEW) => Ok(()),
            Some(x) if !x.is_empty() && x.len() <= 9 && x.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(())
            }
            Some(x) => Err(format!("{x:?} is not a snapshot id")),
        };
        let pkgs_ok = |p: &[String]| {
            if p.is_empty() {
                return Err("no packages".to_string());
            }
            for n in p {
                crate::plan::resolve::valid_name(n)
                    .then_some(())
                    .ok_or_else(|| format!("{n:?} is not a package name"))?;
            }
            Ok(())
        };
        let file_ok = |f: &str| -> Result<(), String> {
            let rel = f
                .strip_prefix("/etc/")
                .ok_or_else(|| format!("{f:?} is not a file under /etc"))?;
            let sane = !rel.is_empty()
                && rel
                    .split('/')
                    .all(|c| !c.is_empty() && c != "." && c != "..")
                && !f.contains('\0');
            sane.then_some(())
                .ok_or_else(|| format!("{f:?} is not a file under /etc"))
        };
        use Action::*;
        match self {
            Install { packages, snapshot } | Remove { packages, snapshot } => {
                pkgs_ok(packages)?;
                snap_ok(snapshot)
            }
            Info { packages } => pkgs_ok(packages),
            Upgrade { snapshot, .. }
            | ListInstalled { snapshot, .. }
            | CleanUnused { snapshot }
            | FixKeys { snapshot }
            | Refresh { snapshot }
            | Clone { snapshot }
            | CloneTree { snapshot }
            | Branch { snapshot }
            | CloneBranch { snapshot }
            | Deploy { snapshot }
            | Sync { snapshot }
            | Describe { snapshot, .. }
            | BackupCreate { snapshot, .. }
            | BackupRestore { snapshot, .. } => snap_ok(snapshot),
            CloneUnder { snapshot, parent } => {
                snap_ok(snapshot)?;
                snap_ok(&Some(parent.clone()))
            }
            Delete { snapshot } => snap_ok(&Some(snapshot.clone())),
            Diff { snapshots } => {
                if snapshots.len() != 2 {
                    return Err("diff needs two snapshots".into());
                }
                snapshots.iter().try_for_each(|s| snap_ok(&Some(s.clone())))
            }
            Run { snapshot, command } => {
                snap_ok(snapshot)?;
                if command.is_empty() {
                    return Err("run needs a command".into());
                }
                if let Some(why) = crate::plan::safety::unsafe_argv(command) {
                    return Err(why);
                }
                Ok(())
            }
            ConfigLog { file } => file_ok(file),
            ConfigDiff { file, snapshots } => {
                file_ok(file)?;
                if snapshots.len() != 2 {
                    return Err("config_diff needs two snapshots (or one and \"live\")".into());
                }
                snapshots
                    .iter()
                    .filter(|s| s.as_str() != "live")
                    .try_for_each(|s| snap_ok(&Some(s.clone())))
            }
            ConfigRestore {
                file,
                from,
                snapshot,
            } => {
                file_ok(file)?;
                snap_ok(&Some(from.clone()))?;
                snap_ok(snapshot)
            }
            Search { query } | ConfigSearch { query } => {
                if query.trim().is_empty() {
                    Err("empty query".into())
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

/// What `rast plan --json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub request: String,
    pub actions: Vec<Action>,
    pub explanation: String,
    pub confidence: f32,
    pub needs_confirmation: bool,
}

impl Plan {
    /// A plan of `actions` with confirmation needed iff any action mutates.
    pub fn new(request: &str, actions: Vec<Action>, explanation: String, confidence: f32) -> Plan {
        let needs_confirmation = actions.iter().any(Action::mutates);
        Plan {
            request: request.to_string(),
            actions,
            explanation,
            confidence,
            needs_confirmation,
        }
    }

    /// A plan that only asks the user something.
    pub fn clarify(request: &str, question: String, candidates: Vec<String>) -> Plan {
        let explanation = question.clone();
        Plan::new(
            request,
            vec![Action::Clarify {
                question,
                candidates,
            }],
            explanation,
            0.0,
        )
    }

    /// Every action valid, and `"new"` only after an action that makes a snapshot.
    pub fn validate(&self) -> Result<(), String> {
        let mut made = false;
        for a in &self.actions {
            a.validate().map_err(|e| format!("{}: {e}", a.kind()))?;
            let uses_new = serde_json::to_value(a)
                .ok()
                .and_then(|v| v.get("snapshot").cloned())
                .is_some_and(|s| s == NEW);
            if uses_new && !made {
                return Err(format!(
                    "{}: refers to a new snapshot no earlier action makes",
                    a.kind()
                ));
            }
            made |= a.makes_snapshot();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_matches_the_design_table() {
        let a = Action::Install {
            packages: vec!["vlc".into()],
            snapshot: Some("3".into()),
        };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::json!({"kind": "install", "packages": ["vlc"], "snapshot": "3"})
        );
        let u: Action = serde_json::from_str(r#"{"kind":"upgrade","security_only":true}"#).unwrap();
        assert_eq!(
            u,
            Action::Upgrade {
                snapshot: None,
                security_only: true
            }
        );
        assert_eq!(
            serde_json::to_value(Action::Tree).unwrap(),
            serde_json::json!({"kind": "tree"})
        );
        assert!(serde_json::from_str::<Action>(r#"{"kind":"format_disk"}"#).is_err());
        assert!(serde_json::from_str::<Action>(r#"{"kind":"install","pkgs":["x"]}"#).is_err());
    }

    #[test]
    fn validation() {
        let bad = [
            Action::Install {
                packages: vec!["vlc; rm -rf /".into()],
                snapshot: None,
            },
            Action::Delete {
                snapshot: "../0".into(),
            },
            Action::Run {
                snapshot: Some("1".into()),
                command: vec!["sh".into(), "-c".into(), "rm -rf /".into()],
            },
            Action::Diff {
                snapshots: vec!["1".into()],
            },
        ];
        for a in bad {
            assert!(a.validate().is_err(), "{a:?}");
        }
        let p = Plan::new(
            "x",
            vec![Action::Install {
                packages: vec!["htop".into()],
                snapshot: Some(NEW.into()),
            }],
            String::new(),
            1.0,
        );
        assert!(p.validate().is_err(), "new before any clone");
        let p = Plan::new(
            "x",
            vec![
                Action::Clone {
                    snapshot: Some("2".into()),
                },
                Action::Install {
                    packages: vec!["htop".into()],
                    snapshot: Some(NEW.into()),
                },
            ],
            String::new(),
            1.0,
        );
        assert!(p.validate().is_ok() && p.needs_confirmation);
    }
}

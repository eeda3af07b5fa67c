//! How package operations are asked (`--noconfirm` without a person to answer) and
//! reported (per snapshot, then its deployment slot; pacman's exit code). Shared by
//! the astOS-style commands and the pacman-style flags. Bottom layer.

use std::io::IsTerminal;
use std::process::ExitCode;

use rast_snapshot::pkg::{PkgOpts, PkgOutcome};
use serde_json::json;

use crate::args::Cli;
use crate::output::{exit_of, print_json};

/// pacman may ask only when a person can answer: `--yes` or no terminal means
/// `--noconfirm`.
pub fn opts(cli: &Cli, not_live: bool) -> PkgOpts {
    PkgOpts {
        noconfirm: cli.yes || !std::io::stdin().is_terminal(),
        not_live,
    }
}

/// Prints what happened to each snapshot; the exit code is pacman's on failure.
pub fn report(cli: &Cli, outcomes: &[PkgOutcome]) -> ExitCode {
    if cli.json {
        print_json(&json!({ "results": outcomes }));
    } else {
        if outcomes.is_empty() {
            eprintln!("rast: nothing to do");
        }
        render(outcomes);
    }
    exit_code(outcomes)
}

/// The text lines of [`report`]: the snapshot, then its deployment slot.
pub fn render(outcomes: &[PkgOutcome]) {
    for o in outcomes {
        let n = o.snapshot;
        if o.committed {
            eprintln!("rast: snapshot {n} committed");
        } else if o.unchanged {
            eprintln!("rast: snapshot {n}: nothing to change; left as it was (no commit)");
        } else {
            eprintln!(
                "rast: pacman failed ({}); snapshot {n} left unchanged",
                o.status
            );
        }
        match o.live {
            Some(true) => eprintln!("rast: applied to the running system too"),
            Some(false) => eprintln!("rast: applying to the running system failed; snapshot {n} has the change: deploy it to use it"),
            None => {}
        }
        if o.redeploy {
            eprintln!("rast: snapshot {n} is deployed, and its deployment still has the old packages: `rast deploy {n}` boots the change");
        }
    }
}

/// pacman's exit code of the first failure, else success.
pub fn exit_code(outcomes: &[PkgOutcome]) -> ExitCode {
    outcomes
        .iter()
        .find(|o| !o.committed && !o.unchanged)
        .map(|o| exit_of(o.status))
        .unwrap_or(ExitCode::SUCCESS)
}

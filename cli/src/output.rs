//! Output every command group shares: JSON on stdout, questions on the terminal,
//! exit codes, usage errors, times as people read them. Bottom layer: imports only
//! the argument types.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::args::Cli;

/// Prints `v` as pretty JSON on stdout. A reader that went away (`rast --json … |
/// head`) is not an error of rast's: the output simply ends (no EPIPE panic).
pub fn print_json(v: &serde_json::Value) {
    let text = serde_json::to_string_pretty(v).expect("json");
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("rast: error: writing to stdout: {e}");
        }
    }
}

/// Asks `question` on the terminal; `--yes` answers yes, no terminal answers no.
pub fn confirm(cli: &Cli, question: &str) -> Result<bool> {
    if cli.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!("{question} — not asking without a terminal; pass --yes to confirm");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// [`confirm`] for use inside a library callback that wants a bool: an error (no
/// terminal and no `--yes`) answers no and is kept in `err` for the caller to return.
pub fn ask(cli: &Cli, question: &str, err: &mut Option<anyhow::Error>) -> bool {
    confirm(cli, question).unwrap_or_else(|e| {
        *err = Some(e);
        false
    })
}

pub fn exit_of(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// Prints a usage error and gives exit code 2 (bad usage, as clap does).
pub fn usage(msg: &str) -> ExitCode {
    eprintln!("rast: error: {msg}");
    ExitCode::from(2)
}

/// A time as people read it: local date, time and zone.
pub fn when(t: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(t, 0)
        .earliest()
        .map(|d| d.format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|| t.to_string())
}

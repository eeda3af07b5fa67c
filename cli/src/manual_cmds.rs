//! `rast completions SHELL` and `rast manpages --dir DIR`: shell completions
//! (clap_complete) and man pages (clap_mangen) generated from the clap grammar, so
//! they can never disagree with `--help`, and rast.toml(5) from docs/config.md
//! (config_manpage.rs). Packaging runs both at build time.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::args::Cli;

/// Prints the completion script for `shell` on stdout. A reader that stops early
/// (`| head`) ends it quietly. (SIGPIPE stays ignored in rast: a pipe to `btrfs
/// receive` or a socket to the agent that closes must be an error rast handles, not
/// a signal that kills it mid-restore.)
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "rast", &mut script);
    match std::io::stdout().write_all(&script) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing the completion script"),
    }
}

fn write_page(dir: &Path, name: &str, cmd: clap::Command) -> Result<()> {
    let path = dir.join(format!("{name}.8"));
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.name(name.to_string()))
        .section("8")
        .render(&mut out)
        .with_context(|| format!("rendering {name}(8)"))?;
    std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))
}

/// Writes rast.8, rast-COMMAND.8 for every command, rast-agent.8 and rast.toml.5
/// (from docs/config.md) into `dir`; prints the pages written.
pub fn manpages(dir: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let cli = Cli::command();
    write_page(dir, "rast", cli.clone())?;
    let mut n = 1;
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if name == "agent" {
            if let Some(serve) = sub.find_subcommand("serve") {
                write_page(dir, "rast-agent", serve.clone())?;
                n += 1;
            }
        }
        write_page(dir, &format!("rast-{name}"), sub.clone())?;
        n += 1;
    }
    let config = dir.join("rast.toml.5");
    std::fs::write(&config, crate::config_manpage::render())
        .with_context(|| format!("writing {}", config.display()))?;
    n += 1;
    println!("{n} man pages written to {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

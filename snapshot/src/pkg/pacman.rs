//! Running the pacman program against a snapshot root — so hooks, scriptlets and
//! pacman's own output and exit codes behave as Arch users know them.
//!
//! Every path pacman uses is passed explicitly: `--root` the snapshot (or its copy),
//! `--dbpath <root>/usr/share/ast/db` (astOS keeps each snapshot's database there),
//! `--config <root>/etc/pacman.conf` (the snapshot's own repositories), `--logfile`,
//! `--gpgdir` and `--hookdir` inside the root, and the package cache shared by all
//! snapshots (`@var/cache/pacman/pkg`). Mutating runs happen inside the sandbox (a
//! private mount namespace with /dev, /proc, … bound into the root, for scriptlets).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};

use crate::layout::{Layout, Mode, PACMAN_DB};
use crate::sandbox::Sandbox;
use crate::{pkgname, txn, Error, Result};

/// pacman bound to one root filesystem.
#[derive(Clone, Debug)]
pub struct Pacman {
    root: PathBuf,
    cache: PathBuf,
    program: OsString,
}

/// Runs pacman with its stderr passed through line by line. pacman exits 0 when a
/// scriptlet or hook fails (it only prints `error: command failed to execute
/// correctly`); a transaction that printed any `error:` line counts as failed here, so
/// it is discarded rather than committed half-configured.
///
/// pacman's stdout goes to rast's stderr too: a mutating run's chatter is progress,
/// and rast's stdout carries only rast's own result (JSON with `--json`).
fn run_watching_errors(cmd: &mut Command) -> Result<ExitStatus> {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::process::ExitStatusExt;
    cmd.stdout(std::io::stderr())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: "pacman".into(),
        source,
    })?;
    let stderr = child.stderr.take().expect("piped");
    let mut saw_error = false;
    let mut out = std::io::stderr();
    for line in BufReader::new(stderr).split(b'\n').map_while(|l| l.ok()) {
        saw_error |= line.starts_with(b"error:");
        let _ = out.write_all(&line);
        let _ = out.write_all(b"\n");
    }
    let status = child.wait().map_err(|source| Error::Spawn {
        program: "pacman".into(),
        source,
    })?;
    if status.success() && saw_error {
        let _ = writeln!(
            out,
            "rast: pacman reported an error (a scriptlet or hook failed): not committing"
        );
        return Ok(ExitStatus::from_raw(1 << 8));
    }
    Ok(status)
}

/// The package cache shared by every snapshot.
pub fn pkg_cache(l: &Layout) -> PathBuf {
    match l.mode {
        Mode::TopLevel => l.root.join("@var/cache/pacman/pkg"),
        Mode::Live => l.root.join("var/cache/pacman/pkg"),
    }
}

impl Pacman {
    pub fn new(l: &Layout, root: &Path) -> Pacman {
        let program = std::env::var_os("RAST_PACMAN").unwrap_or_else(|| "pacman".into());
        Pacman {
            root: root.to_path_buf(),
            cache: pkg_cache(l),
            program,
        }
    }

    /// pacman's configuration for this root.
    pub fn config(&self) -> Result<PathBuf> {
        let c = self.root.join("etc/pacman.conf");
        if c.is_file() {
            Ok(c)
        } else {
            Err(Error::Invalid(format!(
                "{} has no etc/pacman.conf: pacman cannot know its repositories",
                self.root.display()
            )))
        }
    }

    /// `pacman <paths…> ARGS…` as argv.
    pub fn argv(&self, args: &[OsString]) -> Result<Vec<OsString>> {
        let r = &self.root;
        let mut v: Vec<OsString> = vec![self.program.clone()];
        let paths: [(&str, PathBuf); 7] = [
            ("--config", self.config()?),
            ("--root", r.clone()),
            ("--dbpath", r.join(PACMAN_DB)),
            ("--cachedir", self.cache.clone()),
            ("--logfile", r.join("var/log/pacman.log")),
            ("--gpgdir", r.join("etc/pacman.d/gnupg")),
            ("--hookdir", r.join("etc/pacman.d/hooks")),
        ];
        for (flag, p) in paths {
            v.push(flag.into());
            v.push(p.into_os_string());
        }
        v.extend(args.iter().cloned());
        Ok(v)
    }

    /// Runs a mutating pacman operation (terminal inherited). Package names are
    /// validated first; they follow `--` so none can be read as an option.
    pub fn run(&self, op: &[String], pkgs: &[String]) -> Result<ExitStatus> {
        for p in pkgs {
            pkgname::validate(p)?;
        }
        let mut args: Vec<OsString> = op.iter().map(OsString::from).collect();
        if !pkgs.is_empty() {
            args.push("--".into());
            args.extend(pkgs.iter().map(OsString::from));
        }
        self.run_raw(&args)
    }

    /// Runs a mutating pacman command whose argv the caller built (file paths, not
    /// package names: `-U FILE…`).
    pub fn run_raw(&self, args: &[OsString]) -> Result<ExitStatus> {
        std::fs::create_dir_all(&self.cache).map_err(Error::io(&self.cache))?;
        for d in ["var/log", "etc/pacman.d/hooks"] {
            let p = self.root.join(d);
            std::fs::create_dir_all(&p).map_err(Error::io(&p))?;
        }
        let argv = self.argv(args)?;
        tracing::debug!(?argv, "pacman");
        let mut cmd = Sandbox::beside(&self.root).command(&argv)?;
        run_watching_errors(&mut cmd)
    }

    /// Runs a read-only query; output is pacman's own (terminal inherited).
    pub fn query(&self, args: &[OsString]) -> Result<ExitStatus> {
        let argv = self.argv(args)?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        txn::status(&mut cmd, "pacman")
    }

    /// Runs a read-only query, capturing its output.
    pub fn query_output(&self, args: &[OsString]) -> Result<Output> {
        let argv = self.argv(args)?;
        Command::new(&argv[0])
            .args(&argv[1..])
            .output()
            .map_err(|source| Error::Spawn {
                program: "pacman".into(),
                source,
            })
    }
}

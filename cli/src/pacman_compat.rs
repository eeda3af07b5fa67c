//! pacman-compatible invocations: `rast -S PKG…`, `-Syu`, `-Ss`, `-Si`, `-R`, `-Rns`,
//! `-Q`, `-Qi`, `-Qs`, `-Qdt`, `-Sc` — on the current snapshot, or `--snap N` (or a
//! separate `-s N` whose value is a number).
//!
//! pacman's letters change meaning with the operation (`-s` is search after `-S`,
//! recursive after `-R`), which a declarative parser cannot express, so this small
//! parser recognises the operation cluster first and then the few long options rast
//! adds. Queries (`-Q…`, `-Ss`, `-Si`, `-Sl`, `-Sg`) run pacman itself against the
//! read-only snapshot, so output and exit codes are pacman's; everything that changes
//! a snapshot is a transaction.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use rast_snapshot::pkg::security::Feed;
use rast_snapshot::{Rast, SnapId};

use crate::args::{Cli, Command};
use crate::output::exit_of;
use crate::pkg_report::{opts, report};

/// A parsed pacman-style command line.
#[derive(Debug, PartialEq, Eq)]
pub struct PacArgs {
    pub root: PathBuf,
    pub json: bool,
    pub yes: bool,
    /// 'S', 'R' or 'Q'.
    pub op: char,
    /// Modifier letters after the operation, in order (`-Syyu` → "yyu").
    pub letters: String,
    pub targets: Vec<String>,
    pub snap: Option<SnapId>,
    pub security: bool,
    pub security_feed: Option<String>,
    pub not_live: bool,
}

fn op_of(tok: &str) -> Option<(char, String)> {
    match tok {
        "--sync" => return Some(('S', String::new())),
        "--remove" => return Some(('R', String::new())),
        "--query" => return Some(('Q', String::new())),
        _ => {}
    }
    let rest = tok.strip_prefix('-')?;
    let mut chars = rest.chars();
    let op = chars.next()?;
    let letters: String = chars.collect();
    (matches!(op, 'S' | 'R' | 'Q') && letters.chars().all(|c| c.is_ascii_lowercase()))
        .then_some((op, letters))
}

/// Parses `args` (without the program name) if they are a pacman-style invocation.
pub fn parse(args: &[String]) -> Option<Result<PacArgs, String>> {
    let mut root = std::env::var_os("RAST_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    let (mut json, mut yes) = (false, false);
    let mut i = 0;
    // Global options may come first.
    while i < args.len() {
        match args[i].as_str() {
            "--json" => json = true,
            "--yes" => yes = true,
            "--root" if i + 1 < args.len() => {
                root = PathBuf::from(&args[i + 1]);
                i += 1;
            }
            s if s.starts_with("--root=") => root = PathBuf::from(&s["--root=".len()..]),
            _ => break,
        }
        i += 1;
    }
    let (op, mut letters) = op_of(args.get(i)?)?;
    let mut p = PacArgs {
        root,
        json,
        yes,
        op,
        letters: String::new(),
        targets: Vec::new(),
        snap: None,
        security: false,
        security_feed: None,
        not_live: false,
    };
    i += 1;
    let mut rest_are_targets = false;
    while i < args.len() {
        let a = &args[i];
        let next_id = |j: usize| {
            args.get(j)
                .map(|v| v.parse::<SnapId>().map_err(|e| e.to_string()))
        };
        if rest_are_targets || !a.starts_with('-') {
            p.targets.push(a.clone());
        } else if a == "--" {
            rest_are_targets = true;
        } else if a == "--snap"
            || (a == "-s"
                && args
                    .get(i + 1)
                    .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit())))
        {
            match next_id(i + 1) {
                Some(Ok(id)) => p.snap = Some(id),
                Some(Err(e)) => return Some(Err(e)),
                None => return Some(Err("--snap needs a snapshot id".into())),
            }
            i += 1;
        } else if let Some(v) = a.strip_prefix("--snap=") {
            match v.parse::<SnapId>() {
                Ok(id) => p.snap = Some(id),
                Err(e) => return Some(Err(e.to_string())),
            }
        } else if a == "--security" {
            p.security = true;
        } else if a == "--security-feed" {
            match args.get(i + 1) {
                Some(v) => p.security_feed = Some(v.clone()),
                None => return Some(Err("--security-feed needs a path or URL".into())),
            }
            i += 1;
        } else if a == "--not-live" {
            p.not_live = true;
        } else if a == "--noconfirm" || a == "--yes" {
            p.yes = true;
        } else if a == "--json" {
            p.json = true;
        } else if a.len() > 1
            && !a.starts_with("--")
            && a[1..].chars().all(|c| c.is_ascii_lowercase())
        {
            letters.push_str(&a[1..]); // `rast -S -y -u` = `-Syu`
        } else {
            return Some(Err(format!("unsupported option {a:?} (rast accepts pacman's -S/-R/-Q forms, --snap N, --security, --not-live, --noconfirm)")));
        }
        i += 1;
    }
    let allowed = match op {
        'S' => "yuscilg",
        'R' => "ns",
        _ => "idtseqklmnpuc",
    };
    if let Some(bad) = letters.chars().find(|c| !allowed.contains(*c)) {
        return Some(Err(format!(
            "invalid option '-{op}{bad}' (supported with -{op}: {allowed})"
        )));
    }
    p.letters = letters;
    Some(Ok(p))
}

/// The equivalent `Cli` for the shared helpers (root, json, yes).
fn cli_of(p: &PacArgs) -> Cli {
    Cli {
        root: p.root.clone(),
        json: p.json,
        yes: p.yes,
        dry_run: false,
        command: Command::Tree,
    }
}

impl PacArgs {
    /// Whether this can change installed packages (`-S`/`-Syu`/`-R`; not queries).
    pub fn changes_system(&self) -> bool {
        let has = |c: char| self.letters.contains(c);
        match self.op {
            'R' => true,
            'S' => {
                has('y') || has('u') || !(has('c') || has('s') || has('i') || has('l') || has('g'))
            }
            _ => false,
        }
    }
}

/// Runs a parsed pacman-style command.
pub fn run(p: &PacArgs) -> Result<ExitCode> {
    let cli = cli_of(p);
    let r = crate::system::open(&cli)?;
    let n = r.target_or_current(p.snap)?;
    let has = |c: char| p.letters.contains(c);
    let query = |r: &Rast, flag: String| -> Result<ExitCode> {
        let mut args: Vec<OsString> = vec![flag.into()];
        if !p.targets.is_empty() {
            args.push("--".into());
            args.extend(p.targets.iter().map(OsString::from));
        }
        Ok(exit_of(r.pacman_for(n)?.query(&args)?))
    };
    let o = opts(&cli, p.not_live);
    match p.op {
        'Q' => query(&r, format!("-Q{}", p.letters)),
        'R' => {
            if p.targets.is_empty() {
                bail!("no targets specified (use -h for help)");
            }
            Ok(report(
                &cli,
                &[r.remove(n, &p.targets, has('s'), has('n'), o)?],
            ))
        }
        _ if !has('y')
            && !has('u')
            && !has('c')
            && (has('s') || has('i') || has('l') || has('g')) =>
        {
            query(&r, format!("-S{}", p.letters))
        }
        _ if has('c') => Ok(report(&cli, &[r.clean_cache(n)?])),
        _ if has('u') => {
            if p.targets.is_empty() {
                let feed = if p.security {
                    let src = p
                        .security_feed
                        .clone()
                        .or_else(|| std::env::var("RAST_SECURITY_FEED").ok())
                        .unwrap_or_else(|| "https://security.archlinux.org/issues/all.json".into());
                    Some(Feed::load(&src, &r.security_cache())?)
                } else {
                    None
                };
                Ok(report(&cli, &[r.upgrade(n, feed.as_ref(), o)?]))
            } else {
                if p.security {
                    bail!("--security upgrades only what has a fixed advisory; it takes no package names");
                }
                Ok(report(&cli, &[r.pacman_op(n, &["-Syu"], &p.targets, o)?]))
            }
        }
        _ if has('y') => {
            if !p.targets.is_empty() {
                bail!(
                    "refusing -Sy PKG: a partial upgrade can break the system; use `rast -Syu {}`",
                    p.targets.join(" ")
                );
            }
            Ok(report(&cli, &[r.refresh(n, o)?]))
        }
        _ => {
            if p.targets.is_empty() {
                bail!("no targets specified (use -h for help)");
            }
            Ok(report(&cli, &[r.install(n, &p.targets, o)?]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn recognises_pacman_clusters_only() {
        assert!(parse(&a("tree")).is_none());
        assert!(parse(&a("--json tree")).is_none());
        assert!(parse(&a("-s 3")).is_none());
        let p = parse(&a("--root /mnt -Syu --snap 3")).unwrap().unwrap();
        assert_eq!(
            (p.op, p.letters.as_str(), p.snap, p.root),
            ('S', "yu", Some(SnapId(3)), PathBuf::from("/mnt"))
        );
        let p = parse(&a("-Ss pdf reader")).unwrap().unwrap();
        assert_eq!(
            (p.letters.as_str(), p.targets.clone()),
            ("s", a("pdf reader"))
        );
        let p = parse(&a("-S -s 4 htop")).unwrap().unwrap();
        assert_eq!(
            (p.letters.as_str(), p.snap, p.targets.clone()),
            ("", Some(SnapId(4)), a("htop"))
        );
        let p = parse(&a("-Rns vim --noconfirm")).unwrap().unwrap();
        assert_eq!((p.op, p.letters.as_str(), p.yes), ('R', "ns", true));
        let p = parse(&a("-Qdt")).unwrap().unwrap();
        assert_eq!(p.letters, "dt");
    }

    #[test]
    fn rejects_what_it_does_not_support() {
        assert!(parse(&a("-Sw htop")).unwrap().is_err());
        assert!(parse(&a("-S --overwrite * htop")).unwrap().is_err());
        assert!(parse(&a("-S --snap x htop")).unwrap().is_err());
        assert!(parse(&a("-Rdd htop")).unwrap().is_err());
    }
}

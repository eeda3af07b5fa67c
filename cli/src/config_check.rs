//! `rast config check [FILE]`: is rast.toml what the commands will accept? Parse
//! errors (unknown keys, wrong types) come from the same deserialiser the commands
//! use, with the file's line; then each value is checked the way the command that
//! reads it would (durations, URLs, the index backend and host name, the backup
//! schedule, retention policy, recipients, the identity file). Nothing is contacted
//! over the network unless `--online` asks (config_online.rs).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::args::Cli;
use crate::config::{self, Config};
use crate::output::print_json;

/// One problem: where (`[section] key`, line) and what.
#[derive(Debug, serde::Serialize, PartialEq)]
pub struct Problem {
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

/// The 1-based line of `key` in `[section]` of `text`, if written there.
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            current = h.trim().to_string();
        } else if current == section
            && t.split('=').next().is_some_and(|k| k.trim() == key)
            && t.contains('=')
        {
            return Some(i + 1);
        }
    }
    None
}

/// The value checks on a parsed configuration.
pub fn problems(cfg: &Config, text: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut bad = |section: &str, key: &str, message: String| {
        out.push(Problem {
            key: format!("[{section}] {key}"),
            line: line_of(text, section, key),
            message,
        })
    };
    for (section, key, v) in [
        ("agent", "debounce", &cfg.agent.debounce),
        ("agent", "idle_timeout", &cfg.agent.idle_timeout),
        ("planner", "llm_timeout", &cfg.planner.llm_timeout),
        ("backup", "retry_timeout", &cfg.backup.retry_timeout),
    ] {
        if let Some(d) = v {
            if let Err(e) = humantime::parse_duration(d) {
                bad(
                    section,
                    key,
                    format!("{d:?} is not a duration ({e}); e.g. \"2s\", \"5m\""),
                );
            }
        }
    }
    if cfg.agent.max_connections_per_user == Some(0) {
        bad(
            "agent",
            "max_connections_per_user",
            "0 would refuse every user".into(),
        );
    }
    if let Some(u) = &cfg.planner.llm_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            bad(
                "planner",
                "llm_url",
                format!("{u:?}: expected http:// or https://"),
            );
        }
    }
    if let Some(c) = cfg.planner.llm_below_confidence {
        if !(0.0..=1.0).contains(&c) {
            bad(
                "planner",
                "llm_below_confidence",
                format!("{c}: a confidence is between 0 and 1"),
            );
        }
    }
    match cfg.index.backend.as_deref() {
        None | Some("embedded") | Some("flat") => {}
        Some("qdrant") => {
            if cfg.index.url.is_none() {
                bad(
                    "index",
                    "url",
                    "backend = \"qdrant\" needs url = \"http://HOST:6334\"".into(),
                );
            }
        }
        Some(other) => bad(
            "index",
            "backend",
            format!("{other:?}: use \"embedded\" or \"qdrant\""),
        ),
    }
    if let Some(h) = &cfg.index.host {
        if !rast_pkgindex::qdrant::valid_host(h) {
            bad(
                "index",
                "host",
                format!("{h:?}: letters, digits, '.', '_' and '-' only"),
            );
        }
    }
    let b = &cfg.backup;
    if let Some(s) = &b.schedule {
        if let Err(e) = rast_backup::schedule::Schedule::parse(s) {
            let key = if s.at.is_some() { "at" } else { "every" };
            out.push(Problem {
                key: format!("[backup.schedule] {key}"),
                line: line_of(text, "backup.schedule", key),
                message: e.to_string(),
            });
        }
    }
    let mut bad = |key: &str, message: String| {
        out.push(Problem {
            key: format!("[backup] {key}"),
            line: line_of(text, "backup", key),
            message,
        })
    };
    if b.preserve_min.is_some() || b.preserve.is_some() {
        let pm = b.preserve_min.as_deref().unwrap_or("latest");
        let pr = b.preserve.as_deref().unwrap_or("");
        if let Err(e) = rast_backup::retention::Policy::parse(pm, pr) {
            bad(
                if b.preserve.is_some() {
                    "preserve"
                } else {
                    "preserve_min"
                },
                e.to_string(),
            );
        }
    }
    if !b.recipients.is_empty() {
        if let Err(e) = rast_backup::keys::recipients(&b.recipients) {
            bad("recipients", e.to_string());
        }
    }
    if let Some(id) = &b.identity {
        if let Err(e) = rast_backup::keys::identities(id) {
            bad("identity", format!("{}: {e}", id.display()));
        }
    }
    if let Some(l) = b.zstd_level {
        if !(-7..=22).contains(&l) {
            bad("zstd_level", format!("{l}: zstd levels are -7…22"));
        }
    }
    for (key, v) in [
        ("chunk_mib", b.chunk_mib),
        ("parallel", b.parallel),
        ("full_every", b.full_every),
    ] {
        if v == Some(0) {
            bad(key, "must be at least 1".into());
        }
    }
    if let Some(t) = &b.target {
        let known = ["file://", "s3://", "gs://", "az://", "azure://", "/"];
        if !known.iter().any(|k| t.starts_with(k)) {
            bad(
                "target",
                format!("{t:?}: use file:///DIR, s3://, gs:// or az://"),
            );
        }
    }
    out
}

/// `rast config check [FILE] [--online]`.
pub fn check(cli: &Cli, file: Option<&Path>, online: bool) -> Result<ExitCode> {
    let path = file.map(Path::to_path_buf).unwrap_or_else(config::path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.is_none() => String::new(),
        Err(e) => anyhow::bail!("reading {}: {e}", path.display()),
    };
    let (cfg, mut problems) = match toml::from_str::<Config>(&text) {
        Ok(cfg) => {
            let p = problems(&cfg, &text);
            (Some(cfg), p)
        }
        Err(e) => {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let message = e.message().to_string();
            (
                None,
                vec![Problem {
                    key: String::new(),
                    line,
                    message,
                }],
            )
        }
    };
    // Only a file that parsed and whose values are good is worth contacting services for.
    let mut reached = Vec::new();
    if let (true, Some(c), true) = (online, &cfg, problems.is_empty()) {
        let (ok, bad) = crate::config_online::probe(c);
        reached = ok;
        problems.extend(bad.into_iter().map(|u| Problem {
            key: format!("[{}] {}", u.section, u.key),
            line: line_of(&text, u.section, u.key),
            message: u.message,
        }));
    }
    if cli.json {
        print_json(&json!({
            "file": path,
            "ok": problems.is_empty(),
            "problems": problems,
            "reached": reached,
            "effective": cfg,
        }));
    } else {
        for r in &reached {
            println!("{}: {} reachable: {}", path.display(), r.key, r.what);
        }
        for p in &problems {
            let at = p.line.map(|l| format!(":{l}")).unwrap_or_default();
            let key = if p.key.is_empty() {
                String::new()
            } else {
                format!(" {}", p.key)
            };
            println!("{}{at}:{key} {}", path.display(), p.message);
        }
        if problems.is_empty() {
            println!("{}: ok", path.display());
            if let Some(cfg) = &cfg {
                print!("{}", toml::to_string(cfg).unwrap_or_default());
            }
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(t: &str) -> Vec<Problem> {
        problems(&toml::from_str(t).unwrap(), t)
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let t = "[agent]\nidle_timeout = \"soon\"\n\n[index]\nbackend = \"qdrant\"\nhost = \"a b\"\n\n[backup]\nzstd_level = 40\ntarget = \"ftp://x\"\n";
        let p = check_text(t);
        let got: Vec<(&str, Option<usize>)> = p.iter().map(|p| (p.key.as_str(), p.line)).collect();
        assert_eq!(
            got,
            [
                ("[agent] idle_timeout", Some(2)),
                ("[index] url", None),
                ("[index] host", Some(6)),
                ("[backup] zstd_level", Some(9)),
                ("[backup] target", Some(10)),
            ]
        );
        assert!(check_text("[agent]\nidle_timeout = \"5m\"\n").is_empty());
        // An empty [backup.schedule] table is a schedule without a time.
        assert_eq!(
            check_text("[backup.schedule]\n")[0].key,
            "[backup.schedule] every"
        );
    }

    #[test]
    fn the_schedule_and_retention_are_checked_by_their_parsers() {
        let p =
            check_text("[backup]\npreserve = \"7 days\"\n[backup.schedule]\nevery = \"often\"\n");
        let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["[backup.schedule] every", "[backup] preserve"],
            "{p:?}"
        );
        assert_eq!(p[0].line, Some(4));
    }
}

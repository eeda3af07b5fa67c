//! `rast index build|status`, `rast search`, `rast config search`.
//!
//! Defaults follow the system rast manages: on rastOS the current snapshot's sync and
//! local databases (`usr/share/ast/db`) and its /etc; on a plain Arch system
//! `/var/lib/pacman` and `/etc`. The index lives in `/var/lib/rast/index` unless
//! `--index-dir` or `[index] dir` says otherwise.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use rast_pkgindex::doc::Kind;
use rast_pkgindex::index::{self, Backend, Progress, Searcher, Sources};
use serde_json::json;

use crate::args::{Cli, IndexCommand, IndexLoc, SearchArgs};
use crate::config;
use crate::output::print_json;
use crate::system::{backend, index_dir, system, System};

fn encoder(loc: &IndexLoc) -> Result<rast_embeddings::Encoder> {
    let dir = rast_embeddings::resolve_model_dir(loc.model_dir.as_deref())?;
    Ok(rast_embeddings::Encoder::load(&dir)?)
}

fn default_sync_dbs(sys: &System) -> Vec<PathBuf> {
    let dir = sys.db_root.join(sys.db_rel).join("sync");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "db"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

pub fn index(cli: &Cli, cmd: &IndexCommand) -> Result<ExitCode> {
    let cfg = config::load(&config::path())?;
    let sys = system(cli);
    match cmd {
        IndexCommand::Status { loc } => {
            let st = index::status(&index_dir(loc, &cfg, &sys))?;
            if cli.json {
                print_json(&serde_json::to_value(&st)?);
            } else {
                let when = humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(st.built_at),
                );
                println!("index:     {}", st.dir.display());
                println!(
                    "documents: {} packages, {} config chunks",
                    st.packages, st.configs
                );
                println!("model:     {} ({} vectors store)", st.model, st.backend);
                if let Some(h) = &st.host {
                    println!("host:      {h} (its name in the fleet collection)");
                }
                println!("built:     {when}");
                println!("size:      {:.1} MiB", st.bytes_on_disk as f64 / 1048576.0);
                for s in &st.sources {
                    println!("source:    {s}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IndexCommand::Build {
            sync_dbs,
            local_db,
            etc,
            no_etc,
            no_history,
            loc,
        } => {
            let dir = index_dir(loc, &cfg, &sys);
            let sync_dbs = if sync_dbs.is_empty() {
                default_sync_dbs(&sys)
            } else {
                sync_dbs.clone()
            };
            if sync_dbs.is_empty() {
                bail!(
                    "no sync databases found in {} (pass --sync-dbs, or run `rast -Syu` first)",
                    sys.db_root.join(sys.db_rel).join("sync").display()
                );
            }
            let local = local_db.clone().or_else(|| {
                Some(sys.db_root.join(sys.db_rel).join("local")).filter(|p| p.is_dir())
            });
            let etc_dir = if *no_etc {
                None
            } else {
                Some(etc.clone().unwrap_or_else(|| sys.etc.clone()))
            };
            if let Some(e) = &etc_dir {
                if !e.is_dir() {
                    bail!(
                        "{} is not a directory (pass --etc DIR or --no-etc)",
                        e.display()
                    );
                }
            }
            // Every snapshot's /etc, when the default /etc of a snapshot tree is indexed.
            let history = if *no_history || *no_etc || etc.is_some() {
                Vec::new()
            } else {
                snapshot_etcs(cli)
            };
            let src = Sources {
                sync_dbs,
                local_db: local,
                etc: etc_dir,
                allow: cfg.index.allow.clone(),
                snapshot: sys.snapshot.clone(),
                history,
            };
            let be = backend(&cfg, &sys)?;
            let enc = encoder(loc)?;
            let report = build_with_progress(cli, &dir, &src, &be, &enc)?;
            if cli.json {
                print_json(&json!({ "index_dir": dir, "report": report }));
            } else {
                println!(
                    "indexed {} packages and {} config chunks ({} files; {} skipped as secret, {} unreadable) in {}",
                    report.packages,
                    report.configs,
                    report.config_files,
                    report.skipped_secret_files,
                    report.skipped_unreadable_files,
                    dir.display()
                );
                let rate = if report.embed_seconds > 0.0 {
                    report.embedded as f64 / report.embed_seconds
                } else {
                    0.0
                };
                if report.history_versions > 0 {
                    println!(
                        "history: {} past versions of /etc files ({} chunks) from the snapshots",
                        report.history_versions, report.history_chunks
                    );
                }
                println!("embedded {} new or changed documents ({rate:.0}/s), removed {}, {:.2} s in all", report.embedded, report.removed, report.seconds);
                if let Some(f) = &report.fleet {
                    println!(
                        "fleet: wrote {} and deleted {} points of host {} in collection {}{}",
                        f.written,
                        f.deleted,
                        f.host,
                        f.collection,
                        if f.republished {
                            " (everything republished)"
                        } else {
                            ""
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// (snapshot, its /etc) for every snapshot of the tree at `--root`; none if there is
/// no tree.
fn snapshot_etcs(cli: &Cli) -> Vec<(String, PathBuf)> {
    let Ok(r) = rast_snapshot::Rast::open(&cli.root) else {
        return Vec::new();
    };
    let Ok(meta) = r.meta() else {
        return Vec::new();
    };
    meta.snapshots
        .keys()
        .map(|id| {
            (
                id.to_string(),
                r.layout().part(rast_snapshot::Part::Etc, *id),
            )
        })
        .filter(|(_, p)| p.is_dir())
        .collect()
}

/// Snapshot names as ranges: `1, 3–5, 9`.
fn ranges(names: &[String]) -> String {
    let mut nums: Vec<u64> = names.iter().filter_map(|n| n.parse().ok()).collect();
    nums.sort_unstable();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
            j += 1;
        }
        out.push(if j > i {
            format!("{}–{}", nums[i], nums[j])
        } else {
            nums[i].to_string()
        });
        i = j + 1;
    }
    out.join(", ")
}

fn build_with_progress(
    cli: &Cli,
    dir: &Path,
    src: &Sources,
    be: &Backend,
    enc: &rast_embeddings::Encoder,
) -> Result<index::BuildReport> {
    let tty = std::io::stderr().is_terminal() && !cli.json;
    let bar = indicatif::ProgressBar::hidden();
    let mut last_log = std::time::Instant::now();
    let r = index::build(dir, src, be, enc, &mut |p| match p {
        Progress::Collected { docs, to_embed } => {
            if tty {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_length(to_embed as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} embedding {pos}/{len} documents [{bar:30}] {per_sec} ETA {eta}",
                    )
                    .expect("template")
                    .progress_chars("=> "),
                );
            }
            if !cli.json {
                eprintln!("rast: {docs} documents, {to_embed} to embed");
            }
        }
        Progress::Embedded { done, total } => {
            if tty {
                bar.set_position(done as u64);
            } else if !cli.json && (last_log.elapsed().as_secs() >= 10 || done == total) {
                eprintln!("rast: embedded {done}/{total}");
                last_log = std::time::Instant::now();
            }
        }
    });
    bar.finish_and_clear();
    Ok(r?)
}

pub fn search(cli: &Cli, a: &SearchArgs, force_kind: Option<Kind>) -> Result<ExitCode> {
    let cfg = config::load(&config::path())?;
    let sys = system(cli);
    let kind = match (force_kind, &a.kind) {
        (Some(Kind::Config), _) if a.history => Some(Kind::History),
        (_, _) if a.history => {
            bail!("--history searches config: `rast config search --history QUERY`")
        }
        (Some(k), _) => Some(k),
        (None, Some(k)) => Some(k.parse::<Kind>().map_err(anyhow::Error::msg)?),
        (None, None) => None,
    };
    let query = a.query.join(" ");
    if a.fleet || !a.hosts.is_empty() {
        return fleet_search(cli, a, &cfg, &sys, &query, kind);
    }
    // A running agent has the model loaded already.
    let hits = match crate::agent_client::search_via_agent(&cli.root, &a.loc, &query, a.limit, kind)
    {
        Some(h) => h,
        None => {
            let dir = index_dir(&a.loc, &cfg, &sys);
            let searcher = Searcher::open(&dir, encoder(&a.loc)?)?;
            searcher.search(&query, a.limit, kind)?
        }
    };
    if cli.json {
        print_json(&json!({ "query": query, "results": hits }));
    } else if hits.is_empty() {
        eprintln!("rast: nothing found for {query:?}");
        return Ok(ExitCode::FAILURE);
    } else {
        for h in &hits {
            match h.kind {
                Kind::Package => {
                    println!(
                        "{}/{} {}{}",
                        h.repo.as_deref().unwrap_or(""),
                        h.name,
                        h.version.as_deref().unwrap_or(""),
                        if h.installed { " [installed]" } else { "" }
                    );
                    println!("    {}", h.snippet);
                }
                Kind::Config | Kind::History => {
                    let (a, b) = h.lines.unwrap_or((0, 0));
                    let when = match (h.kind, h.snapshots.is_empty()) {
                        (Kind::History, _) => format!("  in snapshots {}", ranges(&h.snapshots)),
                        (_, false) if kind == Some(Kind::History) => {
                            format!("  now; in snapshots {}", ranges(&h.snapshots))
                        }
                        _ => String::new(),
                    };
                    println!(
                        "{}:{a}-{b}{}{when}",
                        h.name,
                        h.section
                            .as_deref()
                            .map(|s| format!(" [{s}]"))
                            .unwrap_or_default()
                    );
                    for l in h.snippet.lines() {
                        println!("    {l}");
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--fleet` / `--host`: every (or the named) host of the Qdrant collection,
/// grouped by host: `HOST  /etc/ssh/sshd_config:32  PermitRootLogin yes`.
fn fleet_search(
    cli: &Cli,
    a: &SearchArgs,
    cfg: &config::Config,
    sys: &System,
    query: &str,
    kind: Option<Kind>,
) -> Result<ExitCode> {
    let Backend::Qdrant(qcfg) = backend(cfg, sys)? else {
        bail!("--fleet searches the fleet's Qdrant collection: set [index] backend = \"qdrant\" and url in {}", config::path().display());
    };
    for h in &a.hosts {
        if !rast_pkgindex::qdrant::valid_host(h) {
            bail!("--host {h:?}: not a host name (letters, digits, '.', '_', '-')");
        }
    }
    // A running agent has the model loaded already; else in-process.
    let groups = match crate::agent_client::fleet_via_agent(
        &cli.root, &a.loc, query, a.limit, kind, &a.hosts,
    ) {
        Some(g) => g,
        None => rast_pkgindex::fleet::search(
            &qcfg,
            &encoder(&a.loc)?,
            &rast_pkgindex::fleet::Ask {
                query,
                kind,
                hosts: &a.hosts,
                per_host: a.limit.clamp(1, 100),
                max_hosts: 1000,
            },
        )?,
    };
    if cli.json {
        let hits: Vec<serde_json::Value> = groups
            .iter()
            .flat_map(|g| {
                g.hits.iter().map(move |h| {
                    let mut v = serde_json::to_value(h).expect("hit");
                    v["host"] = json!(g.host);
                    v
                })
            })
            .collect();
        print_json(&json!({ "query": query, "hosts": groups.len(), "results": hits }));
        return Ok(ExitCode::SUCCESS);
    }
    if groups.iter().all(|g| g.hits.is_empty()) {
        eprintln!("rast: nothing found for {query:?} on any host");
        return Ok(ExitCode::FAILURE);
    }
    let width = groups.iter().map(|g| g.host.len()).max().unwrap_or(0);
    for g in &groups {
        for f in &g.hits {
            let h = &f.hit;
            let (place, line) = match h.kind {
                Kind::Config | Kind::History => {
                    let (n, best) = f
                        .line
                        .clone()
                        .unwrap_or((h.lines.unwrap_or((0, 0)).0, String::new()));
                    (format!("{}:{n}", h.name), best)
                }
                Kind::Package => (
                    format!(
                        "{} {}{}",
                        h.name,
                        h.version.as_deref().unwrap_or(""),
                        if h.installed { " [installed]" } else { "" }
                    ),
                    h.snippet.clone(),
                ),
            };
            println!("{:width$}  {place}  {line}", g.host);
        }
    }
    Ok(ExitCode::SUCCESS)
}

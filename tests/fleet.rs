//! Fleet search on a real Qdrant server: four simulated hosts (copies of a real Arch
//! /etc with their own hostnames and settings, the real Arch 2022 core database)
//! publish into one collection; `--fleet` answers by host, `--host` narrows,
//! re-indexing is idempotent and deletes what a host no longer has, secrets never
//! reach a payload, a server that is down or a wrong API key fail clearly while this
//! host's own search keeps working.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rast_e2e::qdrant::Qdrant;
use rast_e2e::{data, rast_bin};
use serde_json::{json, Value};

const COLLECTION: &str = "fleet";

/// A simulated host: a plain-Arch root with /etc and the core sync database.
struct Host {
    name: &'static str,
    root: PathBuf,
}

fn make_host(base: &Path, name: &'static str, root_login: &str, parallel: u32) -> Host {
    let root = base.join(name);
    let etc = root.join("etc");
    std::fs::create_dir_all(root.join("var/lib/pacman/sync")).unwrap();
    assert!(Command::new("cp")
        .arg("-a")
        .arg(data().join("etc-arch-laptop"))
        .arg(&etc)
        .status()
        .unwrap()
        .success());
    std::fs::write(etc.join("hostname"), format!("{name}\n")).unwrap();
    std::fs::create_dir_all(etc.join("ssh")).unwrap();
    std::fs::write(
        etc.join("ssh/sshd_config"),
        format!(
            "# See the sshd_config(5) manpage for details\n\nInclude /etc/ssh/sshd_config.d/*.conf\n\n#Port 22\n#AddressFamily any\n\n# Authentication:\n\n#LoginGraceTime 2m\nPermitRootLogin {root_login}\n#StrictModes yes\n#MaxAuthTries 6\n\nAuthorizedKeysFile\t.ssh/authorized_keys\n\nKbdInteractiveAuthentication no\nUsePAM yes\nSubsystem\tsftp\t/usr/lib/ssh/sftp-server\n"
        ),
    )
    .unwrap();
    let conf = std::fs::read_to_string(etc.join("pacman.conf")).unwrap();
    std::fs::write(
        etc.join("pacman.conf"),
        conf.replace(
            "#ParallelDownloads = 5",
            &format!("ParallelDownloads = {parallel}"),
        ),
    )
    .unwrap();
    std::fs::copy(mini_core(base), root.join("var/lib/pacman/sync/core.db")).unwrap();
    Host { name, root }
}

/// Twelve real packages of the Arch 2022 core database (enough to search packages
/// across hosts, small enough to embed quickly in a debug build).
fn mini_core(base: &Path) -> PathBuf {
    let db = base.join("core-mini.db");
    if db.is_file() {
        return db;
    }
    let x = base.join("core-x");
    std::fs::create_dir_all(&x).unwrap();
    assert!(Command::new("tar")
        .args(["--warning=no-unknown-keyword", "-xzf"])
        .arg(data().join("arch-2022/core.db.tar.gz"))
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap()
        .success());
    let wanted = [
        "openssl",
        "openssh",
        "sudo",
        "pacman",
        "linux",
        "bash",
        "coreutils",
        "systemd",
        "glibc",
        "grub",
        "btrfs-progs",
        "curl",
    ];
    let mut dirs: Vec<String> = std::fs::read_dir(&x)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|d| {
            // NAME-VERSION-REL: the name is everything before the last two dashes.
            let parts: Vec<&str> = d.rsplitn(3, '-').collect();
            parts.len() == 3 && wanted.contains(&parts[2])
        })
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), wanted.len(), "{dirs:?}");
    assert!(Command::new("tar")
        .arg("-czf")
        .arg(&db)
        .arg("-C")
        .arg(&x)
        .args(&dirs)
        .status()
        .unwrap()
        .success());
    db
}

fn write_config(path: &Path, url: &str, extra: &str) {
    std::fs::write(
        path,
        format!("[index]\nbackend = \"qdrant\"\nurl = \"{url}\"\ncollection = \"{COLLECTION}\"\n{extra}"),
    )
    .unwrap();
}

fn rast_at(cfg: &Path, root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(rast_bin());
    c.arg("--root")
        .arg(root)
        .args(args)
        .env("RAST_CONFIG", cfg)
        .env_remove("RAST_ROOT")
        .env_remove("RAST_AGENT_SOCKET")
        .env("RAST_AGENT_SOCKET", root.join("no-agent.sock"))
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(out: Output, what: &str) -> Value {
    serde_json::from_str(&ok(out, what)).unwrap()
}

/// host → the best-matching line of its sshd_config hit, from a --fleet --json answer.
fn best_sshd_lines(v: &Value) -> std::collections::BTreeMap<String, String> {
    let mut m = std::collections::BTreeMap::new();
    for r in v["results"].as_array().unwrap() {
        if r["name"] == "/etc/ssh/sshd_config" {
            m.entry(r["host"].as_str().unwrap().to_string())
                .or_insert_with(|| r["line"][1].as_str().unwrap_or("").to_string());
        }
    }
    m
}

#[test]
fn a_fleet_of_hosts_answers_by_host_on_a_real_qdrant() {
    let Some(q) = Qdrant::start(None) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("rast.toml");
    write_config(&cfg, &q.url, "");
    let hosts = [
        make_host(tmp.path(), "alpha", "yes", 5),
        make_host(tmp.path(), "bravo", "no", 5),
        make_host(tmp.path(), "charlie", "yes", 1),
        make_host(tmp.path(), "delta", "prohibit-password", 1),
    ];
    // bravo plants secrets: a shadow file (never read) and a token line (redacted).
    let bravo_etc = hosts[1].root.join("etc");
    std::fs::write(
        bravo_etc.join("shadow"),
        "root:$6$PLANTEDFLEETSALT$PLANTEDFLEETHASH:19000::::::\n",
    )
    .unwrap();
    std::fs::write(
        bravo_etc.join("myapp.conf"),
        "[server]\nlisten = 0.0.0.0:8080\napi_token = PLANTEDFLEETTOKEN\n",
    )
    .unwrap();
    for h in &hosts {
        ok(rast_at(&cfg, &h.root, &["index", "build"], &[]), h.name);
    }
    let st = json_of(
        rast_at(&cfg, &hosts[0].root, &["--json", "index", "status"], &[]),
        "status",
    );
    assert_eq!(st["host"], "alpha", "{st}");
    let docs_of = |h: &Host| -> u64 {
        let st = json_of(
            rast_at(&cfg, &h.root, &["--json", "index", "status"], &[]),
            "status",
        );
        st["packages"].as_u64().unwrap() + st["configs"].as_u64().unwrap()
    };
    let count_of = |name: &str| {
        q.count(
            COLLECTION,
            json!({"must": [{"key": "host", "match": {"value": name}}]}),
        )
    };
    for h in &hosts {
        assert_eq!(
            count_of(h.name),
            docs_of(h),
            "{}: one point per document",
            h.name
        );
    }
    let total = q.count(COLLECTION, json!({}));

    // Which hosts permit root logins? Every host answers, each with its own line.
    let ask = |args: &[&str]| -> Value {
        let mut a = vec!["--json", "config", "search", "--fleet", "--limit", "3"];
        a.extend_from_slice(args);
        json_of(rast_at(&cfg, &hosts[1].root, &a, &[]), "fleet search")
    };
    let v = ask(&["PermitRootLogin yes"]);
    let lines = best_sshd_lines(&v);
    assert_eq!(
        lines.keys().map(String::as_str).collect::<Vec<_>>(),
        ["alpha", "bravo", "charlie", "delta"],
        "{v}"
    );
    for (host, want) in [
        ("alpha", "PermitRootLogin yes"),
        ("bravo", "PermitRootLogin no"),
        ("charlie", "PermitRootLogin yes"),
        ("delta", "PermitRootLogin prohibit-password"),
    ] {
        assert_eq!(lines[host], want, "{host}: {v}");
    }
    let text = ok(
        rast_at(
            &cfg,
            &hosts[1].root,
            &[
                "config",
                "search",
                "--fleet",
                "--limit",
                "1",
                "PermitRootLogin yes",
            ],
            &[],
        ),
        "text",
    );
    assert!(
        text.lines().any(|l| l.starts_with("alpha")
            && l.contains("/etc/ssh/sshd_config:11  PermitRootLogin yes")),
        "{text}"
    );
    let v = ask(&["ParallelDownloads"]);
    let pacman: Vec<(String, String)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "/etc/pacman.conf")
        .map(|r| {
            (
                r["host"].as_str().unwrap().into(),
                r["line"][1].as_str().unwrap().into(),
            )
        })
        .collect();
    for (h, n) in [("alpha", 5), ("charlie", 1), ("delta", 1)] {
        assert!(
            pacman.contains(&(h.into(), format!("ParallelDownloads = {n}"))),
            "{h}: {pacman:?}"
        );
    }
    // Packages are fleet-searchable too, with their payload.
    let v = json_of(
        rast_at(
            &cfg,
            &hosts[0].root,
            &[
                "--json", "search", "--fleet", "--kind", "package", "--limit", "1", "openssl",
            ],
            &[],
        ),
        "package search",
    );
    assert_eq!(v["hosts"], 4, "{v}");
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] == "openssl" && r["repo"] == "core"),
        "{v}"
    );

    // --host narrows; without --fleet, a host sees only itself.
    let v = ask(&["--host", "charlie", "--host", "delta", "PermitRootLogin"]);
    let seen: std::collections::BTreeSet<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["charlie", "delta"]);
    let local = json_of(
        rast_at(
            &cfg,
            &hosts[1].root,
            &["--json", "config", "search", "PermitRootLogin"],
            &[],
        ),
        "local search",
    );
    let first = &local["results"][0];
    assert!(first.get("host").is_none());
    assert!(
        first["snippet"]
            .as_str()
            .unwrap()
            .contains("PermitRootLogin no"),
        "{local}"
    );

    // Secrets never reach a payload.
    let payloads = q.all_payloads(COLLECTION);
    for planted in ["PLANTEDFLEETSALT", "PLANTEDFLEETHASH", "PLANTEDFLEETTOKEN"] {
        assert!(!payloads.contains(planted), "{planted} reached Qdrant");
    }
    assert!(
        payloads.contains("listen = 0.0.0.0:8080"),
        "the rest of myapp.conf is there"
    );

    // Re-indexing is idempotent, and touches no other host.
    let v = json_of(
        rast_at(&cfg, &hosts[0].root, &["--json", "index", "build"], &[]),
        "rebuild",
    );
    let f = &v["report"]["fleet"];
    assert_eq!(
        (&f["host"], &f["written"], &f["republished"]),
        (&json!("alpha"), &json!(0), &json!(false)),
        "{v}"
    );
    assert_eq!(q.count(COLLECTION, json!({})), total);
    // What a host no longer has is deleted — incrementally, and after a lost local state.
    std::fs::remove_file(hosts[0].root.join("etc/locale.gen")).unwrap();
    ok(
        rast_at(&cfg, &hosts[0].root, &["index", "build"], &[]),
        "rebuild",
    );
    let gone = |h: &str| {
        q.count(
            COLLECTION,
            json!({"must": [{"key": "host", "match": {"value": h}}, {"key": "name", "match": {"value": "/etc/locale.gen"}}]}),
        )
    };
    assert_eq!(gone("alpha"), 0);
    assert!(gone("bravo") > 0, "bravo keeps its locale.gen");
    std::fs::remove_dir_all(hosts[2].root.join("var/lib/rast/index")).unwrap();
    std::fs::remove_file(hosts[2].root.join("etc/locale.gen")).unwrap();
    ok(
        rast_at(&cfg, &hosts[2].root, &["index", "build"], &[]),
        "fresh rebuild",
    );
    assert_eq!(
        gone("charlie"),
        0,
        "stale points of a lost index are deleted"
    );
    for h in &hosts {
        assert_eq!(count_of(h.name), docs_of(h), "{}", h.name);
    }

    // [index] host names the machine instead of /etc/hostname.
    let cfg_named = tmp.path().join("named.toml");
    write_config(&cfg_named, &q.url, "host = \"delta-db\"\n");
    ok(
        rast_at(&cfg_named, &hosts[3].root, &["index", "build"], &[]),
        "renamed",
    );
    assert_eq!(count_of("delta-db"), docs_of(&hosts[3]));
    assert_eq!(
        count_of("delta"),
        docs_of(&hosts[3]),
        "the old name's points are another host's"
    );
    let total = q.count(COLLECTION, json!({}));
    let bad = tmp.path().join("bad.toml");
    write_config(&bad, &q.url, "host = \"no such/host\"\n");
    let out = rast_at(&bad, &hosts[3].root, &["index", "build"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[index] host"));

    // A warm agent answers --fleet queries the same (the model already loaded).
    let sock = tmp.path().join("agent.sock");
    let mut agent = Command::new(rast_e2e::target_profile_dir().join("rast-agent"))
        .arg("--root")
        .arg(&hosts[0].root)
        .arg("--socket")
        .arg(&sock)
        .args(["--group", "0", "--no-watch", "--no-backups"])
        .env("RAST_CONFIG", &cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sock_env = sock.to_str().unwrap();
    let status = |c: &Path| {
        rast_at(
            c,
            &hosts[0].root,
            &["--json", "agent", "status"],
            &[("RAST_AGENT_SOCKET", sock_env)],
        )
    };
    let t0 = std::time::Instant::now();
    while !(status(&cfg).status.success()
        && json_of(status(&cfg), "status")["agent"]["index"]["loaded"] == true)
    {
        assert!(t0.elapsed().as_secs() < 60, "the agent did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let warm = json_of(
        rast_at(
            &cfg,
            &hosts[1].root,
            &[
                "--json",
                "config",
                "search",
                "--fleet",
                "--limit",
                "3",
                "PermitRootLogin yes",
            ],
            &[("RAST_AGENT_SOCKET", sock_env)],
        ),
        "fleet search via the agent",
    );
    assert_eq!(
        best_sshd_lines(&warm)["alpha"],
        "PermitRootLogin yes",
        "{warm}"
    );
    assert_eq!(
        best_sshd_lines(&warm).into_keys().collect::<Vec<_>>(),
        ["alpha", "bravo", "charlie", "delta", "delta-db"],
        "{warm}"
    );
    assert_eq!(
        json_of(status(&cfg), "status")["agent"]["requests"]["fleet_search"],
        1
    );
    let _ = agent.kill();
    let _ = agent.wait();

    // The server goes down: fleet work fails naming it; this host's search still works.
    q.stop();
    for args in [
        &["index", "build"][..],
        &["config", "search", "--fleet", "PermitRootLogin"],
    ] {
        let out = rast_at(&cfg, &hosts[0].root, args, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(&q.url), "{args:?}: {err}");
    }
    ok(
        rast_at(
            &cfg,
            &hosts[0].root,
            &["config", "search", "PermitRootLogin"],
            &[],
        ),
        "local search with the server down",
    );
    // Restarted on the same storage: the next build completes, nothing duplicated.
    let q = q.restart();
    ok(
        rast_at(&cfg, &hosts[0].root, &["index", "build"], &[]),
        "after restart",
    );
    assert_eq!(q.count(COLLECTION, json!({})), total);
}

#[test]
fn an_api_key_is_honoured_and_a_wrong_one_is_a_clear_error() {
    let Some(q) = Qdrant::start(Some("fleet-test-key-1")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("rast.toml");
    write_config(&cfg, &q.url, "api_key_env = \"RAST_TEST_QDRANT_KEY\"\n");
    let h = make_host(tmp.path(), "echo", "no", 5);
    let out = rast_at(
        &cfg,
        &h.root,
        &["index", "build"],
        &[("RAST_TEST_QDRANT_KEY", "wrong")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&q.url), "{err}");
    let out = rast_at(&cfg, &h.root, &["index", "build"], &[]);
    assert!(!out.status.success(), "no key at all is refused too");
    ok(
        rast_at(
            &cfg,
            &h.root,
            &["index", "build"],
            &[("RAST_TEST_QDRANT_KEY", "fleet-test-key-1")],
        ),
        "with the key",
    );
    assert!(q.count(COLLECTION, json!({})) > 0);
}

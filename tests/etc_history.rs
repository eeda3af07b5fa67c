//! Configuration history on real btrfs with the real Arch /etc copy (tests/data):
//! a tree of snapshots where files change, appear and disappear; `config log`, `diff`
//! and `restore` checked against the files themselves; secrets never shown.

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

use rast_e2e::Fs;
use serde_json::Value;

/// Runs `script` with sh inside snapshot `n` (a transaction that commits).
fn sh(fs: &Fs, n: u64, script: &str) {
    fs.ok(&["run", &n.to_string(), "--", "sh", "-c", script]);
}

/// Unpacks the real Arch /etc copy into snapshot `n`'s /etc (tar on stdin).
fn put_arch_etc(fs: &Fs, n: u64) {
    let src = rast_e2e::data().join("etc-arch-laptop");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&src)
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let mut c = fs.cmd(&[
        "run",
        &n.to_string(),
        "--",
        "busybox",
        "tar",
        "-xf",
        "-",
        "-C",
        "/etc",
    ]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(&tar.stdout);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The tree: 0 base; 1 (clone of 0) with the Arch /etc, sshd_config `Port 22`, a
/// private key and a 0600 token file; 2 ← 1: Port 2222 and another pacman.conf; 3 ← 2:
/// hostname removed, the token changed; 4 ← 3: motd added; 5 ← 4: Port 22 again;
/// 6 ← 1: fstab changed.
fn tree() -> Fs {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    put_arch_etc(&fs, 1);
    sh(
        &fs,
        1,
        "mkdir -p /etc/ssh /etc/ssl/private /etc/app \
         && printf 'Include /etc/ssh/sshd_config.d/*.conf\\nPort 22\\nPermitRootLogin no\\n' > /etc/ssh/sshd_config \
         && chmod 644 /etc/ssh/sshd_config && chown 1000:1000 /etc/ssh/sshd_config \
         && printf -- '-----BEGIN PRIVATE KEY-----\\nMIIBVQ\\n-----END PRIVATE KEY-----\\n' > /etc/ssl/private/server.pem \
         && printf 'token = hunter2-one\\n' > /etc/app/token.conf && chmod 600 /etc/app/token.conf \
         && printf 'db_password = swordfish\\nlisten = 8080\\n' > /etc/app/app.conf \
         && rm -f /etc/localtime && ln -s /usr/share/zoneinfo/UTC /etc/localtime \
         && ln -s hostname /etc/hostname.link",
    );
    // (parent, what the new branch changes): snapshots 2…6 in order.
    let steps = [
        (
            1,
            "sed -i 's/^Port 22$/Port 2222/' /etc/ssh/sshd_config && chmod 664 /etc/ssh/sshd_config \
             && sed -i 's/^db_password = .*/db_password = tiger/' /etc/app/app.conf \
             && echo 'ParallelDownloads = 9' >> /etc/pacman.conf",
        ),
        (2, "rm /etc/hostname && printf 'token = hunter2-two\\n' > /etc/app/token.conf"),
        (3, "echo 'welcome to rastOS' > /etc/motd"),
        (4, "sed -i 's/^Port 2222$/Port 22/' /etc/ssh/sshd_config"),
        (1, "echo '# swap' >> /etc/fstab"),
    ];
    for (i, (parent, script)) in steps.iter().enumerate() {
        fs.ok(&["branch", &parent.to_string()]);
        sh(&fs, i as u64 + 2, script);
    }
    fs
}

fn etc_file(fs: &Fs, n: u64, rel: &str) -> Option<Vec<u8>> {
    std::fs::read(fs.sub("etc", &format!("etc-{n}")).join(rel)).ok()
}

/// A version as the file itself has it: content, mode, owner.
fn etc_version(fs: &Fs, n: u64, rel: &str) -> Option<(Vec<u8>, u32, u32, u32)> {
    let p = fs.sub("etc", &format!("etc-{n}")).join(rel);
    let m = std::fs::symlink_metadata(&p).ok()?;
    Some((std::fs::read(&p).ok()?, m.mode() & 0o7777, m.uid(), m.gid()))
}

fn log(fs: &Fs, file: &str) -> Value {
    fs.json(&["config", "log", file])
}

fn row(v: &Value, n: u64) -> Value {
    v["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["snapshot"] == n)
        .unwrap_or_else(|| panic!("snapshot {n} in {v}"))
        .clone()
}

#[test]
fn log_diff_and_restore_along_the_tree() {
    let fs = tree();
    let ids = [0u64, 1, 2, 3, 4, 5, 6];

    // Log: hashes agree with the files themselves, changes against the tree parent.
    let v = log(&fs, "/etc/ssh/sshd_config");
    assert_eq!(v["secret"], false, "{v}");
    let order: Vec<u64> = v["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["snapshot"].as_u64().unwrap())
        .collect();
    assert_eq!(
        order,
        [0, 1, 2, 3, 4, 5, 6],
        "tree order: 6 is 1's second child"
    );
    for a in ids {
        for b in ids {
            let same_file =
                etc_version(&fs, a, "ssh/sshd_config") == etc_version(&fs, b, "ssh/sshd_config");
            let same_hash = row(&v, a)["version"] == row(&v, b)["version"];
            assert_eq!(same_file, same_hash, "snapshots {a} and {b}: {v}");
        }
    }
    let changes: Vec<&str> = ids
        .iter()
        .map(|&n| {
            v["snapshots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["snapshot"] == n)
                .unwrap()["change"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        changes,
        ["absent", "added", "changed", "same", "same", "changed", "same"]
    );
    let distinct: std::collections::HashSet<_> = ids
        .iter()
        .filter_map(|&n| etc_version(&fs, n, "ssh/sshd_config"))
        .collect();
    assert_eq!(v["versions"], distinct.len(), "{v}");
    let h = log(&fs, "hostname");
    assert_eq!(row(&h, 3)["change"], "removed");
    assert_eq!(row(&h, 4)["change"], "absent");
    assert_eq!(row(&log(&fs, "/etc/motd"), 4)["change"], "added");
    let text = fs.ok(&["config", "log", "/etc/ssh/sshd_config"]);
    eprintln!("{text}");
    assert!(
        text.contains(&format!("{} versions in 7 snapshots", distinct.len())),
        "{text}"
    );

    // Diff between snapshots, in both directions, and against nothing.
    let d = fs.ok(&["config", "diff", "/etc/ssh/sshd_config", "1", "2"]);
    assert!(
        d.contains("-Port 22\n") && d.contains("+Port 2222\n"),
        "{d}"
    );
    assert!(d.contains("/etc/ssh/sshd_config (snapshot 1)"), "{d}");
    let d = fs.ok(&["config", "diff", "motd", "3", "4"]);
    assert!(
        d.contains("--- /dev/null") && d.contains("+welcome to rastOS"),
        "{d}"
    );
    let same = fs.json(&["config", "diff", "ssh/sshd_config", "1", "5"]);
    assert_eq!(
        same["same"] == true,
        etc_version(&fs, 1, "ssh/sshd_config") == etc_version(&fs, 5, "ssh/sshd_config"),
        "{same}"
    );
    assert_eq!(same["diff"], "", "Port 22 in both: {same}");
    // A redacted line shows as such, never its value.
    let d = fs.ok(&["config", "diff", "/etc/app/app.conf", "1", "2"]);
    assert!(!d.contains("swordfish") && !d.contains("tiger"), "{d}");
    assert!(d.contains("only redacted (secret) values differ"), "{d}");
    let d = fs.ok(&["config", "diff", "/etc/app/app.conf", "2", "3"]);
    assert!(d.is_empty(), "nothing differs: {d}");

    // Secret files: log without hashes, diff refused, nothing of the content anywhere.
    for secret in ["/etc/ssl/private/server.pem", "/etc/app/token.conf"] {
        let v = log(&fs, secret);
        assert_eq!(v["secret"], true, "{v}");
        assert!(!v.to_string().contains("hash"), "{v}");
        let (code, err) = fs.fail(&["config", "diff", secret, "1", "3"]);
        assert_eq!(code, 1);
        assert!(err.contains("holds secrets"), "{err}");
        let text = fs.ok(&["config", "log", secret]);
        assert!(text.contains("(secret)"), "{text}");
    }
    assert_eq!(
        row(&log(&fs, "/etc/app/token.conf"), 3)["change"],
        "changed"
    );

    // Restore: byte-identical, mode and owner kept, a transaction on the target.
    fs.ok(&[
        "--yes",
        "config",
        "restore",
        "/etc/ssh/sshd_config",
        "--from",
        "1",
        "--into",
        "4",
    ]);
    assert_eq!(
        etc_file(&fs, 4, "ssh/sshd_config"),
        etc_file(&fs, 1, "ssh/sshd_config")
    );
    for part in [
        fs.sub("etc", "etc-4").join("ssh/sshd_config"),
        fs.sub("rootfs", "snapshot-4").join("etc/ssh/sshd_config"),
    ] {
        let m = std::fs::metadata(&part).unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid()),
            (0o644, 1000, 1000),
            "{part:?}"
        );
    }
    assert_eq!(row(&log(&fs, "ssh/sshd_config"), 4)["change"], "changed");
    // The same again: nothing to change, no commit.
    let again = fs.json(&[
        "--yes",
        "config",
        "restore",
        "ssh/sshd_config",
        "--from",
        "1",
        "--into",
        "4",
    ]);
    assert_eq!(again["unchanged"], true, "{again}");
    assert_eq!(again["committed"], false, "{again}");
    // A file that is gone comes back, with its directory's neighbours untouched.
    fs.ok(&[
        "--yes", "config", "restore", "hostname", "--from", "2", "--into", "5",
    ]);
    assert_eq!(etc_file(&fs, 5, "hostname"), etc_file(&fs, 2, "hostname"));
    // An in-/etc symlink is restored as a symlink.
    sh(&fs, 6, "rm /etc/hostname.link");
    fs.ok(&[
        "--yes",
        "config",
        "restore",
        "hostname.link",
        "--from",
        "1",
        "--into",
        "6",
    ]);
    let link = fs.sub("etc", "etc-6").join("hostname.link");
    assert_eq!(
        std::fs::read_link(&link).unwrap().to_str(),
        Some("hostname")
    );

    // Refusals: outside /etc, a symlink out of /etc, a version that is not there,
    // no terminal and no --yes, the base snapshot.
    for (args, words) in [
        (
            vec![
                "config",
                "restore",
                "/usr/bin/sh",
                "--from",
                "1",
                "--into",
                "2",
            ],
            "only files under /etc",
        ),
        (
            vec![
                "config",
                "restore",
                "../shadow",
                "--from",
                "1",
                "--into",
                "2",
            ],
            "no `..`",
        ),
        (
            vec![
                "--yes",
                "config",
                "restore",
                "/etc/localtime",
                "--from",
                "1",
                "--into",
                "2",
            ],
            "outside /etc",
        ),
        (
            vec![
                "--yes",
                "config",
                "restore",
                "/etc/motd",
                "--from",
                "1",
                "--into",
                "2",
            ],
            "has no /etc/motd",
        ),
        (
            vec![
                "config",
                "restore",
                "/etc/fstab",
                "--from",
                "6",
                "--into",
                "2",
            ],
            "pass --yes",
        ),
        (
            vec![
                "--yes",
                "config",
                "restore",
                "/etc/fstab",
                "--from",
                "6",
                "--into",
                "0",
            ],
            "base snapshot",
        ),
    ] {
        let (code, err) = fs.fail(&args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(words), "{args:?}: {err}");
    }
    assert_ne!(
        etc_file(&fs, 2, "fstab"),
        etc_file(&fs, 6, "fstab"),
        "a refused restore changed nothing"
    );
    fs.assert_snapshots_intact();
}

/// A restore into the deployed snapshot goes through a transaction and leaves the
/// running slot alone; `live` diffs against the slot's /etc.
#[test]
fn restore_into_the_deployed_snapshot_never_touches_the_slot() {
    let fs = tree();
    fs.deploy_by_hand(2);
    let slot_file = fs
        .sub("rootfs", "snapshot-tmp0")
        .join("etc/ssh/sshd_config");
    let before = std::fs::read(&slot_file).unwrap();
    let d = fs.ok(&["config", "diff", "/etc/ssh/sshd_config", "1", "live"]);
    assert!(d.contains("+Port 2222"), "live is the slot's /etc: {d}");
    let v = fs.json(&[
        "--yes",
        "config",
        "restore",
        "/etc/ssh/sshd_config",
        "--from",
        "1",
        "--into",
        "2",
    ]);
    assert_eq!(v["committed"], true, "{v}");
    assert_eq!(v["redeploy"], true, "deploying 2 again boots it: {v}");
    assert_eq!(
        etc_file(&fs, 2, "ssh/sshd_config"),
        etc_file(&fs, 1, "ssh/sshd_config")
    );
    assert_eq!(
        std::fs::read(&slot_file).unwrap(),
        before,
        "the slot is untouched"
    );
}

fn dir_bytes(d: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            dir_bytes(&e.path())
        } else {
            m.len()
        };
    }
    n
}

/// `config search --history` finds lines of past versions and says which snapshots
/// held each; every distinct version is stored once, so the index grows little;
/// no secret reaches the index.
#[test]
fn history_search_names_the_snapshots_of_each_version() {
    let fs = tree();
    fs.deploy_by_hand(5);
    let idx = fs.dir.path().join("idx");
    let plain = fs.dir.path().join("idx-no-history");
    let r = fs.json(&["index", "build", "--index-dir", idx.to_str().unwrap()]);
    assert!(
        r["report"]["history_versions"].as_u64().unwrap() >= 3,
        "{r}"
    );
    let r0 = fs.json(&[
        "index",
        "build",
        "--no-history",
        "--index-dir",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(r0["report"]["history_versions"], 0, "{r0}");
    let (with, without) = (dir_bytes(&idx), dir_bytes(&plain));
    eprintln!(
        "index size: {with} bytes with history, {without} without ({:.3}×); {} history chunks",
        with as f64 / without as f64,
        r["report"]["history_chunks"]
    );
    assert!(
        (with as f64) <= 1.3 * without as f64,
        "history costs ≤ 1.3×: {with} vs {without}"
    );

    let search = |args: &[&str]| -> Value {
        let mut a = vec!["config", "search", "--index-dir", idx.to_str().unwrap()];
        a.extend_from_slice(args);
        fs.json(&a)
    };
    let v = search(&[
        "--history",
        "--limit",
        "20",
        "which port does the ssh server listen on",
    ]);
    let hits = v["results"].as_array().unwrap();
    let ssh: Vec<&Value> = hits
        .iter()
        .filter(|h| h["name"] == "/etc/ssh/sshd_config")
        .collect();
    let past = ssh
        .iter()
        .find(|h| h["kind"] == "history")
        .unwrap_or_else(|| panic!("the Port 2222 version: {v}"));
    assert!(
        past["snippet"].as_str().unwrap().contains("Port 2222"),
        "{past}"
    );
    assert_eq!(
        past["snapshots"],
        serde_json::json!(["2", "3", "4"]),
        "{past}"
    );
    let now = ssh
        .iter()
        .find(|h| h["kind"] == "config")
        .unwrap_or_else(|| panic!("the current version: {v}"));
    assert!(
        now["snippet"].as_str().unwrap().contains("Port 22\n")
            || now["snippet"].as_str().unwrap().ends_with("Port 22"),
        "{now}"
    );
    assert!(
        now["snapshots"]
            .as_array()
            .unwrap()
            .contains(&Value::from("5")),
        "{now}"
    );
    let text = fs.ok(&[
        "config",
        "search",
        "--history",
        "--index-dir",
        idx.to_str().unwrap(),
        "--limit",
        "20",
        "ssh server port",
    ]);
    eprintln!("{text}");
    assert!(text.contains("in snapshots 2–4"), "{text}");
    // Without --history, past versions stay out of every answer.
    for args in [
        vec![
            "config",
            "search",
            "--index-dir",
            idx.to_str().unwrap(),
            "--limit",
            "50",
            "ssh server port",
        ],
        vec![
            "search",
            "--index-dir",
            idx.to_str().unwrap(),
            "--limit",
            "50",
            "ssh server port",
        ],
    ] {
        let v = fs.json(&args);
        assert!(
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["kind"] != "history"),
            "{args:?}: {v}"
        );
    }
    // Plain words: the planner names the file from the index's /etc and the snapshots
    // from the request; a confirmed restore runs through `rast config restore`.
    let plan = |q: &str| -> Value {
        fs.json(&["plan", "--index-dir", idx.to_str().unwrap(), q])["actions"][0].clone()
    };
    assert_eq!(
        plan("when did I change the ssh config?"),
        serde_json::json!({"kind": "config_log", "file": "/etc/ssh/sshd_config"})
    );
    assert_eq!(
        plan("what did pacman.conf look like in snapshot 3?"),
        serde_json::json!({"kind": "config_diff", "file": "/etc/pacman.conf", "snapshots": ["3", "live"]})
    );
    assert_eq!(
        plan("put back my old hostname file from snapshot 2 into snapshot 4"),
        serde_json::json!({"kind": "config_restore", "file": "/etc/hostname", "from": "2", "snapshot": "4"})
    );
    let conf = fs.dir.path().join("rast.toml");
    std::fs::write(&conf, format!("[index]\ndir = \"{}\"\n", idx.display())).unwrap();
    let out = fs
        .cmd(&[
            "--yes",
            "put back my old hostname file from snapshot 2 into snapshot 4",
        ])
        .env("RAST_CONFIG", &conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(etc_file(&fs, 4, "hostname"), etc_file(&fs, 2, "hostname"));

    // Nothing secret from any snapshot reached the index.
    let mut stack = vec![idx.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
                continue;
            }
            let b = std::fs::read(e.path()).unwrap();
            for s in ["hunter2", "swordfish", "tiger", "MIIBVQ"] {
                assert!(
                    !b.windows(s.len()).any(|w| w == s.as_bytes()),
                    "{s} in {}",
                    e.path().display()
                );
            }
        }
    }
}

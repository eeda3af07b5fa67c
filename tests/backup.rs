//! Encrypted incremental backups on real btrfs, to a local directory and to local S3
//! (s3s-fs), Azure (Azurite) and GCS (fake-gcs-server) servers: full + incrementals
//! round trip, stock-tools restore, tamper and wrong-key detection, kill -9 during
//! create and during restore, a server dying mid-upload, clean, and retention that
//! keeps chains whole.

use std::process::{Command, Stdio};

use rast_e2e::backup::{same_tree, Bk};
use rast_e2e::servers::Kind;
use serde_json::Value;

fn received_uuid(p: &std::path::Path) -> String {
    let out = Command::new("btrfs")
        .args(["subvolume", "show"])
        .arg(p)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Received UUID:"))
        .unwrap()
        .trim()
        .to_string()
}

/// Full + 3 incrementals, an unchanged no-op, list, restore of the chain (identical,
/// read-only, received UUIDs right), verify with and without the key, `--as-snapshot`.
fn round_trip(b: &Bk) {
    let first = b.create(&[]);
    assert!(first["parent"].is_null());
    let mut ids = vec![first["id"].as_str().unwrap().to_string()];
    for i in 1..=3 {
        b.change(i);
        let v = b.create(&[]);
        assert_eq!(
            v["parent"].as_str(),
            Some(ids.last().unwrap().as_str()),
            "incremental to the previous backup"
        );
        // An incremental carries roughly the change (300 KB of random data), not the system.
        assert!(v["stored_bytes"].as_u64().unwrap() < 600_000, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    // Unchanged snapshot: nothing to do.
    assert_eq!(b.create(&[])["uploaded_chunks"], 0);
    let listed = b.list();
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|l| l["complete"] == true));
    let (restored, out) = b.restore_into(&ids[3]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    same_tree(&restored, &b.fs.sub("rootfs", "snapshot-1"));
    assert_eq!(
        std::fs::read_to_string(restored.join("etc/generation")).unwrap(),
        "3\n"
    );
    let ro = Command::new("btrfs")
        .args(["property", "get", "-ts"])
        .arg(&restored)
        .arg("ro")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ro.stdout).trim(), "ro=true");
    // The whole chain was received in order, each with the UUID it was sent with.
    for l in &listed {
        let id = l["id"].as_str().unwrap();
        assert_eq!(
            received_uuid(&b.fs.mnt.join("restored").join(id)),
            l["uuid"].as_str().unwrap()
        );
    }
    for args in [
        vec!["backup", "verify", "--all", "--to", &b.url],
        vec![
            "backup",
            "verify",
            "--all",
            "--read-data",
            "--to",
            &b.url,
            "--identity",
            b.identity.to_str().unwrap(),
        ],
    ] {
        b.ok(&args);
    }
    // --as-snapshot adds it to the tree.
    let v: Value = serde_json::from_str(&b.ok(&[
        "--json",
        "backup",
        "restore",
        &ids[3],
        "--into",
        b.fs.mnt.join("restored").to_str().unwrap(),
        "--to",
        &b.url,
        "--identity",
        b.identity.to_str().unwrap(),
        "--as-snapshot",
    ]))
    .unwrap();
    let n = v["snapshot"].as_u64().unwrap();
    assert_eq!(
        std::fs::read_to_string(b.fs.sub("etc", &format!("etc-{n}")).join("generation")).unwrap(),
        "3\n"
    );
    b.fs.assert_snapshots_intact();
    // --full starts a new chain.
    b.change(4);
    assert!(b.create(&["--full"])["parent"].is_null());
}

#[test]
fn full_and_three_incrementals_round_trip() {
    round_trip(&Bk::new());
}

#[test]
fn round_trip_on_s3() {
    round_trip(&Bk::on(Kind::S3));
}

#[test]
fn round_trip_on_azure() {
    round_trip(&Bk::on(Kind::Azure));
}

#[test]
fn round_trip_on_gcs() {
    let b = Bk::on(Kind::Gcs);
    round_trip(&b);
    // Pruning and cleaning work against the remote too.
    b.ok(&[
        "backup",
        "prune",
        "--preserve-min",
        "latest",
        "--to",
        &b.url,
    ]);
    assert_eq!(b.list().len(), 1);
}

/// The S3 server dies while chunks are being uploaded: `create` fails within bounded
/// retries with the root cause, lists nothing as complete, and resumes once the
/// server is back.
#[test]
fn server_stopped_mid_upload_then_resume() {
    let mut b = Bk::on(Kind::S3);
    b.random_etc_big(4000000);
    let child = b
        .cmd(&[
            "backup",
            "create",
            "1",
            "--to",
            &b.url,
            "--recipient",
            &b.key,
            "--chunk-size",
            "262144",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first chunks to land, then stop the server.
    let data = b.remote.as_ref().unwrap().dir.path().join("data");
    let started = std::time::Instant::now();
    let partial = loop {
        let found = walk(&data)
            .into_iter()
            .find(|p| p.file_name().is_some_and(|n| n == "partial.json"));
        if let Some(p) = found {
            break p;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "no chunk uploaded in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    b.remote.as_mut().unwrap().stop();
    let t0 = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let waited = t0.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "create survived a dead server?");
    eprintln!("create against a stopped server, after {waited:?}: {err}");
    assert!(
        waited.as_secs() < 60,
        "retries were not bounded: {waited:?}"
    );
    assert!(
        err.contains("onnect") || err.contains("error sending request"),
        "the root cause is shown: {err}"
    );
    assert!(partial.exists(), "uploaded chunks stay recorded");
    // Back up again: nothing is listed as complete yet; create resumes.
    b.remote.as_mut().unwrap().run();
    assert!(b.list().iter().all(|l| l["complete"] == false));
    let v = b.create(&[]);
    assert!(
        v["uploaded_chunks"].as_u64().unwrap() < v["chunks"].as_u64().unwrap(),
        "resumed from the chunks already uploaded: {v}"
    );
    let (restored, out) = b.restore_into(v["id"].as_str().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    same_tree(&restored, &b.fs.sub("rootfs", "snapshot-1"));
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn stock_tools_restore_a_chain() {
    let b = Bk::new();
    // 9 MB in one 16 MiB chunk: the chunk holds several zstd frames (one per 4 MiB
    // block, rast_backup::seal::BLOCK), which stock zstd must read as one stream.
    b.random_etc_big(9000000);
    let v = b.create_chunked("16777216", &[]);
    assert_eq!(v["chunks"], 1, "{v}");
    assert!(v["plain_bytes"].as_u64().unwrap() > 2 * (4 << 20), "{v}");
    let full = v["id"].as_str().unwrap().to_string();
    b.change(1);
    let inc = b.create(&[])["id"].as_str().unwrap().to_string();
    let store = b.fs.dir.path().join("store");
    let into = b.fs.mnt.join("stock");
    std::fs::create_dir(&into).unwrap();
    for id in [&full, &inc] {
        // for c in chunk-*; do age -d -i KEY $c; done | zstd -d | btrfs receive DIR
        let script = format!(
            "set -e; for c in {store}/{id}/chunk-*.zst.age; do age -d -i {key} \"$c\"; done | zstd -d -q | btrfs receive -q {into}",
            store = store.display(),
            key = b.identity.display(),
            into = into.display()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    same_tree(&into.join(&inc), &b.fs.sub("rootfs", "snapshot-1"));
}

#[test]
fn tampering_and_wrong_keys_are_caught() {
    let b = Bk::new();
    let id = b.create(&[])["id"].as_str().unwrap().to_string();
    assert!(b
        .fs
        .run(&["backup", "verify", &id, "--to", &b.url])
        .status
        .success());
    let ok = b.run(&[
        "backup",
        "verify",
        "--all",
        "--read-data",
        "--to",
        &b.url,
        "--identity",
        b.identity.to_str().unwrap(),
    ]);
    assert!(ok.status.success());
    // A wrong identity: clear error, nothing received.
    let wrong = b.fs.dir.path().join("wrong.txt");
    b.ok(&["backup", "keygen", "-o", wrong.to_str().unwrap()]);
    let into = b.fs.mnt.join("restored");
    let out = b.restore_cmd(&id, &wrong).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong --identity"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!into.join(&id).exists(), "nothing half-received");
    // verify --read-data with the wrong identity: not readable, not damaged — and `list`
    // does not mark the backup broken for it.
    let out = b.run(&[
        "backup",
        "verify",
        &id,
        "--read-data",
        "--to",
        &b.url,
        "--identity",
        wrong.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("NOT READABLE with this identity"), "{text}");
    assert!(!text.contains("DAMAGED"), "{text}");
    assert!(
        !b.ok(&["backup", "list", "--to", &b.url]).contains("BROKEN"),
        "a wrong key is not a broken chain"
    );
    // Flip one bit in each stored object in turn: verify and restore both notice.
    let dir = b.fs.dir.path().join("store").join(&id);
    let mut objects: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "age"))
        .collect();
    objects.sort();
    for (k, obj) in objects.iter().enumerate() {
        let orig = std::fs::read(obj).unwrap();
        let mut bad = orig.clone();
        let pos = (k * 7919 + 13) % bad.len();
        bad[pos] ^= 1 << (k % 8);
        std::fs::write(obj, &bad).unwrap();
        let v = b.run(&["backup", "verify", &id, "--to", &b.url]);
        assert!(
            !v.status.success(),
            "flip in {} not detected",
            obj.display()
        );
        let (_, r) = b.restore_into(&id);
        assert!(!r.status.success());
        assert!(!into.join(&id).exists(), "a failed restore leaves nothing");
        std::fs::write(obj, &orig).unwrap();
    }
    // An object longer than the manifest lists (valid bytes plus one).
    let orig = std::fs::read(&objects[0]).unwrap();
    std::fs::write(&objects[0], [&orig[..], b"x"].concat()).unwrap();
    let v = b.run(&["backup", "verify", &id, "--to", &b.url]);
    assert!(!v.status.success(), "a longer object passes verify");
    let (_, r) = b.restore_into(&id);
    assert!(!r.status.success(), "a longer object passes restore");
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("does not match its hash"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!into.join(&id).exists(), "a failed restore leaves nothing");
    std::fs::write(&objects[0], &orig).unwrap();
    let (restored, r) = b.restore_into(&id);
    assert!(r.status.success() && restored.is_dir());
}

#[test]
fn kill_9_during_create_then_resume_or_clean() {
    kill_9_trials(6, 77);
}

#[test]
#[ignore = "slow suite: make test-slow"]
fn kill_9_during_create_40_trials() {
    kill_9_trials(40, 1234);
}

/// `trials` create runs killed at random moments; every other one is resumed (and the
/// result restored and compared), the rest cleaned.
fn kill_9_trials(trials: u32, seed: u64) {
    let b = Bk::new();
    b.random_etc_big(3000000);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut resumed = 0;
    for trial in 0..trials {
        let mut child = b
            .cmd(&[
                "backup",
                "create",
                "1",
                "--to",
                &b.url,
                "--recipient",
                &b.key,
                "--chunk-size",
                "262144",
                "--full",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50 + rng.u64(0..400)));
        let _ = child.kill();
        child.wait().unwrap();
        // Never listed as complete unless its manifest landed.
        for l in b.list() {
            let has_manifest =
                b.fs.dir
                    .path()
                    .join("store")
                    .join(l["id"].as_str().unwrap())
                    .join("manifest.json")
                    .exists();
            assert_eq!(l["complete"].as_bool().unwrap(), has_manifest);
        }
        if trial % 2 == 0 {
            // Resume: only missing chunks are uploaded, and the result restores.
            let v = b.create(&["--full"]);
            if v["uploaded_chunks"].as_u64().unwrap() < v["chunks"].as_u64().unwrap() {
                resumed += 1;
            }
            let (restored, out) = b.restore_into(v["id"].as_str().unwrap());
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            same_tree(&restored, &b.fs.sub("rootfs", "snapshot-1"));
            delete_subvolume(&restored);
            // Start the next trial from scratch.
            std::fs::remove_dir_all(b.fs.dir.path().join("store")).unwrap();
        } else {
            b.ok(&["backup", "clean", "--to", &b.url]);
            assert!(b.list().iter().all(|l| l["complete"] == true));
        }
    }
    eprintln!("kill -9 during create: {trials} trials, {resumed} resumed from uploaded chunks");
}

/// kill -9 during `restore` at random moments, then `restore` again: whatever the first
/// left (nothing, a half-received subvolume, a complete one), the second gives the
/// snapshot back, complete and read-only.
#[test]
fn kill_9_during_restore_then_restore_again() {
    let b = Bk::new();
    b.random_etc_big(24 << 20);
    let id = b.create(&["--full"])["id"].as_str().unwrap().to_string();
    let into = b.fs.mnt.join("restored");
    let dest = into.join(&id);
    // Kill within the time a whole restore takes.
    let t0 = std::time::Instant::now();
    let (restored, out) = b.restore_into(&id);
    let whole = t0.elapsed().as_millis() as u64;
    assert!(out.status.success());
    delete_subvolume(&restored);
    let mut rng = fastrand::Rng::with_seed(9);
    // Trials until 3 have cut a receive short (at most 15): since receive dies with rast
    // (PR_SET_PDEATHSIG), a kill before it has created the subvolume leaves nothing.
    let (mut trials, mut half) = (0, 0);
    while half < 3 && trials < 15 {
        trials += 1;
        let mut child = b
            .restore_cmd(&id, &b.identity)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(
            rng.u64(whole / 4..whole * 3 / 4 + 1),
        ));
        let _ = child.kill();
        child.wait().unwrap();
        // `btrfs receive` dies with rast (PR_SET_PDEATHSIG), not when its input runs dry.
        let receiving = || {
            Command::new("pgrep")
                .args(["-f", &format!("btrfs receive -q {}", into.display())])
                .output()
                .unwrap()
                .status
                .success()
        };
        for _ in 0..20 {
            if !receiving() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            !receiving(),
            "btrfs receive outlived the killed rast by 1 s"
        );
        if dest.exists() && !read_only(&dest) {
            half += 1;
        }
        let (restored, out) = b.restore_into(&id);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(read_only(&restored));
        same_tree(&restored, &b.fs.sub("rootfs", "snapshot-1"));
        delete_subvolume(&restored);
    }
    eprintln!(
        "kill -9 during restore: {trials} trials within {whole} ms, {half} left a half-received subvolume"
    );
    assert!(half > 0, "no trial cut a restore short: nothing was tested");
}

fn delete_subvolume(subvolume: &std::path::Path) {
    let out = Command::new("btrfs")
        .args(["subvolume", "delete"])
        .arg(subvolume)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_only(subvolume: &std::path::Path) -> bool {
    let out = Command::new("btrfs")
        .args(["property", "get", "-ts"])
        .arg(subvolume)
        .arg("ro")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "ro=true"
}

#[test]
fn prune_keeps_chains_and_dry_run_changes_nothing() {
    let b = Bk::new();
    let full = b.create(&[])["id"].as_str().unwrap().to_string();
    b.change(1);
    let inc1 = b.create(&[])["id"].as_str().unwrap().to_string();
    b.change(2);
    let full2 = b.create(&["--full"])["id"].as_str().unwrap().to_string();
    let before = b.list();
    let v: Value = serde_json::from_str(&b.ok(&[
        "--json",
        "backup",
        "prune",
        "--dry-run",
        "--preserve-min",
        "no",
        "--preserve",
        "",
        "--to",
        &b.url,
    ]))
    .unwrap();
    assert_eq!(b.list().len(), before.len(), "dry run deleted something");
    assert!(v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["keep"] == false));
    // Keep only the latest: full2 stays; the old chain goes.
    let v: Value = serde_json::from_str(&b.ok(&[
        "--json",
        "backup",
        "prune",
        "--preserve-min",
        "latest",
        "--to",
        &b.url,
    ]))
    .unwrap();
    let kept: Vec<&str> = v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["keep"] == true)
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, vec![full2.as_str()]);
    let ids: Vec<String> = b
        .list()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![full2.clone()]);
    // An incremental that is kept keeps its parent.
    b.change(3);
    let inc2 = b.create(&[])["id"].as_str().unwrap().to_string();
    let v: Value = serde_json::from_str(&b.ok(&[
        "--json",
        "backup",
        "prune",
        "--preserve-min",
        "latest",
        "--to",
        &b.url,
    ]))
    .unwrap();
    let d = v["decisions"].as_array().unwrap();
    assert!(d
        .iter()
        .any(|x| x["id"] == inc2.as_str() && x["keep"] == true));
    assert!(d.iter().any(|x| x["id"] == full2.as_str()
        && x["keep"] == true
        && x["reason"].as_str().unwrap().contains("parent of kept")));
    let _ = (full, inc1);
}

/// `rast backup run` (the configured job: create each configured snapshot, then prune),
/// its record for `schedule`, `--dry-run`, and a bandwidth limit that holds.
#[test]
fn configured_job_run_schedule_and_bwlimit() {
    let b = Bk::new();
    std::fs::write(
        &b.config,
        format!(
            "[backup]\ntarget = \"{}\"\nrecipients = [\"{}\"]\nsnapshots = [\"1\"]\n\
             preserve_min = \"latest\"\nchunk_mib = 1\n\n[backup.schedule]\nevery = \"6h\"\n",
            b.url, b.key
        ),
    )
    .unwrap();
    let v: Value = serde_json::from_str(&b.ok(&["--json", "backup", "schedule"])).unwrap();
    assert!(v["last_run"].is_null());
    assert_eq!(v["next_runs"].as_array().unwrap().len(), 5);
    // Dry run: nothing is created.
    b.ok(&["backup", "run", "--dry-run"]);
    assert!(b.list().is_empty());
    let first: Value = serde_json::from_str(&b.ok(&["--json", "backup", "run"])).unwrap();
    assert_eq!(first["created"][0]["snapshot"], 1);
    b.change(1);
    let second: Value = serde_json::from_str(&b.ok(&["--json", "backup", "run"])).unwrap();
    assert_eq!(
        second["created"][0]["parent"], first["created"][0]["id"],
        "the job's second run is incremental"
    );
    // preserve_min latest keeps the latest and the full it needs.
    assert_eq!(b.list().len(), 2);
    let v: Value = serde_json::from_str(&b.ok(&["--json", "backup", "schedule"])).unwrap();
    assert_eq!(v["last_run"]["ok"], true);
    let finished = v["last_run"]["finished"].as_i64().unwrap();
    assert_eq!(v["next_runs"][0].as_i64().unwrap(), finished + 6 * 3600);
    b.random_etc_big(3000000);
    // --bwlimit 1 MiB/s: ~3 MiB cannot upload in under 2 s.
    let v = b.create(&["--bwlimit", "1"]);
    assert!(v["stored_bytes"].as_u64().unwrap() > 2_900_000, "{v}");
    assert!(
        v["seconds"].as_f64().unwrap() >= 2.0,
        "limit not applied: {v}"
    );
}

#[test]
fn verify_checks_the_whole_chain_a_restore_needs() {
    let b = Bk::new();
    let full = b.create(&[])["id"].as_str().unwrap().to_string();
    b.change(1);
    let incr = b.create(&[]);
    assert_eq!(incr["parent"].as_str(), Some(full.as_str()));
    let incr = incr["id"].as_str().unwrap().to_string();
    let verify = |id: &str, extra: &[&str]| {
        let mut a = vec!["backup", "verify", id, "--to", &b.url];
        a.extend_from_slice(extra);
        b.run(&a)
    };
    let read = ["--read-data", "--identity", b.identity.to_str().unwrap()];
    let out = verify(&incr, &read);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("{full}: ok")) && text.contains(&format!("{incr}: ok")),
        "the parent is verified too: {text}"
    );
    // One flipped bit in the full backup: verifying the incremental says so, and why.
    let dir = b.fs.dir.path().join("store").join(&full);
    let obj = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "age"))
        .unwrap();
    let orig = std::fs::read(&obj).unwrap();
    let mut bad = orig.clone();
    bad[orig.len() / 2] ^= 0x10;
    std::fs::write(&obj, &bad).unwrap();
    for extra in [&read[..], &[]] {
        let out = verify(&incr, extra);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains(&format!("{full}: DAMAGED")), "{text}");
        assert!(
            text.contains(&format!(
                "{incr} cannot be restored: its chain needs {full}, which is damaged"
            )),
            "{text}"
        );
    }
    let v: Value = serde_json::from_slice(
        &b.run(&["--json", "backup", "verify", "--all", "--to", &b.url])
            .stdout,
    )
    .unwrap();
    let chains = v["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2, "{v}");
    assert!(chains.iter().all(|c| c["restorable"] == false), "{v}");
    assert_eq!(
        v["verified"].as_array().unwrap().len(),
        2,
        "each backup verified once"
    );
    // What verify said is what restore finds.
    let (_, r) = b.restore_into(&incr);
    assert!(!r.status.success());
    std::fs::write(&obj, &orig).unwrap();
    assert!(verify(&incr, &read).status.success());
    // A parent whose manifest is gone: the incremental cannot be restored either.
    let manifest = dir.join("manifest.json");
    let saved = std::fs::read(&manifest).unwrap();
    std::fs::remove_file(&manifest).unwrap();
    let out = verify(&incr, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "{incr} cannot be restored: its chain needs {full}, which is missing or incomplete"
        )),
        "{text}"
    );
    std::fs::write(&manifest, saved).unwrap();
    // Objects no complete backup lists: reported by verify --all, removed by clean.
    let store = b.fs.dir.path().join("store");
    std::fs::write(dir.join("stray.age"), b"left over").unwrap();
    std::fs::create_dir_all(store.join("snapshot-9-0badc0de-full")).unwrap();
    std::fs::write(store.join("snapshot-9-0badc0de-full/00000.age"), b"half").unwrap();
    let all = |b: &Bk| -> Value {
        serde_json::from_slice(
            &b.run(&["--json", "backup", "verify", "--all", "--to", &b.url])
                .stdout,
        )
        .unwrap()
    };
    let v = all(&b);
    let names: Vec<&str> = v["unlisted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&format!("{full}/stray.age").as_str())
            && names.contains(&"snapshot-9-0badc0de-full/00000.age"),
        "{v}"
    );
    assert!(
        v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["restorable"] == true),
        "{v}"
    );
    b.ok(&["backup", "clean", "--to", &b.url]);
    let v = all(&b);
    assert!(v["unlisted"].as_array().unwrap().is_empty(), "{v}");
    assert!(
        verify(&incr, &read).status.success(),
        "clean kept what restores need"
    );
}

/// Restoring into a btrfs that fills up fails with a clear "no space" error, deletes the
/// half-received subvolume and leaves the other subvolumes there untouched.
#[test]
fn restore_into_a_full_filesystem_fails_cleanly() {
    let b = Bk::new();
    b.random_etc_big(220_000_000);
    let v = b.create_chunked("16777216", &[]);
    let id = v["id"].as_str().unwrap();
    let small = rast_e2e::Fs::sized(180 << 20);
    let keep = small.mnt.join("keep");
    let sh = |script: &str| {
        let st = Command::new("sh").arg("-c").arg(script).status().unwrap();
        assert!(st.success(), "{script}");
    };
    let k = keep.display();
    sh(&format!(
        "btrfs -q subvolume create {k} && head -c 20000000 /dev/urandom > {k}/data && sync"
    ));
    let sum = |p: &std::path::Path| {
        let o = Command::new("sha256sum").arg(p).output().unwrap();
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let before = sum(&keep.join("data"));
    let out = b
        .cmd(&[
            "backup",
            "restore",
            id,
            "--into",
            small.mnt.to_str().unwrap(),
            "--to",
            &b.url,
            "--identity",
            b.identity.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a 220 MB restore fit in 180 MiB?");
    assert!(err.contains("no space left on"), "a clear error: {err}");
    let subvols = Command::new("btrfs")
        .args(["subvolume", "list", "-o"])
        .arg(&small.mnt)
        .output()
        .unwrap();
    let subvols = String::from_utf8_lossy(&subvols.stdout);
    let names: Vec<&str> = subvols
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(names, ["keep"], "the half-received subvolume is deleted");
    assert_eq!(
        sum(&keep.join("data")),
        before,
        "the other subvolume is untouched"
    );
}

/// `--read-data-subset n/t` reads one group of chunks and lists the rest; the groups
/// together read everything; `backup list` marks the chains the last verify found
/// damaged and those whose parent is gone.
#[test]
fn verify_subsets_and_list_marks_broken_chains() {
    let b = Bk::new();
    b.random_etc_big(2_500_000);
    let full = b.create(&[])["id"].as_str().unwrap().to_string();
    b.change(1);
    let incr = b.create(&[])["id"].as_str().unwrap().to_string();
    let id = b.identity.to_str().unwrap();
    let verify = |subset: &str| -> (Option<i32>, Value) {
        let out = b.run(&[
            "--json",
            "backup",
            "verify",
            &incr,
            "--to",
            &b.url,
            "--identity",
            id,
            "--read-data-subset",
            subset,
        ]);
        (
            out.status.code(),
            serde_json::from_slice(&out.stdout).unwrap(),
        )
    };
    let full_link = |v: &Value| v["verified"].as_array().unwrap()[0].clone();
    let (a, va) = verify("1/2");
    let (c, vb) = verify("2/2");
    assert_eq!((a, c), (Some(0), Some(0)), "{va}\n{vb}");
    let chunks = full_link(&va)["chunks"].as_u64().unwrap();
    assert!(chunks >= 8, "several chunks: {va}");
    assert_eq!(
        full_link(&va)["read"].as_u64().unwrap() + full_link(&vb)["read"].as_u64().unwrap(),
        chunks,
        "the two groups read every chunk once"
    );
    let (_, again) = verify("1/2");
    assert_eq!(
        full_link(&again)["read"],
        full_link(&va)["read"],
        "deterministic"
    );
    let (code, pct) = verify("50%");
    assert_eq!(code, Some(0), "{pct}");
    assert!(full_link(&pct)["read"].as_u64().unwrap() <= chunks);

    // A flipped bit in one chunk of the full: exactly one group reads (and finds) it.
    let chunk = |i: u32| {
        b.fs.dir
            .path()
            .join("store")
            .join(&full)
            .join(format!("chunk-{i:06}.zst.age"))
    };
    let orig = std::fs::read(chunk(3)).unwrap();
    let mut bad = orig.clone();
    bad[orig.len() / 2] ^= 0x01;
    std::fs::write(chunk(3), &bad).unwrap();
    let (a, _) = verify("1/2");
    let (c, _) = verify("2/2");
    let mut codes = [a, c];
    codes.sort();
    assert_eq!(
        codes,
        [Some(0), Some(1)],
        "one group read the damaged chunk"
    );
    // What the last verify found stays visible in `list`: verify with the group
    // that reads the damaged chunk last.
    let failing = if a == Some(1) { "1/2" } else { "2/2" };
    assert_eq!(verify(failing).0, Some(1));
    let listed = b.ok(&["backup", "list", "--to", &b.url]);
    let line = |id: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} in {listed}"))
            .to_string()
    };
    assert!(line(&full).contains("BROKEN: damaged (verify,"), "{listed}");
    assert!(
        line(&incr).contains(&format!("BROKEN: its chain needs {full}, damaged")),
        "{listed}"
    );
    let v: Value =
        serde_json::from_str(&b.ok(&["--json", "backup", "list", "--to", &b.url])).unwrap();
    let row = |id: &str| {
        v["backups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert!(
        row(&incr)["broken"].as_str().unwrap().contains(&full),
        "{v}"
    );
    assert_eq!(row(&full)["last_verify"]["ok"], false, "{v}");
    // Repaired and verified again: the mark goes.
    std::fs::write(chunk(3), &orig).unwrap();
    assert_eq!(verify(failing).0, Some(0));
    assert!(b
        .ok(&["backup", "list", "--to", &b.url])
        .lines()
        .all(|l| !l.contains("BROKEN")));
    // A short object is caught by listing in the group that does not read it.
    std::fs::write(chunk(5), &orig[..100]).unwrap();
    assert_eq!(verify("1/2").0, Some(1));
    assert_eq!(verify("2/2").0, Some(1));
    let listed = b.ok(&["backup", "list", "--to", &b.url]);
    assert!(listed
        .lines()
        .any(|l| l.starts_with(&full) && l.contains("BROKEN: damaged")));
    // A parent without its manifest: the incremental's chain is broken, no verify needed.
    std::fs::remove_file(
        b.fs.dir
            .path()
            .join("store")
            .join(&full)
            .join("manifest.json"),
    )
    .unwrap();
    let listed = b.ok(&["backup", "list", "--to", &b.url]);
    assert!(
        listed.lines().any(|l| l.starts_with(&incr)
            && l.contains(&format!("BROKEN: its chain needs {full}, which is missing"))),
        "{listed}"
    );
}

/// `config check --online` contacts what the file names, read-only: the real S3 server
/// answers with the right key; a wrong secret and a Qdrant nobody listens for are
/// problems keyed and lined like the offline ones (exit 1); nothing is written.
#[test]
fn config_check_online_reaches_the_target_and_names_what_it_cannot() {
    let remote = rast_e2e::servers::Remote::start(Kind::S3);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("rast.toml");
    let check = |text: &str, env: &[(&str, &str)]| {
        std::fs::write(&cfg, text).unwrap();
        let mut c = Command::new(rast_e2e::rast_bin());
        c.args(["config", "check", "--online", cfg.to_str().unwrap()]);
        remote.apply(&mut c);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let good = format!("{}target = \"{}\"\n", remote.config, remote.url);
    let (code, text) = check(&good, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("[backup] target reachable"), "{text}");
    fn files(d: &std::path::Path) -> usize {
        std::fs::read_dir(d).map_or(0, |rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    let listed = files(remote.dir.path());

    let (code, text) = check(&good, &[("AWS_SECRET_ACCESS_KEY", "not-the-secret")]);
    assert_eq!(code, Some(1), "{text}");
    let line = good.lines().position(|l| l.starts_with("target")).unwrap() + 1;
    assert!(
        text.contains(&format!(":{line}: [backup] target unreachable")),
        "{text}"
    );

    let qdrant = format!("{good}\n[index]\nbackend = \"qdrant\"\nurl = \"http://127.0.0.1:1\"\n");
    let (code, text) = check(&qdrant, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("[backup] target reachable"), "{text}");
    assert!(
        text.contains("[index] url unreachable") && text.contains("127.0.0.1:1"),
        "{text}"
    );
    assert_eq!(files(remote.dir.path()), listed, "the probe wrote nothing");
}

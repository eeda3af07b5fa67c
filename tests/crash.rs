//! Crash safety: `rast clone` and `rast run` killed with SIGKILL at random moments.
//! Afterwards the tree must be valid, every snapshot it names intact, no mount left,
//! the snapshot under change either fully old or fully new, and `rast tmp` must
//! remove every leftover. `rast deploy` is killed too: something bootable must remain.
//! The default suite runs 12 trials of clone and run and 10 of deploy; the slow suite
//! (`--ignored`, `make test-slow`) runs 60, 60 and 50.

use std::process::Stdio;
use std::time::{Duration, Instant};

use rast_e2e::Fs;

/// How long `args` takes uninterrupted (median of 3), to spread the kill moments.
fn duration_of(fs: &Fs, args: &[&str]) -> Duration {
    let mut d: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            fs.ok(args);
            t.elapsed()
        })
        .collect();
    d.sort();
    d[1]
}

fn kill_at(fs: &Fs, args: &[&str], after: Duration) -> bool {
    let mut child = fs
        .cmd(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    killed
}

fn check_and_clean(fs: &Fs) {
    fs.assert_snapshots_intact();
    assert!(
        fs.mounts_below().is_empty(),
        "mounts left: {:?}",
        fs.mounts_below()
    );
    fs.ok(&["tmp"]);
    let st = fs.json(&["status"]);
    assert_eq!(st["leftovers"].as_array().unwrap().len(), 0, "{st}");
    assert_eq!(
        st["unfinished_commits"].as_array().unwrap().len(),
        0,
        "{st}"
    );
    let names: Vec<String> = ["rootfs", "etc", "boot"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(fs.snapdir().join(d))
                .unwrap()
                .flatten()
                .map(|e| e.file_name().into_string().unwrap())
        })
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("chr") && !n.ends_with(".new") && !n.ends_with(".old")),
        "{names:?}"
    );
    for dir in ["rast", "rast/journal"] {
        let temps: Vec<String> = std::fs::read_dir(fs.snapdir().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(
            temps.is_empty(),
            "temp files of torn writes left in {dir}: {temps:?}"
        );
    }
}

fn clone_trials(n: usize) {
    let fs = Fs::initialised();
    let span = duration_of(&fs, &["clone", "0"]);
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut killed = 0;
    for _ in 0..n {
        let before = fs.tree_edges();
        let at = span.mul_f64(rng.f64() * 1.2);
        killed += kill_at(&fs, &["clone", "0"], at) as usize;
        let after = fs.tree_edges();
        assert!(
            after.len() == before.len() || after.len() == before.len() + 1,
            "{before:?} -> {after:?}"
        );
        assert!(
            before.iter().all(|e| after.contains(e)),
            "an existing snapshot vanished"
        );
        check_and_clean(&fs);
    }
    eprintln!("clone: {n} trials, {killed} killed mid-run (span {span:?})");
    assert!(
        killed * 2 >= n,
        "too few kills landed mid-run ({killed}/{n}); the timing spread is wrong"
    );
}

fn run_trials(n: usize) {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    fs.ok(&["run", "1", "--", "sh", "-c", "echo 0 > /etc/probe"]);
    let span = duration_of(&fs, &["run", "1", "--", "sh", "-c", "echo 0 > /etc/probe"]);
    let mut rng = fastrand::Rng::with_seed(0xdead);
    let mut killed = 0;
    let mut prev = "0".to_string();
    for i in 1..=n {
        let cmd = format!("echo {i} > /etc/probe");
        let at = span.mul_f64(rng.f64() * 1.2);
        killed += kill_at(&fs, &["run", "1", "--", "sh", "-c", &cmd], at) as usize;
        fs.ok(&["tmp"]); // finishes a commit whose journal landed, removes the rest
        let now = std::fs::read_to_string(fs.sub("etc", "etc-1").join("probe"))
            .unwrap()
            .trim()
            .to_string();
        let rootfs_copy = std::fs::read_to_string(fs.sub("rootfs", "snapshot-1").join("etc/probe"))
            .unwrap()
            .trim()
            .to_string();
        assert!(
            now == prev || now == i.to_string(),
            "trial {i}: probe is {now:?}, expected {prev:?} or {i}"
        );
        assert_eq!(now, rootfs_copy, "etc-1 and snapshot-1/etc disagree");
        prev = now;
        check_and_clean(&fs);
    }
    eprintln!("run: {n} trials, {killed} killed mid-run (span {span:?})");
    assert!(
        killed * 2 >= n,
        "too few kills landed mid-run ({killed}/{n})"
    );
}

/// Killing `rast deploy` at any moment leaves a default subvolume that is a complete
/// slot naming an existing snapshot; the next rast finishes or discards the deploy.
fn deploy_trials(n: usize) {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    let span = duration_of(&fs, &["deploy", "1", "--bootloader", "none"]);
    let mut rng = fastrand::Rng::with_seed(0xb007);
    let mut killed = 0;
    for i in 0..n {
        let target = if i % 2 == 0 { "0" } else { "1" };
        killed += kill_at(
            &fs,
            &["deploy", target, "--bootloader", "none"],
            span.mul_f64(rng.f64() * 1.2),
        ) as usize;
        fs.ok(&["tmp"]);
        let st = fs.json(&["status"]);
        let deployed = st["deployed"]
            .as_u64()
            .unwrap_or_else(|| panic!("nothing bootable after a killed deploy: {st}"));
        assert!(deployed == 0 || deployed == 1, "{st}");
        let slot = st["deployed_slot"].as_str().unwrap();
        for (d, p) in [("rootfs", "snapshot-"), ("etc", "etc-"), ("boot", "boot-")] {
            assert!(
                fs.sub(d, &format!("{p}{slot}")).is_dir(),
                "slot part {p}{slot} missing"
            );
            assert!(!fs.sub(d, &format!("{p}{slot}.new")).exists());
        }
        check_and_clean(&fs);
    }
    eprintln!("deploy: {n} trials, {killed} killed mid-run (span {span:?})");
    assert!(
        killed * 2 >= n,
        "too few kills landed mid-run ({killed}/{n})"
    );
}

#[test]
fn kill_9_during_deploy() {
    deploy_trials(10);
}

#[test]
#[ignore = "slow suite: make test-slow"]
fn slow_kill_9_during_deploy() {
    deploy_trials(50);
}

#[test]
fn kill_9_during_clone() {
    clone_trials(12);
}

#[test]
fn kill_9_during_run() {
    run_trials(12);
}

#[test]
#[ignore = "slow suite: make test-slow"]
fn slow_kill_9_during_clone() {
    clone_trials(60);
}

#[test]
#[ignore = "slow suite: make test-slow"]
fn slow_kill_9_during_run() {
    run_trials(60);
}

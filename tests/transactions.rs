//! Transactions: run/chroot/tree-run/edit-conf commit on success and leave the
//! snapshot untouched on failure; the lock serialises writers; leftovers and
//! interrupted commits are recovered.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rast_e2e::Fs;

#[test]
fn run_commits_on_success_and_discards_on_failure() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    let out = fs.run(&["run", "1", "--", "sh", "-c", "echo x > /etc/probe"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("snapshot 1 committed"));
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-1").join("probe")).unwrap(),
        "x\n"
    );
    assert_eq!(
        std::fs::read_to_string(fs.sub("rootfs", "snapshot-1").join("etc/probe")).unwrap(),
        "x\n"
    );
    assert!(
        !fs.sub("etc", "etc-0").join("probe").exists(),
        "the source is not touched"
    );
    fs.assert_snapshots_intact();

    let ids = fs.uuids(1);
    // A command that only reads commits nothing, and says so (astOS commits anyway).
    for argv in [
        &["run", "1", "--", "cat", "/etc/probe"][..],
        &["run", "1", "--", "sh", "-c", "ls -R /etc /usr >/dev/null"],
        &["tree-run", "1", "--", "true"],
    ] {
        let out = fs.run(argv);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{argv:?}: {err}");
        assert!(
            err.contains("snapshot 1: the command changed no file; nothing committed"),
            "{argv:?}: {err}"
        );
        assert_eq!(ids, fs.uuids(1), "{argv:?} made a commit");
    }
    assert_eq!(
        fs.json(&["run", "1", "--", "true"])["results"][0]["unchanged"],
        true
    );
    let out = fs.run(&[
        "run",
        "1",
        "--",
        "sh",
        "-c",
        "echo y > /etc/probe; rm /etc/hostname; exit 7",
    ]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "the command's exit code is rast's"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("snapshot 1 left unchanged"));
    assert_eq!(
        ids,
        fs.uuids(1),
        "a failed run replaced a part of snapshot 1"
    );
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-1").join("probe")).unwrap(),
        "x\n"
    );
    assert!(fs.sub("etc", "etc-1").join("hostname").exists());
    // A command that does not exist fails the same way.
    let out = fs.run(&["run", "1", "--", "/no/such/program"]);
    assert!(!out.status.success());
    assert_eq!(
        fs.json(&["status"])["leftovers"].as_array().unwrap().len(),
        0,
        "no copy left behind"
    );
    assert!(
        fs.mounts_below().is_empty(),
        "no bind mount leaked: {:?}",
        fs.mounts_below()
    );
    // The sandbox gives the command /proc and /dev, as astOS's chroot does.
    fs.ok(&[
        "run",
        "1",
        "--",
        "sh",
        "-c",
        "test -e /proc/self/status && test -c /dev/null",
    ]);
    // The argv is not a shell string: metacharacters reach the program verbatim.
    fs.ok(&["run", "1", "--", "touch", "/etc/a;b $(id)"]);
    assert!(fs.sub("etc", "etc-1").join("a;b $(id)").exists());
}

#[test]
fn base_snapshot_cannot_be_changed() {
    let fs = Fs::initialised();
    for args in [
        &["run", "0", "--", "true"][..],
        &["chroot", "0"],
        &["tree-run", "0", "--", "true"],
        &["edit-conf", "0"],
    ] {
        let (code, err) = fs.fail(args);
        assert_eq!(code, 1);
        assert!(err.contains("base snapshot"), "{args:?}: {err}");
    }
    // Right after init the current snapshot is 0: the refusal says what to do instead.
    for args in [&["-S", "foo-app"][..], &["install", "0", "foo-app"]] {
        let (_, err) = fs.fail(args);
        assert!(
            err.contains("`rast clone 0`") && err.contains("`rast deploy N`"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn chroot_reads_the_shell_from_stdin_and_commits_only_on_exit_0() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    for (script, committed) in [
        ("echo one > /etc/chrooted\nexit 0\n", true),
        ("echo two > /etc/chrooted\nexit 1\n", false),
    ] {
        let mut child = fs
            .cmd(&["cr", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.success(), committed);
    }
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-1").join("chrooted")).unwrap(),
        "one\n"
    );
}

#[test]
fn tree_run_reaches_every_descendant_and_stops_at_a_failure() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]); // 1
    fs.ok(&["branch", "1"]); // 2
    fs.ok(&["branch", "2"]); // 3
    fs.ok(&["clone", "0"]); // 4 (not below 1)
    let v = fs.json(&["tree-run", "1", "--", "sh", "-c", "echo t > /etc/treerun"]);
    let done: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["snapshot"].as_u64().unwrap())
        .collect();
    assert_eq!(done, vec![1, 2, 3]);
    for id in [1, 2, 3] {
        assert!(fs.sub("etc", &format!("etc-{id}")).join("treerun").exists());
    }
    assert!(!fs.sub("etc", "etc-4").join("treerun").exists());
    // Fails in 2 (it has a marker): 1 is committed, 2 unchanged, 3 never reached.
    fs.ok(&["run", "2", "--", "touch", "/etc/stop-here"]);
    let out = fs.run(&[
        "tree-run",
        "1",
        "--",
        "sh",
        "-c",
        "test ! -e /etc/stop-here && touch /etc/second",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(fs.sub("etc", "etc-1").join("second").exists());
    assert!(!fs.sub("etc", "etc-2").join("second").exists());
    assert!(!fs.sub("etc", "etc-3").join("second").exists());
}

#[test]
fn edit_conf_uses_editor_argv_and_validates() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    let editor = fs.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf '%s\\n' \"$RAST_TEST_LINE\" >> \"$1\"\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    let out = fs
        .cmd(&["edit-conf", "1"])
        .env("EDITOR", &editor)
        .env("RAST_TEST_LINE", "aur::True")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-1").join("ast.conf")).unwrap(),
        "aur::True\n"
    );
    let out = fs
        .cmd(&["edit-conf", "1"])
        .env("EDITOR", &editor)
        .env("RAST_TEST_LINE", "this is not valid")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid ast.conf line 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-1").join("ast.conf")).unwrap(),
        "aur::True\n"
    );
    // EDITOR with arguments is split into argv (no shell): `sh EDITOR_SCRIPT`.
    let with_args = format!("sh {}", editor.display());
    let out = fs
        .cmd(&["edit-conf", "-s", "1"])
        .env("EDITOR", with_args)
        .env("RAST_TEST_LINE", "dist::arch")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-1").join("ast.conf")).unwrap(),
        "aur::True\ndist::arch\n"
    );
}

#[test]
fn a_second_writer_waits_for_the_lock_or_fails_naming_the_holder() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    let mut holder = fs.cmd(&["run", "1", "--", "sleep", "2"]).spawn().unwrap();
    // Wait until the holder has the lock (its pid is written into the lock file).
    let lock_file = fs.snapdir().join("rast/lock");
    let t0 = Instant::now();
    while !std::fs::read_to_string(&lock_file)
        .unwrap_or_default()
        .starts_with(&format!("{} ", holder.id()))
    {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the holder never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = fs
        .cmd(&["clone", "0"])
        .env("RAST_LOCK_TIMEOUT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("pid {}", holder.id())) && err.contains("run 1"),
        "{err}"
    );
    // With the default timeout the second one waits, then succeeds.
    let start = Instant::now();
    let out = fs.cmd(&["clone", "0"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for the tree lock"));
    assert!(start.elapsed() > Duration::from_millis(500));
    assert!(holder.wait().unwrap().success());
    assert_eq!(fs.tree_edges(), vec![(0, None), (1, None), (2, None)]);
    fs.assert_snapshots_intact();
}

#[test]
fn concurrent_writers_keep_the_metadata_valid() {
    let fs = Fs::initialised();
    let kids: Vec<_> = (0..6)
        .map(|_| {
            fs.cmd(&["clone", "0"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }
    let edges = fs.tree_edges();
    assert_eq!(edges.len(), 7, "{edges:?}");
    fs.assert_snapshots_intact();
}

#[test]
fn unlock_and_tmp_clean_copies_left_by_a_dead_run() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    fs.ok(&["clone", "0"]);
    // A copy as a killed run leaves it (astOS name).
    Command::new("btrfs")
        .args(["subvolume", "snapshot"])
        .arg(fs.sub("rootfs", "snapshot-1"))
        .arg(fs.sub("rootfs", "snapshot-chr1"))
        .output()
        .unwrap();
    Command::new("btrfs")
        .args(["subvolume", "snapshot"])
        .arg(fs.sub("rootfs", "snapshot-2"))
        .arg(fs.sub("rootfs", "snapshot-chr2"))
        .output()
        .unwrap();
    let (_, err) = fs.fail(&["run", "1", "--", "true"]);
    assert!(err.contains("rast unlock 1"), "{err}");
    let v = fs.json(&["unlock", "1"]);
    assert_eq!(v["removed"].as_array().unwrap().len(), 1);
    assert!(
        fs.sub("rootfs", "snapshot-chr2").exists(),
        "unlock 1 leaves 2 alone"
    );
    fs.ok(&["run", "1", "--", "true"]);
    fs.ok(&["tmp"]);
    assert!(!fs.sub("rootfs", "snapshot-chr2").exists());
}

#[test]
fn an_interrupted_commit_is_rolled_forward_by_the_next_rast() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    // Reproduce the state right after the journal entry landed: staged .new parts
    // holding the new content, the old parts still in place.
    let chr = fs.sub("rootfs", "snapshot-chr1");
    Command::new("btrfs")
        .args(["subvolume", "snapshot"])
        .arg(fs.sub("rootfs", "snapshot-1"))
        .arg(&chr)
        .output()
        .unwrap();
    std::fs::write(chr.join("etc/rolled"), "forward\n").unwrap();
    for (d, p) in [("rootfs", "snapshot-"), ("etc", "etc-"), ("boot", "boot-")] {
        let src = if d == "rootfs" {
            chr.clone()
        } else {
            fs.sub("rootfs", "snapshot-chr1").join(d)
        };
        let staged = fs.sub(d, &format!("{p}1.new"));
        if d == "rootfs" {
            Command::new("btrfs")
                .args(["subvolume", "snapshot", "-r"])
                .arg(&src)
                .arg(&staged)
                .output()
                .unwrap();
        } else {
            Command::new("btrfs")
                .args(["subvolume", "create"])
                .arg(&staged)
                .output()
                .unwrap();
            Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", src.display()))
                .arg(&staged)
                .status()
                .unwrap();
            Command::new("btrfs")
                .args(["property", "set", "-ts"])
                .arg(&staged)
                .args(["ro", "true"])
                .status()
                .unwrap();
        }
    }
    // Half-way through the swap: rootfs already moved to .old.
    std::fs::rename(
        fs.sub("rootfs", "snapshot-1"),
        fs.sub("rootfs", "snapshot-1.old"),
    )
    .unwrap();
    std::fs::write(fs.snapdir().join("rast/journal/commit-1"), "1").unwrap();
    let st = fs.json(&["status"]);
    assert_eq!(st["unfinished_commits"][0], "commit-1");
    fs.ok(&["tmp"]);
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-1").join("rolled")).unwrap(),
        "forward\n"
    );
    assert_eq!(
        std::fs::read_to_string(fs.sub("rootfs", "snapshot-1").join("etc/rolled")).unwrap(),
        "forward\n"
    );
    for (d, p) in [("rootfs", "snapshot-"), ("etc", "etc-"), ("boot", "boot-")] {
        assert!(!fs.sub(d, &format!("{p}1.new")).exists());
        assert!(!fs.sub(d, &format!("{p}1.old")).exists());
    }
    assert!(!chr.exists());
    assert!(!fs.snapdir().join("rast/journal/commit-1").exists());
    fs.assert_snapshots_intact();
}

#[test]
fn edit_conf_without_an_editor_or_a_terminal_says_what_to_set() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    let ids = fs.uuids(1);
    let out = fs
        .cmd(&["edit-conf", "1"])
        .env_remove("EDITOR")
        .env_remove("VISUAL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("set $EDITOR"), "{err}");
    assert_eq!(ids, fs.uuids(1));
    fs.ok(&["tmp"]);
    assert!(!fs.sub("rootfs", "snapshot-chr1").exists());
}

#[test]
fn debug_logging_shows_what_rast_reads() {
    let fs = Fs::initialised();
    let out = fs.cmd(&["tree"]).env("RAST_DEBUG", "1").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("layout") && err.contains("tree metadata"),
        "{err}"
    );
    let out = fs.cmd(&["tree"]).output().unwrap();
    assert!(out.stderr.is_empty(), "quiet without RAST_DEBUG");
}

//! Tree commands on a real btrfs loop image: init, tree, current, desc, new, branch,
//! clone, cbranch, ubranch, clone-tree, del, fsck, astOS import, live mode.

use std::process::Command;

use rast_e2e::{stdout, Fs};

#[test]
fn init_creates_the_astos_layout_and_deploys_snapshot_0() {
    let fs = Fs::initialised();
    for sub in ["@", "@.snapshots", "@home", "@var", "@etc", "@boot"] {
        assert!(fs.mnt.join(sub).is_dir(), "{sub} missing");
    }
    fs.assert_snapshots_intact();
    assert!(fs
        .sub("rootfs", "snapshot-0")
        .join("usr/bin/busybox")
        .is_file());
    assert!(
        fs.sub("etc", "etc-0").join("hostname").is_file(),
        "etc-0 holds /etc"
    );
    // pacman's database lives where astOS keeps it.
    assert!(fs
        .sub("rootfs", "snapshot-0")
        .join("usr/share/ast/db/local")
        .is_dir());
    let slot = fs.sub("rootfs", "snapshot-tmp");
    assert_eq!(
        std::fs::read_to_string(slot.join("usr/share/ast/snap"))
            .unwrap()
            .trim(),
        "0"
    );
    let default = stdout(
        &Command::new("btrfs")
            .args(["subvolume", "get-default"])
            .arg(&fs.mnt)
            .output()
            .unwrap(),
    );
    assert!(
        default
            .trim_end()
            .ends_with("@.snapshots/rootfs/snapshot-tmp"),
        "{default}"
    );
    assert_eq!(fs.ok(&["tree"]), "root - root\n└── 0*- base snapshot\n");
    assert_eq!(fs.ok(&["current"]).trim(), "0");
    assert_eq!(fs.ok(&["c"]).trim(), "0");
    let (code, err) = fs.fail(&["init", "--pacman-conf", "/dev/null", "base"]);
    assert_eq!(code, 1);
    assert!(err.contains("already initialised"), "{err}");
}

#[test]
fn init_refuses_what_is_not_a_btrfs_top_level() {
    let fs = Fs::new();
    Command::new("btrfs")
        .args(["subvolume", "create"])
        .arg(fs.mnt.join("sub"))
        .output()
        .unwrap();
    let conf = rast_e2e::test_repo().join("pacman.conf");
    let out = Command::new(rast_e2e::rast_bin())
        .args([
            "--root",
            fs.mnt.join("sub").to_str().unwrap(),
            "init",
            "--pacman-conf",
            conf.to_str().unwrap(),
            "base",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the top level"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = tempfile::tempdir_in("/dev/shm").unwrap();
    let out = Command::new(rast_e2e::rast_bin())
        .args(["--root", plain.path().to_str().unwrap(), "init", "base"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a btrfs"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Unknown packages: pacman's error, and no tree is created.
    let (_, err) = fs.fail(&[
        "init",
        "--pacman-conf",
        conf.to_str().unwrap(),
        "no-such-package",
    ]);
    assert!(err.contains("pacman failed"), "{err}");
    assert!(!fs.snapdir().join("rast/tree.json").exists());
    let (_, err) = fs.fail(&["init", "--pacman-conf", conf.to_str().unwrap(), "base;rm"]);
    assert!(err.contains("invalid package name"), "{err}");
}

#[test]
fn every_copy_command_with_aliases_and_snap_flag() {
    let fs = Fs::initialised();
    assert_eq!(
        fs.ok(&["new-tree", "web", "server"]).trim(),
        "new tree 1 created"
    );
    assert_eq!(fs.ok(&["branch", "1"]).trim(), "branch 2 added to 1");
    assert_eq!(
        fs.ok(&["add-branch", "-s", "2"]).trim(),
        "branch 3 added to 2"
    );
    assert_eq!(fs.ok(&["clone", "0"]).trim(), "tree 4 cloned from 0");
    assert_eq!(
        fs.ok(&["cbranch", "2"]).trim(),
        "branch 5 added to parent of 2"
    );
    assert_eq!(
        fs.ok(&["clone-branch", "--snap", "4"]).trim(),
        "branch 6 added to parent of 4"
    );
    assert_eq!(fs.ok(&["ubranch", "4", "1"]).trim(), "branch 7 added to 4");
    assert_eq!(
        fs.ok(&["clone-under", "--parent", "4", "-s", "2"]).trim(),
        "branch 8 added to 4"
    );
    assert_eq!(fs.ok(&["new"]).trim(), "new tree 9 created");
    assert_eq!(
        fs.tree_edges(),
        vec![
            (0, None),
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, None),
            (5, Some(1)),
            (6, None),
            (7, Some(4)),
            (8, Some(4)),
            (9, None)
        ]
    );
    fs.ok(&["desc", "2", "with", "nginx"]);
    fs.ok(&["description", "-s", "3", "tls"]);
    let tree = fs.ok(&["tree"]);
    let want = "root - root\n├── 0*- base snapshot\n├── 1 - web server\n│   ├── 2 - with nginx\n│   │   └── 3 - tls\n│   └── 5 - clone of 2\n├── 4 - clone of 0\n│   ├── 7 - clone of 1\n│   └── 8 - clone of 2\n├── 6 - clone of 4\n└── 9 - \n";
    assert_eq!(tree, want);
    fs.assert_snapshots_intact();
    // clone-tree copies the subtree of 1 (1, 2, 3, 5) beside 1, keeping its shape.
    let v = fs.json(&["clone-tree", "1"]);
    let pairs: Vec<(u64, u64)> = v["cloned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["from"].as_u64().unwrap(), p["created"].as_u64().unwrap()))
        .collect();
    assert_eq!(pairs, vec![(1, 10), (2, 11), (5, 12), (3, 13)]);
    let edges = fs.tree_edges();
    for e in [(10, None), (11, Some(10)), (12, Some(10)), (13, Some(11))] {
        assert!(edges.contains(&e), "{e:?} not in {edges:?}");
    }
    fs.assert_snapshots_intact();
    // Copies carry the content of their source.
    fs.ok(&["run", "2", "--", "sh", "-c", "echo two > /etc/marker"]);
    fs.ok(&["branch", "2"]);
    assert_eq!(
        std::fs::read_to_string(fs.sub("etc", "etc-14").join("marker")).unwrap(),
        "two\n"
    );
    let j = fs.json(&["tree"]);
    assert_eq!(j["current"], 0);
    assert_eq!(j["tree"][1]["desc"], "web server");
}

#[test]
fn bad_ids_and_unknown_snapshots_are_refused_clearly() {
    let fs = Fs::initialised();
    for bad in ["1;rm", "../x", "-1", "1/2", "abc"] {
        let (code, err) = fs.fail(&["clone", bad]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains("invalid snapshot id") || err.contains("unexpected argument"),
            "{bad}: {err}"
        );
    }
    for cmd in [
        &["clone", "42"][..],
        &["branch", "42"],
        &["del", "--yes", "42"],
        &["run", "42", "--", "true"],
        &["desc", "42", "x"],
        &["ubranch", "42", "0"],
    ] {
        let (code, err) = fs.fail(cmd);
        assert_eq!(code, 1, "{cmd:?}");
        assert!(err.contains("snapshot 42 does not exist"), "{cmd:?}: {err}");
    }
    let (code, _) = fs.fail(&["no-such-command"]);
    assert_eq!(code, 2);
    for argv in [
        &["desc", "abc", "x"][..],
        &["desc", "1;rm", "x"],
        &["desc", "0"],
    ] {
        let (code, err) = fs.fail(argv);
        assert_eq!(code, 2, "{argv:?}: {err}");
    }
    assert!(
        !fs.snapdir().join("rootfs/snapshot-1").exists(),
        "nothing was created"
    );
}

#[test]
fn delete_takes_descendants_and_protects_base_current_and_deployed() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]); // 1
    fs.ok(&["branch", "1"]); // 2
    fs.ok(&["branch", "2"]); // 3
    fs.ok(&["clone", "0"]); // 4
                            // Without a terminal and without --yes, nothing happens.
    let (_, err) = fs.fail(&["del", "2"]);
    assert!(err.contains("pass --yes"), "{err}");
    assert!(fs.sub("rootfs", "snapshot-2").exists());
    let (_, err) = fs.fail(&["del", "--yes", "0"]);
    assert!(err.contains("snapshot 0: it is the base snapshot"), "{err}");
    fs.deploy_by_hand(4);
    let (_, err) = fs.fail(&["rm-snapshot", "--yes", "4"]);
    assert!(
        err.contains("snapshot 4: it is the current snapshot"),
        "{err}"
    );
    // Deleting 2 takes 3 with it; 1 and 4 stay.
    let out = fs.ok(&["del", "--yes", "2"]);
    assert_eq!(out, "snapshot 2 deleted\nsnapshot 3 deleted\n");
    assert_eq!(fs.tree_edges(), vec![(0, None), (1, None), (4, None)]);
    for id in [2, 3] {
        for (d, p) in [("rootfs", "snapshot-"), ("etc", "etc-"), ("boot", "boot-")] {
            assert!(!fs.sub(d, &format!("{p}{id}")).exists());
        }
    }
    // Deleted ids are never handed out again.
    assert_eq!(fs.ok(&["clone", "0"]).trim(), "tree 5 cloned from 0");
}

#[test]
fn new_ids_skip_leftover_subvolumes() {
    let fs = Fs::initialised();
    // A leftover from some interrupted run (astOS's findnew would reuse 1 and collide).
    Command::new("btrfs")
        .args(["subvolume", "create"])
        .arg(fs.sub("rootfs", "snapshot-1"))
        .output()
        .unwrap();
    Command::new("btrfs")
        .args(["subvolume", "create"])
        .arg(fs.sub("etc", "etc-chr7"))
        .output()
        .unwrap();
    assert_eq!(fs.ok(&["clone", "0"]).trim(), "tree 8 cloned from 0");
    let st = fs.json(&["status"]);
    let kinds: Vec<&str> = st["leftovers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["copy", "orphan"]);
    let removed = fs.json(&["tmp"]);
    assert_eq!(removed["removed"].as_array().unwrap().len(), 2);
    assert!(!fs.sub("rootfs", "snapshot-1").exists());
    assert!(fs.sub("rootfs", "snapshot-8").exists());
    assert_eq!(fs.ok(&["tmpclear"]).trim(), "no leftovers");
}

#[test]
fn astos_tree_and_descriptions_are_imported_and_kept() {
    let fs = Fs::initialised();
    let sd = fs.snapdir();
    // Make snapshots 1..=3 as astOS would (plain read-only snapshots of 0).
    for id in 1..=3 {
        for (d, p) in [("rootfs", "snapshot-"), ("etc", "etc-"), ("boot", "boot-")] {
            let out = Command::new("btrfs")
                .args(["subvolume", "snapshot", "-r"])
                .arg(sd.join(d).join(format!("{p}0")))
                .arg(sd.join(d).join(format!("{p}{id}")))
                .output()
                .unwrap();
            assert!(out.status.success());
        }
    }
    std::fs::remove_file(sd.join("rast/tree.json")).unwrap();
    std::fs::create_dir_all(sd.join("ast/snapshots")).unwrap();
    // astOS writes str(DictExporter().export(tree)) on one line; names are ints.
    let fstree = "{'name': 'root', 'children': [{'name': 0, 'children': [{'name': 1, 'children': [{'name': 3}]}]}, {'name': 2}]}";
    std::fs::write(sd.join("ast/fstree"), fstree).unwrap();
    std::fs::write(sd.join("ast/snapshots/1-desc"), "desktop").unwrap();
    std::fs::write(sd.join("ast/snapshots/2-desc"), "server\n").unwrap();
    let tree = fs.ok(&["tree"]);
    assert_eq!(tree, "root - root\n├── 0*- base snapshot\n│   └── 1 - desktop\n│       └── 3 - \n└── 2 - server\n");
    assert!(sd.join("rast/tree.json").is_file(), "the import is saved");
    assert_eq!(
        std::fs::read_to_string(sd.join("ast/fstree")).unwrap(),
        fstree,
        "original kept"
    );
    assert!(sd.join("ast/snapshots/1-desc").is_file());
    assert_eq!(fs.ok(&["clone", "3"]).trim(), "tree 4 cloned from 3");
}

#[test]
fn fsck_rebuilds_lost_or_corrupt_metadata() {
    let fs = Fs::initialised();
    fs.ok(&["new", "alpha"]); // 1
    fs.ok(&["branch", "1"]); // 2
    fs.ok(&["cbranch", "2"]); // 3
    fs.ok(&["run", "2", "--", "touch", "/etc/x"]); // a committed transaction keeps the record
    let before = fs.tree_edges();
    let meta = fs.snapdir().join("rast/tree.json");
    std::fs::remove_file(&meta).unwrap();
    let (_, err) = fs.fail(&["tree"]);
    assert!(err.contains("rast fsck"), "{err}");
    let out = fs.ok(&["fsck"]);
    assert!(out.contains("rebuilt tree metadata"), "{out}");
    assert_eq!(fs.tree_edges(), before);
    assert!(fs.ok(&["tree"]).contains("1 - alpha"));
    std::fs::write(&meta, b"{\"version\": 1, \"next_id\": ").unwrap();
    let (_, err) = fs.fail(&["clone", "0"]);
    assert!(err.contains("unreadable"), "{err}");
    fs.ok(&["fsck"]);
    assert!(
        meta.with_extension("json.corrupt").is_file(),
        "the corrupt file is kept"
    );
    assert_eq!(fs.tree_edges(), before);
    assert_eq!(
        fs.ok(&["clone", "0"]).trim(),
        "tree 4 cloned from 0",
        "no id reused after a rebuild"
    );
    let report = fs.json(&["fsck"]);
    assert_eq!(report["rebuilt"], false);
    assert_eq!(report["snapshots"], 5);
}

#[test]
fn live_mode_reads_current_from_the_running_root() {
    let mut fs = Fs::initialised();
    fs.ok(&["clone", "0"]); // 1
    fs.deploy_by_hand(1); // next boot: 1; still running: slot tmp (snapshot 0)
    let live = fs.live_view("tmp");
    let slot = fs.sub("rootfs", "snapshot-tmp");
    let rast = |args: &[&str]| fs.run_at(&live, args);
    assert_eq!(stdout(&rast(&["current"])).trim(), "0");
    let st: serde_json::Value =
        serde_json::from_slice(&rast(&["--json", "status"]).stdout).unwrap();
    assert_eq!(
        (
            st["mode"].as_str(),
            st["current"].as_u64(),
            st["deployed"].as_u64()
        ),
        (Some("live"), Some(0), Some(1))
    );
    let out = rast(&["del", "--yes", "1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("snapshot 1: it is the deployed snapshot")
    );
    assert!(stdout(&rast(&["tree"])).contains("0*- base snapshot"));
    // live-chroot changes the running slot directly, no snapshot changes.
    let out = rast(&[
        "live-chroot",
        "--",
        "sh",
        "-c",
        "echo live > /etc/live-probe",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(slot.join("etc/live-probe").is_file());
    assert!(!fs.sub("etc", "etc-0").join("live-probe").exists());
}

#[test]
fn mistyped_commands_are_refused_and_sentences_are_planned() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    fs.ok(&["clone", "0"]);
    fs.ok(&["clone", "0"]); // 3
    let before = fs.tree_edges();
    for (argv, hint) in [
        (&["delete", "3"][..], "did you mean `del`?"),
        (&["instal", "3", "foo-app"], "did you mean `install`?"),
        (&["--dry-run", "upgrde", "4"], "did you mean `upgrade`?"),
        (&["--yes", "upgrde", "3"], "did you mean `upgrade`?"),
        (&["isntall", "foo-app"], "did you mean `install`?"),
        (&["frobnicate", "3"], "unknown command `frobnicate`\n"),
    ] {
        let (code, err) = fs.fail(argv);
        assert_eq!(code, 2, "{argv:?}: {err}");
        assert!(err.contains("unknown command `"), "{argv:?}: {err}");
        assert!(err.contains(hint), "{argv:?}: {err}");
        // Never the planner's answers.
        assert!(
            !err.contains("package index") && !err.contains("Which package"),
            "{argv:?}: {err}"
        );
    }
    assert_eq!(fs.tree_edges(), before, "nothing was changed");
    // A sentence — quoted, or unquoted and long — reaches the planner (which, with no
    // index built yet, says so).
    for argv in [
        &["delete snapshot 3"][..],
        &["show", "me", "what", "changed"],
    ] {
        let (_, err) = fs.fail(argv);
        assert!(!err.contains("unknown command"), "{argv:?}: {err}");
        assert!(err.contains("index"), "{argv:?}: {err}");
    }
}

#[test]
fn completions_and_man_pages_come_from_the_grammar() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, checker, file) in [
        ("bash", "bash", "rast.bash"),
        ("zsh", "zsh", "_rast"),
        ("fish", "fish", "rast.fish"),
    ] {
        let out = rast_e2e::rast(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("clone") && text.contains("deploy"), "{shell}");
        let path = tmp.path().join(file);
        std::fs::write(&path, &text).unwrap();
        let checked = Command::new(checker).arg("-n").arg(&path).status();
        match checked {
            Ok(s) => assert!(s.success(), "{checker} -n rejects the {shell} completions"),
            Err(_) => {
                eprintln!("skipped: {checker} is not installed (scripts/setup-deps installs it)")
            }
        }
    }
    let man = tmp.path().join("man8");
    rast_e2e::rast_ok(&["manpages", "--dir", man.to_str().unwrap()]);
    for page in [
        "rast.8",
        "rast-clone.8",
        "rast-deploy.8",
        "rast-agent.8",
        "rast-backup.8",
    ] {
        assert!(man.join(page).is_file(), "{page}");
    }
    let out = Command::new("man")
        .args(["-P", "cat", "-l"])
        .arg(man.join("rast-clone.8"))
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("rast-clone") && text.contains("--snap"),
        "{text}"
    );
    // A reader that goes away ends the output quietly, never with a panic — the
    // completion script and `--json` output (`rast --json … | head`) alike.
    let closed_stdout = |args: &[&str]| {
        let mut child = Command::new(rast_e2e::rast_bin())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    };
    closed_stdout(&["completions", "bash"]);
    closed_stdout(&[
        "--json",
        "config",
        "check",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../packaging/rast.toml"),
    ]);
}

#[test]
fn config_check_names_the_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("rast.toml");
    std::fs::write(&bad, "[agent]\nidle_timout = \"5m\"\n").unwrap();
    let out = rast_e2e::rast(&["config", "check", bad.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with(&format!("{}:2:", bad.display())) && text.contains("idle_timout"),
        "{text}"
    );
    std::fs::write(
        &bad,
        "[backup]\nzstd_level = 99\nidentity = \"/nonexistent/key.txt\"\n",
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(
        &rast_e2e::rast(&["--json", "config", "check", bad.to_str().unwrap()]).stdout,
    )
    .unwrap();
    let keys: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["[backup] identity", "[backup] zstd_level"], "{v}");
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../packaging/rast.toml");
    rast_e2e::rast_ok(&["config", "check", shipped]);
}

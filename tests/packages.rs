//! Packages in snapshots with real pacman and a makepkg-built repo: install, remove,
//! upgrade, tree operations, sync, diff, the pacman-compatible flags and `rast pkg`.

use rast_e2e::Fs;

fn read(fs: &Fs, dir: &str, name: &str, path: &str) -> String {
    std::fs::read_to_string(fs.sub(dir, name).join(path))
        .unwrap_or_else(|e| panic!("{dir}/{name}/{path}: {e}"))
}

#[test]
fn install_runs_pacman_in_the_snapshot_only() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    let base_uuids = fs.uuids(0);
    fs.ok(&["install", "1", "foo-app"]);
    let installed = fs.installed(1);
    assert!(
        installed.contains(&"foo-app 1.0-1".to_string())
            && installed.contains(&"libfoo 1.0-1".to_string()),
        "{installed:?}"
    );
    assert_eq!(
        read(&fs, "rootfs", "snapshot-1", "usr/bin/foo-app"),
        "#!/bin/sh\necho \"foo-app 1.0\"\n"
    );
    assert_eq!(
        read(&fs, "etc", "etc-1", "foo.conf"),
        "color=blue\n",
        "the /etc part follows the commit"
    );
    assert_eq!(
        read(&fs, "rootfs", "snapshot-1", "var/lib/foo/scriptlet"),
        "installed 1.0-1\n",
        "post_install scriptlet ran in the root"
    );
    // The database lives where astOS keeps it, per snapshot.
    assert!(rast_e2e::local_db_entries(&fs.sub("rootfs", "snapshot-1"))
        .iter()
        .any(|e| e.starts_with("foo-app-1.0-1")));
    assert_eq!(fs.uuids(0), base_uuids, "snapshot 0 untouched");
    assert!(!fs.installed(0).iter().any(|p| p.starts_with("foo-app")));
    // Aliases and the pacman-style form.
    fs.ok(&["in", "-s", "1", "editor-a"]);
    fs.ok(&["clone", "0"]);
    fs.ok(&["-S", "--snap", "2", "editor-b", "--noconfirm"]);
    assert!(fs.installed(2).contains(&"editor-b 1.0-1".to_string()));
    // pacman's own query output and exit codes.
    assert!(fs
        .ok(&["-Qi", "foo-app", "--snap", "1"])
        .contains("Install Reason  : Explicitly installed"));
    let out = fs.run(&["-Qi", "not-installed", "--snap", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("package 'not-installed' was not found"));
    assert!(fs
        .ok(&["-Qs", "foo", "--snap", "1"])
        .contains("local/foo-app 1.0-1"));
    assert!(fs
        .ok(&["-Ss", "pdf", "--snap", "1"])
        .contains("rasttest/foo-app 1.0-1"));
    assert!(fs
        .ok(&["-Si", "libfoo", "--snap", "1"])
        .contains("Repository      : rasttest"));
    assert_eq!(
        fs.run(&["-Ss", "no-such-thing-anywhere", "--snap", "1"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn failed_transactions_leave_the_snapshot_byte_for_byte() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    fs.ok(&["install", "1", "editor-a"]);
    let before = fs.uuids(1);
    // A conflict (pacman answers no to removing editor-a under --noconfirm).
    let out = fs.run(&["install", "1", "editor-b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("are in conflict"));
    // A package that does not exist: pacman's error, clearly.
    let out = fs.run(&["install", "1", "no-such-package"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("target not found: no-such-package"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A scriptlet that fails: pacman exits 0, rast still refuses to commit.
    let out = fs.run(&["install", "1", "bad-scriptlet"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("scriptlet or hook failed"));
    assert_eq!(
        fs.uuids(1),
        before,
        "snapshot 1 was replaced by a failed transaction"
    );
    assert!(!fs
        .sub("rootfs", "snapshot-1")
        .join("usr/share/bad")
        .exists());
    assert_eq!(
        fs.json(&["status"])["leftovers"].as_array().unwrap().len(),
        0
    );
    // Names that could be options or paths never reach pacman.
    for bad in ["a;rm", "../x", "-Syu", "$(id)", "--overwrite=*"] {
        let out = fs.run(&["install", "1", bad]);
        assert!(!out.status.success(), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("invalid package name") || err.contains("unexpected argument"),
            "{bad}: {err}"
        );
    }
    assert_eq!(fs.uuids(1), before);
    // The base snapshot only changes through base-update.
    let (_, err) = fs.fail(&["install", "0", "foo-app"]);
    assert!(err.contains("base-update"), "{err}");
}

#[test]
fn upgrades_reach_only_the_chosen_snapshot_or_tree() {
    let fs = Fs::with_own_repo();
    fs.ok(&["clone", "0"]); // 1
    fs.ok(&["install", "1", "foo-app"]);
    fs.ok(&["branch", "1"]); // 2 (has foo-app 1.0)
    fs.ok(&["branch", "2"]); // 3
    fs.ok(&["cbranch", "1"]); // 4, beside 1, has foo-app
                              // A user edit of a backup=() file survives upgrades.
    fs.ok(&[
        "run",
        "1",
        "--",
        "sh",
        "-c",
        "echo color=red > /etc/foo.conf",
    ]);
    fs.publish_next("foo-app");
    // update --test shows old -> new and changes nothing.
    let u4 = fs.uuids(4);
    let t = fs.json(&["pkg", "update", "--test", "-s", "4"]);
    assert_eq!(t["upgrades"][0]["name"], "foo-app");
    assert_eq!(
        (
            t["upgrades"][0]["old"].as_str(),
            t["upgrades"][0]["new"].as_str()
        ),
        (Some("1.0-1"), Some("2.0-1"))
    );
    assert_eq!(fs.uuids(4), u4);
    fs.ok(&["-Syu", "--snap", "1"]);
    assert!(fs.installed(1).contains(&"foo-app 2.0-1".to_string()));
    assert_eq!(
        read(&fs, "rootfs", "snapshot-1", "var/lib/foo/scriptlet"),
        "upgraded 1.0-1 -> 2.0-1\n"
    );
    assert_eq!(
        read(&fs, "etc", "etc-1", "foo.conf"),
        "color=red\n",
        "pacman keeps the edited backup file"
    );
    for other in [2, 3, 4] {
        assert!(
            fs.installed(other).contains(&"foo-app 1.0-1".to_string()),
            "snapshot {other} changed"
        );
    }
    // tree-upgrade reaches every descendant of 2 (2 and 3), not 4.
    let v = fs.json(&["tupgrade", "2"]);
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
    for id in [2, 3] {
        assert!(
            fs.installed(id).contains(&"foo-app 2.0-1".to_string()),
            "{id}"
        );
    }
    assert!(fs.installed(4).contains(&"foo-app 1.0-1".to_string()));
    // No partial upgrades: -Sy PKG is refused, -Syu PKG is fine.
    let (_, err) = fs.fail(&["-Sy", "editor-a", "--snap", "4"]);
    assert!(err.contains("partial upgrade"), "{err}");
    fs.ok(&["-Syu", "editor-a", "--snap", "4"]);
    let i4 = fs.installed(4);
    assert!(
        i4.contains(&"foo-app 2.0-1".to_string()) && i4.contains(&"editor-a 1.0-1".to_string()),
        "{i4:?}"
    );
    // base-update is how 0 changes.
    fs.ok(&["base-update"]);
    fs.ok(&["refresh", "4"]);
    fs.ok(&["up", "4"]);
}

#[test]
fn remove_orphans_and_tree_rmpkg() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]); // 1
    fs.ok(&["install", "1", "foo-app", "editor-a"]);
    fs.ok(&["branch", "1"]); // 2
    fs.ok(&["clone", "0"]); // 3 (no editor-a)
                            // -R leaves libfoo as an orphan; -Qdt (pacman's) and rast pkg clean see it.
    fs.ok(&["remove", "1", "foo-app"]);
    assert_eq!(fs.ok(&["-Qdtq", "--snap", "1"]).trim(), "libfoo");
    assert_eq!(
        fs.run(&["-Qdt", "--snap", "2"]).status.code(),
        Some(1),
        "pacman: no orphans = exit 1"
    );
    let out = fs.run(&["pkg", "clean", "--unused-deps", "-s", "1"]);
    assert!(
        !out.status.success(),
        "asks first; no terminal and no --yes means no"
    );
    fs.ok(&["--yes", "pkg", "clean", "--unused-deps", "-s", "1"]);
    assert!(!fs.installed(1).iter().any(|p| p.starts_with("libfoo")));
    // -Rns removes dependencies too.
    fs.ok(&["-Rns", "foo-app", "--snap", "2"]);
    assert!(!fs
        .installed(2)
        .iter()
        .any(|p| p.starts_with("libfoo") || p.starts_with("foo-app")));
    // tree-rmpkg: from 1 and its descendants that have it; 3 is not below 1.
    fs.ok(&["install", "3", "editor-a"]);
    let v = fs.json(&["tremove", "1", "editor-a"]);
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
    for id in [1, 2] {
        assert!(
            !fs.installed(id).iter().any(|p| p.starts_with("editor-a")),
            "{id}"
        );
    }
    assert!(fs.installed(3).contains(&"editor-a 1.0-1".to_string()));
}

#[test]
fn sync_propagates_the_parent_and_keeps_the_childs_extras() {
    let fs = Fs::with_own_repo();
    fs.ok(&["clone", "0"]); // 1
    fs.ok(&["branch", "1"]); // 2
    fs.ok(&["branch", "2"]); // 3
    fs.ok(&["install", "2", "editor-a"]); // the child's own extra
    fs.ok(&["install", "1", "foo-app"]);
    // force-sync: astOS's sync without the update; every package installed once.
    let out = fs.run(&["force-sync", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("reinstalling"),
        "nothing installed twice: {err}"
    );
    for id in [2, 3] {
        let i = fs.installed(id);
        assert!(
            i.contains(&"foo-app 1.0-1".to_string()) && i.contains(&"libfoo 1.0-1".to_string()),
            "{id}: {i:?}"
        );
        assert_eq!(
            read(
                &fs,
                "rootfs",
                &format!("snapshot-{id}"),
                "var/lib/foo/scriptlet"
            ),
            "installed 1.0-1\n",
            "scriptlets ran in {id}"
        );
    }
    assert!(
        fs.installed(2).contains(&"editor-a 1.0-1".to_string()),
        "the child keeps its extra package"
    );
    assert!(
        fs.installed(3).contains(&"editor-a 1.0-1".to_string()),
        "3 synced from 2, which has editor-a"
    );
    assert!(
        fs.ok(&["-Qi", "libfoo", "--snap", "2"])
            .contains("Installed as a dependency"),
        "install reasons follow the parent"
    );
    // Nothing to do the second time: no upgrade commits, no sync commits, and it says so.
    let u2 = fs.uuids(2);
    let out = fs.run(&["tree-sync", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("snapshot 2: already in sync") && err.contains("snapshot 3: already in sync"),
        "{err}"
    );
    assert_eq!(fs.uuids(2), u2);
    // --reinstall repairs a changed file.
    fs.ok(&[
        "run",
        "2",
        "--",
        "sh",
        "-c",
        "echo broken > /usr/bin/foo-app",
    ]);
    fs.ok(&["force-sync", "--reinstall", "1"]);
    assert_eq!(
        read(&fs, "rootfs", "snapshot-2", "usr/bin/foo-app"),
        "#!/bin/sh\necho \"foo-app 1.0\"\n"
    );
    // A newer foo-app: force-sync does not update, sync (astOS's meaning) does — all three.
    fs.publish_next("foo-app");
    let v = fs.json(&["force-sync", "1"]);
    assert!(v["upgraded"].as_array().unwrap().is_empty(), "{v}");
    assert!(fs.installed(1).contains(&"foo-app 1.0-1".to_string()));
    let v = fs.json(&["sync", "1"]);
    assert_eq!(v["upgraded"].as_array().unwrap().len(), 3, "{v}");
    for id in [1, 2, 3] {
        assert!(
            fs.installed(id).contains(&"foo-app 2.0-1".to_string()),
            "{id}: {:?}",
            fs.installed(id)
        );
    }
    assert_eq!(v["in_sync"], serde_json::json!([2, 3]), "{v}");
}

#[test]
fn diff_lists_package_and_file_changes() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    fs.ok(&["install", "1", "foo-app"]);
    let d = fs.json(&["diff", "0", "1"]);
    let added: Vec<&str> = d["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert_eq!(added, vec!["foo-app", "libfoo"]);
    assert!(d["removed"].as_array().unwrap().is_empty() && d["files"].is_null());
    let text = fs.ok(&["diff", "1", "0", "--files"]);
    assert!(
        text.contains("- foo-app 1.0-1")
            && text.contains("D /usr/bin/foo-app")
            && text.contains("D /etc/foo.conf"),
        "{text}"
    );
    assert!(
        !text.contains("usr/share/ast/db"),
        "pacman's database is not listed as files"
    );
    fs.ok(&["branch", "1"]);
    fs.ok(&[
        "run",
        "2",
        "--",
        "sh",
        "-c",
        "echo color=green > /etc/foo.conf",
    ]);
    let d = fs.json(&["diff", "1", "2", "--files"]);
    assert_eq!(d["files"]["modified"], serde_json::json!(["etc/foo.conf"]));
    assert!(d["added"].as_array().unwrap().is_empty());
}

#[test]
fn pkg_tools_check_conflicts_info_search_fix_keys() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    fs.ok(&["install", "1", "editor-a"]);
    let u = fs.uuids(1);
    let p = fs.json(&["pkg", "install", "--check-conflicts", "-s", "1", "foo-app"]);
    let names: Vec<&str> = p["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[0].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["libfoo", "foo-app"],
        "dependencies resolved first"
    );
    assert!(p["problems"].as_array().unwrap().is_empty());
    let out = fs.run(&[
        "--json",
        "pkg",
        "install",
        "--check-conflicts",
        "-s",
        "1",
        "editor-b",
    ]);
    assert!(!out.status.success());
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        p["problems"][0]
            .as_str()
            .unwrap()
            .contains("editor-b and editor-a are in conflict"),
        "{p}"
    );
    assert_eq!(fs.uuids(1), u, "checking changed nothing");
    let info = fs.json(&["pkg", "info", "-s", "1", "editor-a", "foo-app"]);
    assert_eq!(info["packages"][0]["installed"], true);
    assert_eq!(info["packages"][1]["package"]["repo"], "rasttest");
    let s = fs.json(&["pkg", "search", "-s", "1", "editor"]);
    let hits: Vec<(&str, bool)> = s["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap(),
                h["installed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(hits, vec![("editor-a", true), ("editor-b", false)]);
    // fix-keys runs its steps (populate and the keyring reinstall are skipped on this repo) and commits.
    let v = fs.json(&["pkg", "fix-keys", "-s", "1"]);
    assert_eq!(v["result"]["committed"], true, "{v}");
    let steps: Vec<(&str, bool)> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["done"].as_bool().unwrap()))
        .collect();
    assert_eq!(steps[1], ("pacman-key --init", true));
    assert!(
        fs.sub("etc", "etc-1")
            .join("pacman.d/gnupg/pubring.gpg")
            .exists()
            || fs
                .sub("etc", "etc-1")
                .join("pacman.d/gnupg/pubring.kbx")
                .exists()
    );
    // No gpg-agent started by pacman-key is left running with its home in the tree.
    let mine = fs.dir.path().to_str().unwrap().to_string();
    let agents: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("gpg-agent") && c.contains(&mine))
        .collect();
    assert!(agents.is_empty(), "left running: {agents:?}");
    // -Sc cleans the shared cache of packages no longer installed.
    fs.ok(&["-Sc", "--snap", "1"]);
}

#[test]
fn security_only_upgrades_follow_the_advisories() {
    let fs = Fs::with_own_repo();
    fs.ok(&["clone", "0"]);
    fs.ok(&["install", "1", "foo-app"]);
    fs.publish_next("foo-app");
    fs.publish_next("libfoo");
    let feed = fs.dir.path().join("all.json");
    std::fs::write(
        &feed,
        r#"[{"name":"AVG-9001","packages":["foo-app"],"status":"Fixed","severity":"High","type":"arbitrary code execution","affected":"1.0-1","fixed":"2.0-1","ticket":null,"issues":["CVE-2026-0001"],"advisories":[]},
            {"name":"AVG-9002","packages":["editor-a"],"status":"Fixed","severity":"Low","affected":"0.9-1","fixed":"1.0-1","issues":[]}]"#,
    )
    .unwrap();
    fs.ok(&[
        "upgrade",
        "1",
        "--security",
        "--security-feed",
        feed.to_str().unwrap(),
    ]);
    let i = fs.installed(1);
    assert!(
        i.contains(&"foo-app 2.0-1".to_string()),
        "the fixed package is upgraded: {i:?}"
    );
    assert!(
        i.contains(&"libfoo 1.0-1".to_string()),
        "an upgrade without advisory is held back: {i:?}"
    );
    assert!(
        fs.mnt.join("@var/lib/rast/security/all.json").is_file(),
        "the feed is cached"
    );
    fs.ok(&["-Syu", "--snap", "1"]);
    assert!(fs.installed(1).contains(&"libfoo 1.1-1".to_string()));
}

#[test]
fn aur_packages_go_to_the_helper_as_the_build_user() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]); // 1
    fs.ok(&["clone", "0"]); // 2: AUR off
    fs.ok(&["install", "1", "fake-aur-helper"]);
    // Without a build user the AUR path refuses clearly.
    fs.ok(&[
        "run",
        "1",
        "--",
        "sh",
        "-c",
        "echo aur::True >> /etc/ast.conf",
    ]);
    let (_, err) = fs.fail(&["install", "1", "some-aur-pkg"]);
    assert!(err.contains("build user \"aur\" does not exist"), "{err}");
    fs.ok(&["run", "1", "--", "sh", "-c", "echo aur:x:1000:1000::/home/aur:/bin/sh >> /etc/passwd && mkdir -p /home/aur && chown 1000:1000 /home/aur"]);
    // Repository packages go to pacman, the rest to the (fake) helper, in one transaction.
    fs.ok(&["install", "1", "foo-app", "some-aur-pkg"]);
    assert!(fs.installed(1).contains(&"foo-app 1.0-1".to_string()));
    let home = fs.sub("rootfs", "snapshot-1").join("home/aur");
    let log = std::fs::read_to_string(home.join("fake-aur-helper.log")).unwrap();
    assert_eq!(
        log,
        "uid=1000 gid=1000 user=aur home=/home/aur args=-S --noconfirm --needed -- some-aur-pkg\n"
    );
    assert!(home.join("built-some-aur-pkg").exists());
    // A failing build leaves the snapshot unchanged.
    let before = fs.uuids(1);
    assert!(!fs.run(&["install", "1", "fail-to-build"]).status.success());
    assert_eq!(fs.uuids(1), before);
    // Without aur::True, unknown names are pacman's "target not found".
    let out = fs.run(&["install", "2", "some-aur-pkg"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("target not found: some-aur-pkg"));
}

/// `self-update`: the rast package upgraded in a new branch, from the snapshot's sync
/// databases as they are; the snapshot itself unchanged; a rast pacman did not install
/// is left alone with a word on how it was installed.
#[test]
fn self_update_upgrades_the_rast_package_in_a_new_branch() {
    let fs = Fs::with_own_repo();
    fs.ok(&["clone", "0"]);
    // No rast package: not touched, and said why.
    let (code, err) = fs.fail(&["self-update", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("not installed by pacman"), "{err}");
    fs.ok(&["--yes", "install", "1", "rast"]);
    // The sync databases have nothing newer yet.
    let v = fs.json(&["self-update", "1"]);
    assert_eq!(v["result"], "newest", "{v}");
    assert_eq!(fs.tree_edges().len(), 2, "no snapshot made");
    // A newer rast in the repository, the databases refreshed: a branch gets it.
    fs.publish_next("rast");
    fs.ok(&["--yes", "refresh", "1"]);
    let before = fs.uuids(1);
    let out = fs.ok(&["self-update", "1"]);
    assert!(out.contains("has rast 2.0-1, was 1.0-1"), "{out}");
    assert!(
        out.contains("`rast deploy"),
        "offered, not done without --yes: {out}"
    );
    let m = fs
        .tree_edges()
        .into_iter()
        .find(|(_, p)| *p == Some(1))
        .map(|(id, _)| id)
        .expect("a branch of 1");
    let version = |id: u64| {
        std::fs::read_to_string(
            fs.sub("rootfs", &format!("snapshot-{id}"))
                .join("usr/share/rast-test/version"),
        )
        .unwrap()
    };
    assert_eq!(version(m), "2.0\n");
    assert_eq!(version(1), "1.0\n", "snapshot 1 keeps the old rast");
    assert_eq!(fs.uuids(1), before, "snapshot 1 untouched");
}

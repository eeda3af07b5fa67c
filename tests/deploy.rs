//! Deploy (A/B slots, fstab, /var, bootloader step), rollback, etc-update,
//! boot-update, live package operations and auto-upgrade — on real btrfs.

use std::process::Command;

use rast_e2e::{stdout, Fs};

fn default_subvol(fs: &Fs) -> String {
    let out = stdout(
        &Command::new("btrfs")
            .args(["subvolume", "get-default"])
            .arg(&fs.mnt)
            .output()
            .unwrap(),
    );
    out.trim().rsplit(' ').next().unwrap().to_string()
}

fn read(p: std::path::PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn is_subvolume(p: &std::path::Path) -> bool {
    Command::new("btrfs")
        .args(["subvolume", "show"])
        .arg(p)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn deploy_fills_the_other_slot_and_switches_the_default() {
    let fs = Fs::with_own_repo();
    assert_eq!(default_subvol(&fs), "@.snapshots/rootfs/snapshot-tmp");
    fs.ok(&["clone", "0"]);
    let out = fs.ok(&["deploy", "1", "--bootloader", "none"]);
    assert!(out.contains("1 was deployed to slot tmp0"), "{out}");
    assert_eq!(default_subvol(&fs), "@.snapshots/rootfs/snapshot-tmp0");
    let slot = fs.sub("rootfs", "snapshot-tmp0");
    assert_eq!(read(slot.join("usr/share/ast/snap")).trim(), "1");
    for fstab in [
        slot.join("etc/fstab"),
        fs.sub("etc", "etc-tmp0").join("fstab"),
    ] {
        let t = read(fstab);
        assert!(
            t.contains("subvol=@.snapshots/rootfs/snapshot-tmp0,compress=zstd")
                && t.contains("subvol=@.snapshots/etc/etc-tmp0,"),
            "{t}"
        );
        assert!(t.contains("subvol=@home "), "other entries untouched: {t}");
    }
    assert!(
        is_subvolume(&slot.join("var")),
        "/var of the slot is a snapshot of the live /var"
    );
    assert!(fs.sub("boot", "boot-tmp0").join("vmlinuz-linux").is_file());
    assert_eq!(fs.ok(&["current"]).trim(), "1");
    assert!(fs.ok(&["tree"]).contains("1*- clone of 0"));
    let (_, err) = fs.fail(&["del", "--yes", "1"]);
    assert!(err.contains("snapshot 1"), "{err}");
    // The previous deployment stays in its slot; the next deploy reuses that slot.
    assert_eq!(
        read(fs.sub("rootfs", "snapshot-tmp").join("usr/share/ast/snap")).trim(),
        "0"
    );
    fs.ok(&["clone", "0"]);
    fs.ok(&["deploy", "-s", "2", "--bootloader", "none"]);
    assert_eq!(default_subvol(&fs), "@.snapshots/rootfs/snapshot-tmp");
    assert_eq!(
        read(fs.sub("rootfs", "snapshot-tmp").join("usr/share/ast/snap")).trim(),
        "2"
    );
    fs.ok(&["del", "--yes", "1"]); // no longer deployed
    let st = fs.json(&["status"]);
    assert_eq!(
        (st["deployed"].as_u64(), st["deployed_slot"].as_str()),
        (Some(2), Some("tmp"))
    );
}

#[test]
fn a_failed_bootloader_step_leaves_the_previous_deployment_bootable() {
    let fs = Fs::with_own_repo();
    fs.ok(&["clone", "0"]);
    // The test snapshot has no grub-mkconfig.
    let (_, err) = fs.fail(&["deploy", "1", "--bootloader", "grub"]);
    assert!(err.contains("grub-mkconfig"), "{err}");
    assert_eq!(default_subvol(&fs), "@.snapshots/rootfs/snapshot-tmp");
    assert_eq!(
        read(fs.sub("rootfs", "snapshot-tmp").join("usr/share/ast/snap")).trim(),
        "0"
    );
    assert_eq!(fs.ok(&["current"]).trim(), "0");
    for d in [
        "rootfs/snapshot-tmp0.new",
        "etc/etc-tmp0.new",
        "boot/boot-tmp0.new",
        "rootfs/snapshot-tmp0",
    ] {
        assert!(!fs.snapdir().join(d).exists(), "{d} left behind");
    }
    // The bootloader can come from the snapshot's ast.conf …
    fs.ok(&[
        "run",
        "1",
        "--",
        "sh",
        "-c",
        "echo bootloader::grub > /etc/ast.conf",
    ]);
    let (_, err) = fs.fail(&["deploy", "1"]);
    assert!(err.contains("grub-mkconfig"), "{err}");
    fs.ok(&["run", "1", "--", "rm", "/etc/ast.conf"]);
    // … and without one, a deploy uses what init recorded (none here), as does the
    // rollback of a deployment made that way.
    let v = fs.json(&["deploy", "1"]);
    assert_eq!(v["bootloader"], "none");
    assert_eq!(fs.ok(&["current"]).trim(), "1");
    let v = fs.json(&["status"]);
    assert_eq!(v["bootloader"], "none");
}

/// A rollback that fails leaves the tree as it was (no clone behind), and the rollback
/// defaults to the bootloader of the deployment it reverts.
#[test]
fn a_failed_rollback_leaves_no_snapshot_behind() {
    let fs = Fs::with_own_repo();
    fs.ok(&["new"]);
    fs.ok(&["new"]);
    fs.ok(&["deploy", "1", "--bootloader", "none"]);
    fs.ok(&["deploy", "2", "--bootloader", "none"]);
    let before = fs.tree_edges();
    for _ in 0..2 {
        let (_, err) = fs.fail(&["rollback", "--bootloader", "grub"]);
        assert!(err.contains("grub-mkconfig"), "{err}");
        assert_eq!(fs.tree_edges(), before, "a failed rollback left a snapshot");
        assert!(fs.ok(&["status"]).contains("leftovers:   none"));
    }
    let v = fs.json(&["rollback"]);
    assert_eq!(v["deploy"]["bootloader"], "none");
    assert_eq!(v["deploy"]["snapshot"], v["clone"]);
}

#[test]
fn systemd_boot_entries_go_to_the_esp_with_a_boot_counter() {
    let fs = Fs::with_own_repo();
    fs.ok(&["clone", "0"]);
    let (_, err) = fs.fail(&["deploy", "1", "--bootloader", "systemd-boot"]);
    assert!(err.contains("pass --esp"), "{err}");
    let esp = fs.dir.path().join("esp");
    std::fs::create_dir_all(esp.join("EFI/BOOT")).unwrap();
    let v = fs.json(&[
        "deploy",
        "1",
        "--bootloader",
        "systemd-boot",
        "--esp",
        esp.to_str().unwrap(),
    ]);
    assert_eq!(v["bootloader"], "systemd-boot");
    // A trial (slot tmp still holds snapshot 0): counted, so systemd-boot falls back.
    let entry = read(esp.join("loader/entries/rastos-tmp0-linux+1-0.conf"));
    assert!(
        entry.contains("linux   /rastos/tmp0/vmlinuz-linux")
            && entry.contains("initrd  /rastos/tmp0/initramfs-linux.img"),
        "{entry}"
    );
    // root= is the filesystem's UUID (not the fstab's placeholder 0a1b2c3d).
    let uuid = String::from_utf8(
        std::process::Command::new("btrfs")
            .args(["filesystem", "show", "--raw"])
            .arg(&fs.mnt)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let uuid = uuid
        .split("uuid: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(
        entry.contains(&format!(
            "options root=UUID={uuid} rootflags=subvol=@.snapshots/rootfs/snapshot-tmp0 ro"
        )),
        "{entry}"
    );
    assert_eq!(
        read(esp.join("rastos/tmp0/vmlinuz-linux")),
        "not a kernel\n"
    );
    assert!(read(esp.join("loader/loader.conf")).contains("default rastos-*"));
    // Deploying again replaces the slot's entry, never leaves two.
    fs.ok(&["clone", "0"]);
    fs.ok(&[
        "deploy",
        "2",
        "--bootloader",
        "systemd-boot",
        "--esp",
        esp.to_str().unwrap(),
    ]);
    let names: Vec<String> = std::fs::read_dir(esp.join("loader/entries"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // boot-update reruns the step in the snapshot itself (a transaction).
    let v = fs.json(&["boot-update", "1", "--bootloader", "systemd-boot"]);
    assert_eq!(v["results"][0]["committed"], true);
}

#[test]
fn rollback_clones_the_previous_deployment_and_deploys_it() {
    let fs = Fs::with_own_repo();
    let (_, err) = fs.fail(&["rollback", "--bootloader", "none"]);
    assert!(err.contains("no earlier deployment"), "{err}");
    fs.ok(&["clone", "0"]); // 1
    fs.ok(&["install", "1", "foo-app"]);
    fs.ok(&["deploy", "1", "--bootloader", "none"]);
    fs.ok(&["clone", "0"]); // 2: without foo-app
    fs.ok(&["deploy", "2", "--bootloader", "none"]);
    let v = fs.json(&["rollback", "--bootloader", "none"]);
    assert_eq!(
        (
            v["clone"].as_u64(),
            v["deploy"]["snapshot"].as_u64(),
            v["deploy"]["previous"].as_u64()
        ),
        (Some(3), Some(3), Some(2))
    );
    assert_eq!(fs.ok(&["current"]).trim(), "3");
    assert!(fs.ok(&["tree"]).contains("3*- rollback to 1"));
    assert!(fs.installed(3).contains(&"foo-app 1.0-1".to_string()));
    let slot =
        std::fs::read_to_string(fs.sub("rootfs", "snapshot-tmp0").join("usr/share/ast/snap"))
            .unwrap();
    assert_eq!(slot.trim(), "3");
    // Deleting what the next rollback returns to (2) is allowed, with a warning.
    fs.ok(&["deploy", "1", "--bootloader", "none"]);
    let out = fs.run(&["del", "--yes", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: snapshot 3 is the earlier deployment `rast rollback` returns to"),
        "{err}"
    );
    let out = fs.run(&["del", "--yes", "2"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn live_operations_etc_update_and_auto_upgrade() {
    let mut fs = Fs::with_own_repo();
    fs.ok(&["clone", "0"]);
    // The booted system mounts the slot's etc subvolume as /etc (as rastOS and astOS do).
    fs.ok(&[
        "run",
        "1",
        "--",
        "sh",
        "-c",
        "echo 'UUID=ab /etc btrfs subvol=@.snapshots/etc/etc-tmp,noatime 0 0' > /etc/fstab",
    ]);
    fs.ok(&["deploy", "1", "--bootloader", "none"]);
    let slot = fs.sub("rootfs", "snapshot-tmp0");
    // Offline (a top level: nothing runs), a package change reaches the snapshot, never
    // the deployed slot, and rast says how to boot it.
    let out = fs.run(&["install", "1", "editor-a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("snapshot 1 is deployed") && err.contains("`rast deploy 1`"),
        "{err}"
    );
    assert!(!err.contains("running system"), "{err}");
    assert!(!slot.join("usr/bin/editor").exists());
    let v = fs.json(&["remove", "1", "editor-a"]);
    assert_eq!(
        (&v["results"][0]["live"], &v["results"][0]["redeploy"]),
        (&serde_json::Value::Null, &serde_json::Value::Bool(true)),
        "{v}"
    );
    // On the running system, every package change of the running snapshot reaches its
    // slot — install, remove, and pkg clean --unused-deps alike.
    let live = fs.live_view("tmp0");
    let at = |args: &[&str]| -> serde_json::Value {
        let out = fs.run_at(&live, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = at(&["--json", "install", "1", "foo-app"]);
    assert_eq!(
        (&v["results"][0]["live"], &v["results"][0]["redeploy"]),
        (
            &serde_json::Value::Bool(true),
            &serde_json::Value::Bool(false)
        ),
        "{v}"
    );
    assert!(slot.join("usr/bin/foo-app").is_file());
    at(&["--json", "remove", "1", "foo-app"]);
    assert!(rast_e2e::local_db_entries(&slot)
        .iter()
        .any(|e| e.starts_with("libfoo-")));
    let v = at(&["--json", "--yes", "pkg", "clean", "--unused-deps"]);
    assert_eq!(v["results"][0]["live"], true, "{v}");
    for root in [fs.sub("rootfs", "snapshot-1"), slot.clone()] {
        let left = rast_e2e::local_db_entries(&root);
        assert!(
            !left.iter().any(|n| n.starts_with("libfoo-")),
            "{}: {left:?}",
            root.display()
        );
    }
    // --not-live keeps the slot as it was, and says the deployment lacks the change.
    let v = at(&["--json", "install", "--not-live", "1", "foo-app"]);
    assert_eq!(v["results"][0]["redeploy"], true, "{v}");
    assert!(!slot.join("usr/bin/foo-app").exists());
    // etc-update saves what the booted system sees as /etc: the slot's etc subvolume.
    let etc_slot = fs.sub("etc", "etc-tmp0");
    std::fs::write(etc_slot.join("livefile"), "x\n").unwrap();
    std::fs::write(etc_slot.join("motd"), "edited live\n").unwrap();
    fs.ok(&["etc-update"]);
    assert_eq!(read(fs.sub("etc", "etc-1").join("livefile")), "x\n");
    assert_eq!(read(fs.sub("etc", "etc-1").join("motd")), "edited live\n");
    assert_eq!(
        read(fs.sub("rootfs", "snapshot-1").join("etc/motd")),
        "edited live\n"
    );
    // A full upgrade with nothing to upgrade commits nothing, and says so.
    let u1 = fs.uuids(1);
    let out = fs.run(&["upgrade", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("nothing to change"), "{err}");
    assert_eq!(fs.uuids(1), u1, "no commit");
    // auto-upgrade + check.
    assert!(!fs.run(&["check"]).status.success());
    fs.publish_next("foo-app");
    let rec = fs.json(&["auto-upgrade"]);
    assert_eq!(
        (rec["snapshot"].as_u64(), rec["ok"].as_bool()),
        (Some(1), Some(true)),
        "{rec}"
    );
    assert!(fs.installed(1).contains(&"foo-app 2.0-1".to_string()));
    assert!(fs.ok(&["check"]).contains("succeeded"));
    // A failing auto-upgrade is recorded and check says so with exit 1.
    fs.ok(&["deploy", "0", "--bootloader", "none"]);
    assert!(!fs.run(&["auto-upgrade"]).status.success());
    let out = fs.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FAILED"));
}

//! rastOS boots: disks installed with `rast init --partition --disk [--esp]` and booted
//! in QEMU (TCG) — SeaBIOS + GRUB and OVMF + systemd-boot — with a real kernel, an
//! initramfs carrying rast's mkinitcpio hook, and rast itself running inside the VM.
//! Every assertion is on what the VM printed on its serial console.
//!
//! The smoke tests run in `make test`; the whole matrix (the `#[ignore]`d ones too) in
//! `make test-boot`.

use std::process::Command;
use std::time::Duration;

use rast_e2e::rast_bin;
use rast_e2e::vm::{Boot, Disk, Firmware};

const LIMIT: Duration = Duration::from_secs(240);

fn boot(d: &mut Disk) -> Boot {
    let b = d.boot(LIMIT);
    assert!(
        !b.timed_out,
        "the VM did not power off within {LIMIT:?}:\n{}",
        b.tail()
    );
    eprintln!("boot: {:.1} s, snapshot {:?}", b.seconds, b.snapshot());
    b
}

fn booted(b: &Boot, snapshot: u64) {
    assert_eq!(
        b.snapshot(),
        Some(snapshot),
        "booted the wrong snapshot:\n{}",
        b.tail()
    );
    assert!(
        b.has(&format!("RASTOS-BOOTED snapshot={snapshot} root=ro")),
        "/ is not read-only:\n{}",
        b.tail()
    );
    assert!(
        b.has("RASTOS-CONFIRMED"),
        "boot-confirm failed:\n{}",
        b.tail()
    );
    assert!(
        b.has(&format!("RASTOS-CURRENT {snapshot}\n")),
        "`rast current` in the VM:\n{}",
        b.tail()
    );
}

fn step_ok(b: &Boot) {
    assert!(
        b.has("RASTOS-STEP-END rc=0"),
        "the step inside the VM failed:\n{}",
        b.tail()
    );
}

/// Boots and asserts the VM came up on `snapshot` and the queued step succeeded.
fn boot_into(d: &mut Disk, snapshot: u64) -> Boot {
    let b = boot(d);
    booted(&b, snapshot);
    step_ok(&b);
    b
}

/// Asserts the step inside the VM printed `text`.
fn says(b: &Boot, text: &str) {
    assert!(
        b.step_output().contains(text),
        "{text:?} missing from the step:\n{}",
        b.tail()
    );
}

/// Replaces snapshot $N's init with one that exits (the kernel panics).
const BREAK_INIT: &str = r##"rast run $N -- sh -c 'printf "#!/bin/sh\nexit 1\n" > /usr/bin/init'"##;

/// Install (BIOS), boot; inside the VM clone 0, install foo-app into the clone, deploy
/// it; reboot into it; roll back inside the VM; reboot into the rollback.
#[test]
fn bios_install_then_deploy_and_rollback_inside_the_vm() {
    let mut d = Disk::new(Firmware::Bios);
    d.install();
    d.step("rast clone 0 && rast --yes install 1 foo-app >/dev/null 2>&1 && rast deploy 1");
    let b = boot_into(&mut d, 0);
    says(&b, "1 was deployed to slot tmp0");

    d.step("foo-app && grep -E ' /(etc|var) ' /proc/mounts && rast rollback");
    let b = boot_into(&mut d, 1);
    let out = b.step_output();
    assert!(
        out.contains("foo-app 1.0"),
        "foo-app missing in the new deployment:\n{out}"
    );
    assert!(
        out.contains("subvol=/@.snapshots/etc/etc-tmp0"),
        "/etc is not the deployment's:\n{out}"
    );
    assert!(
        out.contains("subvol=/@var"),
        "/var is not the shared one:\n{out}"
    );
    assert!(out.contains("snapshot 2 cloned for the rollback"), "{out}");

    d.step("rast tree; foo-app || echo NO-FOO-APP");
    let b = boot_into(&mut d, 2);
    says(&b, "2*- rollback to 0");
    says(&b, "NO-FOO-APP");
}

/// A deployment whose init is broken panics the kernel; the next boot is the previous
/// deployment, by itself, and says so.
#[test]
fn bios_failed_boot_falls_back_to_the_previous_deployment() {
    let mut d = Disk::new(Firmware::Bios);
    d.install();
    d.step(&format!(
        "rast clone 0 && N=1 && {BREAK_INIT} && rast deploy 1"
    ));
    boot_into(&mut d, 0);

    let b = boot(&mut d);
    assert!(
        b.has("rast-boot: trial boot of slot tmp0"),
        "the initramfs hook did not spend the try:\n{}",
        b.tail()
    );
    assert!(
        b.has("Kernel panic"),
        "the broken deployment booted?\n{}",
        b.tail()
    );
    assert_eq!(b.snapshot(), None);

    d.step("rast status && rast tree");
    let b = boot_into(&mut d, 0);
    let out = b.step_output();
    assert!(
        out.contains("FAILED BOOT: the deployment of snapshot 1 (slot tmp0) did not boot; the machine fell back to snapshot 0"),
        "{out}"
    );
    assert!(out.contains("deployed:    0 (slot tmp)"), "{out}");
    assert!(
        out.contains("snapshot 1: its deployment (slot tmp0) failed to boot; running snapshot 0"),
        "{out}"
    );

    // And it stays that way: the failed deployment is not tried again.
    let b = boot(&mut d);
    booted(&b, 0);
    assert!(!b.has("rast-boot: trial boot"), "{}", b.tail());
}

/// Deploying from outside (the image's filesystem mounted on the host): the next boot
/// is that snapshot.
#[test]
#[ignore = "boot matrix: make test-boot"]
fn bios_deploy_from_outside_boots_next() {
    let mut d = Disk::new(Firmware::Bios);
    d.install();
    d.with_top(|top| {
        for args in [vec!["clone", "0"], vec!["deploy", "1"]] {
            let out = Command::new(rast_bin())
                .arg("--root")
                .arg(top)
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
    let b = boot(&mut d);
    booted(&b, 1);
}

/// UEFI: systemd-boot on the ESP (written by rast without mounting it), its boot
/// counting for trials; deploy inside the VM, reboot, a broken deployment, fallback.
#[test]
#[ignore = "boot matrix: make test-boot"]
fn uefi_systemd_boot_deploys_counts_and_falls_back() {
    let mut d = Disk::new(Firmware::Uefi);
    d.install();
    d.step("rast clone 0 && rast --yes install 1 foo-app >/dev/null 2>&1 && rast deploy 1 && ls /efi/loader/entries");
    let b = boot_into(&mut d, 0);
    says(&b, "rastos-tmp0-linux+1-0.conf");

    d.step(&format!(
        "foo-app && rast clone 0 && N=2 && {BREAK_INIT} && rast deploy 2"
    ));
    let b = boot_into(&mut d, 1);
    says(&b, "foo-app 1.0");

    let b = boot(&mut d);
    assert!(b.has("Kernel panic"), "{}", b.tail());

    d.step("rast status; ls /efi/loader/entries");
    let b = boot(&mut d);
    booted(&b, 1);
    let out = b.step_output();
    assert!(
        out.contains("FAILED BOOT: the deployment of snapshot 2 (slot tmp) did not boot"),
        "{out}"
    );
    assert!(
        out.contains("rastos-tmp0-linux.conf") && !out.contains("rastos-tmp-linux"),
        "{out}"
    );
}

/// The installer refuses devices that are not what they should be, and writes nothing.
#[test]
fn installer_refuses_the_wrong_devices_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("disk.img");
    let run = |a: &[&str]| Command::new(a[0]).args(&a[1..]).output().unwrap();
    assert!(run(&["truncate", "-s", "500M", img.to_str().unwrap()])
        .status
        .success());
    let mut c = Command::new("sfdisk")
        .args(["-q", img.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin
        .take()
        .unwrap()
        .write_all(b"label: dos\nstart=2048, size=409600, type=83\nstart=411648, type=c\n")
        .unwrap();
    assert!(c.wait().unwrap().success());
    let attach = |off: u64, len: u64| {
        let o = run(&[
            "losetup",
            "-f",
            "--show",
            "-o",
            &off.to_string(),
            "--sizelimit",
            &len.to_string(),
            img.to_str().unwrap(),
        ]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let disk =
        String::from_utf8_lossy(&run(&["losetup", "-f", "--show", img.to_str().unwrap()]).stdout)
            .trim()
            .to_string();
    let p1 = attach(2048 * 512, 409600 * 512);
    let p2 = attach(411648 * 512, 100 << 20);
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), vec![0u8; 128 << 20]).unwrap();
    let loose = String::from_utf8_lossy(
        &run(&["losetup", "-f", "--show", other.path().to_str().unwrap()]).stdout,
    )
    .trim()
    .to_string();
    let rast = |args: &[&str]| Command::new(rast_bin()).args(args).output().unwrap();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    let before = std::fs::read(&img).unwrap();
    let refused = |args: &[&str], why: &str| {
        let o = rast(args);
        assert!(
            !o.status.success() && err(&o).contains(why),
            "{args:?}: {}",
            err(&o)
        );
    };

    refused(
        &["init", "--partition", &p1, "--disk", &disk, "base"],
        "is not a btrfs filesystem",
    );
    assert!(run(&["mkfs.btrfs", "-q", "-f", &p1]).status.success());
    assert!(run(&["mkfs.btrfs", "-q", "-f", &loose]).status.success());
    let before_init = std::fs::read(&img).unwrap();
    refused(
        &["init", "--partition", &loose, "--disk", &disk, "base"],
        "does not hold",
    );
    refused(
        &[
            "init",
            "--partition",
            &p1,
            "--disk",
            &disk,
            "--esp",
            &p2,
            "base",
        ],
        "is not a FAT (vfat) filesystem",
    );
    refused(
        &[
            "init",
            "--partition",
            &p1,
            "--disk",
            &disk,
            "--bootloader",
            "systemd-boot",
            "base",
        ],
        "needs an EFI system partition",
    );
    assert_eq!(
        std::fs::read(&img).unwrap(),
        before_init,
        "a refused install wrote to the disk"
    );
    assert_ne!(
        before, before_init,
        "mkfs.btrfs should have changed the image"
    );

    for l in [p1, p2, disk, loose] {
        let _ = Command::new("losetup").args(["-d", &l]).status();
    }
}

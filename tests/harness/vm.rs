//! Booting rastOS in QEMU (TCG): the bootable test distribution (tests/boot/build-distro),
//! disk images installed with `rast init --partition --disk [--esp]`, and boots whose
//! serial console the tests read.
//!
//! Every [`Disk`] detaches its loop devices and deletes its image when dropped, also on
//! panic; every boot has a time limit and its QEMU is killed when it is reached.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{rast_bin, target_profile_dir, test_repo};

/// The test distribution's repository, built once per build directory.
pub fn distro() -> &'static Path {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = target_profile_dir().join("boot-distro");
        std::fs::create_dir_all(&dir).unwrap();
        let lock = std::fs::File::create(target_profile_dir().join("boot-distro.lock")).unwrap();
        lock.lock().unwrap();
        let repo = dir.join("repo");
        // Rebuilt when the rast binary or the build script changed.
        let stamp = dir.join("stamp");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("boot/build-distro");
        let want = format!(
            "{:?} {:?} {:?}",
            std::fs::metadata(rast_bin())
                .and_then(|m| m.modified())
                .ok(),
            std::fs::metadata(&script).and_then(|m| m.modified()).ok(),
            std::fs::read(&script).map(|b| b.len()).ok(),
        );
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str())
            || !repo.join("rastvm.db.tar.gz").exists()
        {
            let out = Command::new(&script)
                .arg(&dir)
                .arg(rast_bin())
                .arg(test_repo())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "build-distro failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::write(&stamp, &want).unwrap();
        }
        repo
    })
}

fn run(argv: &[&str]) -> String {
    let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{argv:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// How the disk boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS, MBR, GRUB.
    Bios,
    /// OVMF, GPT with an ESP, systemd-boot.
    Uefi,
}

/// A sparse disk image with a partition table, a btrfs partition (and an ESP).
pub struct Disk {
    pub dir: tempfile::TempDir,
    pub img: PathBuf,
    pub firmware: Firmware,
    /// (start, size) in bytes of the btrfs partition and the ESP.
    root: (u64, u64),
    esp: Option<(u64, u64)>,
    loops: Vec<String>,
}

impl Disk {
    /// A 2 GiB sparse image, partitioned and formatted.
    pub fn new(firmware: Firmware) -> Disk {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("disk.img");
        run(&["truncate", "-s", "2G", img.to_str().unwrap()]);
        let table = match firmware {
            Firmware::Bios => "label: dos\nstart=2048, type=83\n".to_string(),
            Firmware::Uefi => {
                "label: gpt\nstart=2048, size=131072, type=uefi\nstart=133120, type=linux\n"
                    .to_string()
            }
        };
        let mut c = Command::new("sfdisk")
            .args(["-q", img.to_str().unwrap()])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin.take().unwrap().write_all(table.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success());
        // The partitions as sfdisk laid them out (it aligns ends).
        let dump = run(&["sfdisk", "-d", img.to_str().unwrap()]);
        let parts: Vec<(u64, u64)> = dump
            .lines()
            .filter(|l| l.contains("start="))
            .map(|l| {
                let field = |k: &str| -> u64 {
                    l.split(k)
                        .nth(1)
                        .unwrap()
                        .split(',')
                        .next()
                        .unwrap()
                        .trim()
                        .parse()
                        .unwrap()
                };
                (field("start=") * 512, field("size=") * 512)
            })
            .collect();
        let (root, esp) = match firmware {
            Firmware::Bios => (parts[0], None),
            Firmware::Uefi => (parts[1], Some(parts[0])),
        };
        let mut d = Disk {
            dir,
            img,
            firmware,
            root,
            esp,
            loops: Vec::new(),
        };
        let p = d.attach(root);
        run(&["mkfs.btrfs", "-q", "-f", &p]);
        if let Some(e) = esp {
            let e = d.attach(e);
            run(&["mkfs.fat", "-F", "32", &e]);
        }
        d.detach();
        d
    }

    fn attach(&mut self, (start, len): (u64, u64)) -> String {
        let dev = run(&[
            "losetup",
            "-f",
            "--show",
            "-o",
            &start.to_string(),
            "--sizelimit",
            &len.to_string(),
            self.img.to_str().unwrap(),
        ]);
        self.loops.push(dev.clone());
        dev
    }

    fn attach_disk(&mut self) -> String {
        let dev = run(&["losetup", "-f", "--show", self.img.to_str().unwrap()]);
        self.loops.push(dev.clone());
        dev
    }

    pub fn detach(&mut self) {
        for l in self.loops.drain(..) {
            let _ = Command::new("blockdev").args(["--flushbufs", &l]).status();
            let _ = Command::new("losetup").args(["-d", &l]).status();
        }
    }

    /// `rast init --partition P --disk D [--esp E] --pacman-conf … base` on loop devices.
    pub fn install(&mut self) {
        let repo = distro();
        let disk = self.attach_disk();
        let part = self.attach(self.root);
        let mut argv: Vec<String> = vec![
            "init".into(),
            "--partition".into(),
            part,
            "--disk".into(),
            disk,
            "--pacman-conf".into(),
            repo.join("pacman.conf").display().to_string(),
        ];
        if let Some(e) = self.esp {
            let e = self.attach(e);
            argv.extend(["--esp".into(), e]);
        }
        argv.push("base".into());
        let out = Command::new(rast_bin())
            .args(&argv)
            .env_remove("RAST_ROOT")
            .output()
            .unwrap();
        self.detach();
        assert!(
            out.status.success(),
            "rast init failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The repository the VM installs from, on the shared /var.
        self.with_top(|top| {
            let dst = top.join("@var/lib/rast-test-repo");
            std::fs::create_dir_all(&dst).unwrap();
            for e in std::fs::read_dir(repo).unwrap().flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if n.contains(".pkg.tar") || n.starts_with("rastvm.") {
                    std::fs::copy(e.path(), dst.join(&n)).unwrap();
                }
            }
        });
    }

    /// Runs `f` with the filesystem's top level mounted (subvolid=5).
    pub fn with_top<T>(&mut self, f: impl FnOnce(&Path) -> T) -> T {
        let part = self.attach(self.root);
        let mnt = self.dir.path().join("top");
        std::fs::create_dir_all(&mnt).unwrap();
        run(&["mount", "-o", "subvolid=5", &part, mnt.to_str().unwrap()]);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mnt)));
        // Everything on the image before QEMU reads it: unmounted for sure.
        let mut unmounted = false;
        for _ in 0..50 {
            if Command::new("umount").arg(&mnt).status().unwrap().success() {
                unmounted = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.detach();
        assert!(unmounted, "could not unmount {}", mnt.display());
        match r {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    }

    /// Leaves `script` for the VM's init to run at the next boot.
    pub fn step(&mut self, script: &str) {
        self.with_top(|top| {
            let d = top.join("@var/rast-test");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("step.sh"), script).unwrap();
        });
    }

    /// Boots the image once (until the VM powers off, resets or `limit` passes) and
    /// returns what it printed on its serial console.
    pub fn boot(&mut self, limit: Duration) -> Boot {
        self.detach();
        let mut argv: Vec<String> = [
            "qemu-system-x86_64",
            "-accel",
            "tcg",
            "-m",
            "768",
            "-smp",
            "1",
            "-nographic",
            "-no-reboot",
            "-monitor",
            "none",
            "-serial",
            "stdio",
            "-nic",
            "none",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        argv.extend([
            "-drive".into(),
            format!("file={},format=raw,if=virtio", self.img.display()),
        ]);
        if self.firmware == Firmware::Uefi {
            let vars = self.dir.path().join("OVMF_VARS.fd");
            if !vars.exists() {
                std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars).unwrap();
            }
            argv.extend([
                "-drive".into(),
                "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
                    .into(),
                "-drive".into(),
                format!("if=pflash,format=raw,unit=1,file={}", vars.display()),
            ]);
        }
        let start = Instant::now();
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qemu-system-x86_64 (package qemu-system-x86)");
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = stdout.read_to_end(&mut b);
            b
        });
        let mut timed_out = false;
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() > limit {
                timed_out = true;
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let raw = reader.join().unwrap();
        let text = String::from_utf8_lossy(&raw).replace('\r', "");
        Boot {
            log: text,
            seconds: start.elapsed().as_secs_f64(),
            timed_out,
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg(self.dir.path().join("top"))
            .status();
        self.detach();
    }
}

/// One boot's serial console.
#[derive(Debug)]
pub struct Boot {
    pub log: String,
    pub seconds: f64,
    pub timed_out: bool,
}

impl Boot {
    /// The snapshot the booted system reported (`RASTOS-BOOTED snapshot=N`).
    pub fn snapshot(&self) -> Option<u64> {
        self.log
            .lines()
            .find_map(|l| l.split("RASTOS-BOOTED snapshot=").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    }

    pub fn has(&self, s: &str) -> bool {
        self.log.contains(s)
    }

    /// The output of the step the VM ran (between its markers).
    pub fn step_output(&self) -> &str {
        let a = self
            .log
            .find("RASTOS-STEP-BEGIN")
            .map(|i| i + 17)
            .unwrap_or(0);
        let b = self.log[a..]
            .find("RASTOS-STEP-END")
            .map(|i| a + i)
            .unwrap_or(self.log.len());
        &self.log[a..b]
    }

    /// The last lines of the console, for assertion messages.
    pub fn tail(&self) -> String {
        let lines: Vec<&str> = self.log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

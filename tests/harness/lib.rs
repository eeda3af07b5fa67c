//! Test harness for rast's end-to-end tests: real btrfs on loop images, a real pacman
//! repository built with makepkg, and the real `rast` binary.
//!
//! Every [`Fs`] unmounts its filesystem and deletes its image when dropped, also when
//! the test panics. The tests need root (mkfs, mount, btrfs ioctls).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

pub mod backup;
pub mod fault_proxy;
pub mod qdrant;
pub mod servers;
pub mod vm;

/// The directory cargo builds into (the test binary lives in `<dir>/deps/`).
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The `rast` binary under test.
pub fn rast_bin() -> PathBuf {
    let bin = target_profile_dir().join("rast");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --workspace` before the tests (make test does)",
        bin.display()
    );
    bin
}

/// The repository's own test data (tests/data: real Arch sync DBs, the NL dev set).
pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Runs `rast ARGS…` without a filesystem (index and search need none).
pub fn rast(args: &[&str]) -> Output {
    Command::new(rast_bin())
        .args(args)
        .env_remove("RAST_ROOT")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// As [`rast`], asserting success; returns stdout.
pub fn rast_ok(args: &[&str]) -> String {
    let out = rast(args);
    assert!(
        out.status.success(),
        "rast {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An index of Arch 2022 core+extra+multilib (3,568 packages), built once per build
/// directory (embedding takes ~30 s) and shared by the tests that only read it.
pub fn arch2022_index() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| shared_index("test-index-arch2022", None))
}

/// [`arch2022_index`] plus the real Arch /etc copy (tests/data/etc-arch-laptop): what
/// a machine's index holds, so the planner knows the config files it can name.
pub fn arch2022_etc_index() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        shared_index(
            "test-index-arch2022-etc",
            Some(data().join("etc-arch-laptop")),
        )
    })
}

fn shared_index(name: &str, etc: Option<PathBuf>) -> PathBuf {
    let dir = target_profile_dir().join(name);
    let lock = std::fs::File::create(target_profile_dir().join(format!("{name}.lock"))).unwrap();
    lock.lock().unwrap();
    // Built (incrementally: only changed documents are embedded again) whenever the
    // rast binary changed since the last build, so the shared index always holds what
    // this rast makes of the data.
    let stamp = dir.join("built-by");
    let bin = std::fs::metadata(rast_bin()).unwrap();
    let want = format!("{:?} {}", bin.modified().unwrap(), bin.len());
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
        let d = data().join("arch-2022");
        let dbs: Vec<String> = ["core", "extra", "multilib"]
            .iter()
            .map(|r| d.join(format!("{r}.db.tar.gz")).display().to_string())
            .collect();
        let etc_arg = etc.as_ref().map(|e| e.display().to_string());
        let mut args = vec!["index", "build", "--index-dir", dir.to_str().unwrap()];
        match &etc_arg {
            Some(e) => args.extend(["--etc", e.as_str()]),
            None => args.push("--no-etc"),
        }
        args.push("--sync-dbs");
        args.extend(dbs.iter().map(String::as_str));
        rast_ok(&args);
        std::fs::write(&stamp, want).unwrap();
    }
    dir
}

/// Source of the test fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the end-to-end tests need root (loop mounts, btrfs ioctls): run them with sudo or as root"
    );
}

/// The test pacman repository, built once per build directory (cross-process lock).
pub fn test_repo() -> &'static Path {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = target_profile_dir().join("test-repo");
        std::fs::create_dir_all(&dir).unwrap();
        let lock = std::fs::File::create(target_profile_dir().join("test-repo.lock")).unwrap();
        lock.lock().unwrap();
        let stamp = dir.join("stamp");
        let want = fixture_fingerprint();
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
            let out = Command::new(fixtures().join("build-repo"))
                .arg(&dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "build-repo failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::write(&stamp, &want).unwrap();
        }
        dir
    })
}

fn fixture_fingerprint() -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("pkgs"))
        .unwrap()
        .flatten()
        .flat_map(|d| {
            std::fs::read_dir(d.path())
                .unwrap()
                .flatten()
                .map(|e| e.path())
        })
        .collect();
    files.push(fixtures().join("build-repo"));
    files.sort();
    for f in files {
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    format!("{:x}", h.finish())
}

/// A fresh btrfs filesystem on a loop image, mounted at its top level.
pub struct Fs {
    pub dir: tempfile::TempDir,
    pub mnt: PathBuf,
    image: PathBuf,
    /// The loop device behind the mount, detached explicitly on drop (autoclear
    /// alone was seen to leave a device attached when something else held it briefly).
    loop_dev: Option<String>,
    extra_mounts: Vec<PathBuf>,
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Fs {
    /// An empty, mounted btrfs (1 GiB sparse image).
    pub fn new() -> Fs {
        Fs::sized(1 << 30)
    }

    /// An empty, mounted btrfs on a sparse image of `bytes`.
    pub fn sized(bytes: u64) -> Fs {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix("rast-e2e-")
            .tempdir()
            .unwrap();
        let image = dir.path().join("fs.img");
        let mnt = dir.path().join("top");
        std::fs::create_dir(&mnt).unwrap();
        std::fs::File::create(&image)
            .unwrap()
            .set_len(bytes)
            .unwrap();
        run_ok(Command::new("mkfs.btrfs").arg("-q").arg(&image));
        run_ok(
            Command::new("mount")
                .arg("-o")
                .arg("loop")
                .arg(&image)
                .arg(&mnt),
        );
        let found = run_ok(Command::new("losetup").arg("-j").arg(&image));
        let loop_dev = String::from_utf8_lossy(&found.stdout)
            .split(':')
            .next()
            .map(str::trim)
            .filter(|d| d.starts_with("/dev/loop"))
            .map(str::to_string);
        Fs {
            dir,
            mnt,
            image,
            loop_dev,
            extra_mounts: Vec::new(),
        }
    }

    /// A filesystem after `rast init` with the test repo's `base`.
    pub fn initialised() -> Fs {
        let fs = Fs::new();
        let conf = test_repo().join("pacman.conf");
        fs.ok(&["init", "--pacman-conf", conf.to_str().unwrap(), "base"]);
        fs
    }

    /// A filesystem after `rast init` from a private copy of the test repo (at
    /// `<dir>/repo`), so the test can publish upgrades with [`Fs::publish_next`].
    /// Snapshot 0 gets `base` and `linux`.
    pub fn with_own_repo() -> Fs {
        let fs = Fs::new();
        let repo = fs.repo();
        std::fs::create_dir_all(&repo).unwrap();
        for e in std::fs::read_dir(test_repo()).unwrap().flatten() {
            let name = e.file_name();
            if e.path().is_file() && name != "stamp" {
                std::fs::copy(e.path(), repo.join(&name)).unwrap();
            }
        }
        let conf = std::fs::read_to_string(test_repo().join("pacman.conf")).unwrap();
        let conf = conf.replace(
            &format!("file://{}", test_repo().display()),
            &format!("file://{}", repo.display()),
        );
        std::fs::write(repo.join("pacman.conf"), conf).unwrap();
        fs.ok(&[
            "init",
            "--pacman-conf",
            repo.join("pacman.conf").to_str().unwrap(),
            "base",
            "linux",
        ]);
        fs
    }

    /// The private repo of [`Fs::with_own_repo`].
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Publishes the newer build of `name` from the test repo's `next/` into this
    /// test's repo (`repo-add -R` drops the old entry and file).
    pub fn publish_next(&self, name: &str) {
        let next = test_repo().join("next");
        let file = std::fs::read_dir(&next)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!("{name}-"))
            })
            .unwrap_or_else(|| panic!("no {name} in {}", next.display()));
        let dest = self.repo().join(file.file_name().unwrap());
        std::fs::copy(&file, &dest).unwrap();
        run_ok(
            Command::new("repo-add")
                .arg("-q")
                .arg("-R")
                .arg(self.repo().join("rasttest.db.tar.gz"))
                .arg(&dest),
        );
        // pacman -Sy skips a database whose modification time is not newer than its
        // copy's (one-second resolution); a real mirror never republishes within the
        // second a client synced, a test does — so date the new database ahead.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        for db in ["rasttest.db.tar.gz", "rasttest.db"] {
            let f = std::fs::File::options()
                .write(true)
                .open(self.repo().join(db))
                .unwrap();
            f.set_modified(later).unwrap();
        }
    }

    /// The btrfs UUID of a subvolume: a commit replaces it, a failed transaction keeps it.
    pub fn uuid(&self, dir: &str, name: &str) -> String {
        let out = run_ok(
            Command::new("btrfs")
                .args(["subvolume", "show"])
                .arg(self.sub(dir, name)),
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.trim().strip_prefix("UUID:"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// UUIDs of all three parts of snapshot `id`.
    pub fn uuids(&self, id: u64) -> [String; 3] {
        [
            self.uuid("rootfs", &format!("snapshot-{id}")),
            self.uuid("etc", &format!("etc-{id}")),
            self.uuid("boot", &format!("boot-{id}")),
        ]
    }

    /// Names of the packages installed in snapshot `id` (`rast -Q --snap id`).
    pub fn installed(&self, id: u64) -> Vec<String> {
        self.ok(&["-Q", "--snap", &id.to_string()])
            .lines()
            .map(|l| l.to_string())
            .collect()
    }

    /// Remembers a mount to undo (before the filesystem's own) when dropped.
    pub fn track_mount(&mut self, p: PathBuf) {
        self.extra_mounts.push(p);
    }

    pub fn snapdir(&self) -> PathBuf {
        self.mnt.join("@.snapshots")
    }

    /// A view of the running system booted from `slot` (`tmp` or `tmp0`): the slot
    /// bound at `DIR/live`, `@.snapshots` at `DIR/live/.snapshots` — `rast --root` it
    /// for live mode. Unmounted with the filesystem.
    pub fn live_view(&mut self, slot: &str) -> PathBuf {
        let live = self.dir.path().join(format!("live-{slot}"));
        std::fs::create_dir(&live).unwrap();
        let bind = |from: &Path, to: &Path| {
            assert!(Command::new("mount")
                .arg("--bind")
                .arg(from)
                .arg(to)
                .status()
                .unwrap()
                .success());
        };
        bind(&self.sub("rootfs", &format!("snapshot-{slot}")), &live);
        self.track_mount(live.clone());
        std::fs::create_dir_all(live.join(".snapshots")).unwrap();
        bind(&self.snapdir(), &live.join(".snapshots"));
        self.track_mount(live.join(".snapshots"));
        live
    }

    /// rast with `--root ROOT` (a [`Fs::live_view`]); returns the whole output.
    pub fn run_at(&self, root: &Path, args: &[&str]) -> std::process::Output {
        Command::new(rast_bin())
            .arg("--root")
            .arg(root)
            .args(args)
            .env_remove("RAST_ROOT")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// `@.snapshots/<dir>/<name>`.
    pub fn sub(&self, dir: &str, name: &str) -> PathBuf {
        self.snapdir().join(dir).join(name)
    }

    /// A `rast --root <mnt> ARGS…` command, not yet run.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(rast_bin());
        c.arg("--root")
            .arg(&self.mnt)
            .args(args)
            .env_remove("RAST_ROOT")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs rast and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rast {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs rast and asserts failure; returns (exit code, stderr).
    pub fn fail(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "rast {args:?} unexpectedly succeeded:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// `(id, parent)` pairs of the tree, from `rast tree --json`.
    pub fn tree_edges(&self) -> Vec<(u64, Option<u64>)> {
        fn walk(v: &Value, parent: Option<u64>, out: &mut Vec<(u64, Option<u64>)>) {
            for n in v.as_array().unwrap() {
                let id = n["id"].as_u64().unwrap();
                out.push((id, parent));
                walk(&n["children"], Some(id), out);
            }
        }
        let mut out = Vec::new();
        walk(&self.json(&["tree"])["tree"], None, &mut out);
        out.sort();
        out
    }

    /// Asserts every snapshot in the tree has its three read-only subvolumes.
    pub fn assert_snapshots_intact(&self) {
        for (id, _) in self.tree_edges() {
            for (dir, prefix) in [("rootfs", "snapshot-"), ("etc", "etc-"), ("boot", "boot-")] {
                let p = self.sub(dir, &format!("{prefix}{id}"));
                let out = Command::new("btrfs")
                    .args(["property", "get", "-ts"])
                    .arg(&p)
                    .arg("ro")
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success() && text.trim() == "ro=true",
                    "{} is not an intact read-only subvolume: {text}",
                    p.display()
                );
            }
        }
    }

    /// Mount points below this filesystem's mount.
    pub fn mounts_below(&self) -> Vec<String> {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let me = self.dir.path().to_str().unwrap().to_string();
        info.lines()
            .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
            .filter(|m| m.starts_with(&me) && *m != self.mnt.to_str().unwrap())
            .collect()
    }

    /// Makes `id` the deployed snapshot by hand (slot tmp0 + set-default), standing
    /// in for `rast deploy` so tree tests can name a deployed snapshot.
    pub fn deploy_by_hand(&self, id: u64) {
        let slot = self.sub("rootfs", "snapshot-tmp0");
        let _ = Command::new("btrfs")
            .args(["subvolume", "delete"])
            .arg(&slot)
            .output();
        run_ok(
            Command::new("btrfs")
                .args(["subvolume", "snapshot"])
                .arg(self.sub("rootfs", &format!("snapshot-{id}")))
                .arg(&slot),
        );
        std::fs::create_dir_all(slot.join("usr/share/ast")).unwrap();
        std::fs::write(slot.join("usr/share/ast/snap"), format!("{id}\n")).unwrap();
        run_ok(
            Command::new("btrfs")
                .args(["subvolume", "set-default"])
                .arg(&slot),
        );
    }
}

impl Default for Fs {
    fn default() -> Self {
        Fs::new()
    }
}

fn umount(p: &Path) {
    for _ in 0..50 {
        if Command::new("umount")
            .arg(p)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new("umount").arg("-l").arg(p).output();
}

impl Drop for Fs {
    fn drop(&mut self) {
        for m in self.extra_mounts.iter().rev() {
            umount(m);
        }
        // Anything a failed test left mounted below us first, deepest first.
        let mut below = self.mounts_below();
        below.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in below {
            umount(Path::new(&m));
        }
        umount(&self.mnt);
        if let Some(dev) = &self.loop_dev {
            // Already gone when autoclear worked; then this fails harmlessly.
            let _ = Command::new("losetup").arg("-d").arg(dev).output();
        }
        let _ = std::fs::remove_file(&self.image);
    }
}

/// stdout as a string.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Entry names (`NAME-VERSION-REL`) of the pacman local database of the root `root`
/// (rast keeps it where astOS does, `usr/share/ast/db/local`).
pub fn local_db_entries(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("usr/share/ast/db/local"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

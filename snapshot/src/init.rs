//! `rast init`: the installer's core (astOS `main.py`). On a top-level btrfs mount it
//! creates the astOS layout, bootstraps snapshot 0 with pacman, deploys it, and writes
//! the tree metadata last — a tree exists only once `rast/tree.json` lands, and an
//! interrupted init can simply be run again.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deploy::Bootloader;
use crate::layout::{Layout, Part, PACMAN_DB, TOP_SUBVOLUMES};
use crate::meta::TreeMeta;
use crate::sandbox::Sandbox;
use crate::txn::Txn;
use crate::{btrfs, deploy, pkgname, Error, Result, SnapId};

/// Packages of a real base system (astOS's defaults).
pub const DEFAULT_PACKAGES: [&str; 4] = ["base", "linux", "linux-firmware", "btrfs-progs"];

/// What to bootstrap.
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub pacman_conf: PathBuf,
    pub packages: Vec<String>,
    /// pacman's keyring directory (the host's, as pacstrap does).
    pub gpgdir: PathBuf,
    /// Bootloader step of the first deploy.
    pub bootloader: Bootloader,
}

/// What init did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InitReport {
    pub root: PathBuf,
    pub packages: Vec<String>,
    pub deployed_slot: String,
}

/// Creates the layout and snapshot 0 on `root` (the top level of a btrfs filesystem).
pub fn init(root: &Path, opts: &InitOptions) -> Result<InitReport> {
    init_with(root, opts, &Extras::default())
}

/// A step run with the layout (the installer's bootloader step).
pub(crate) type BootStep<'a> = &'a dyn Fn(&Layout) -> Result<()>;

/// What an install to a disk adds to [`init`].
#[derive(Default)]
pub(crate) struct Extras<'a> {
    /// Snapshot 0's /etc/fstab.
    pub fstab: Option<String>,
    /// Installs the bootloader, after snapshot 0 is committed and before it is deployed.
    pub boot: Option<BootStep<'a>>,
    /// The mounted ESP (systemd-boot).
    pub esp: Option<&'a Path>,
}

pub(crate) fn init_with(root: &Path, opts: &InitOptions, extras: &Extras) -> Result<InitReport> {
    if btrfs::subvolume_id(root)? != libbtrfsutil::FS_TREE_OBJECTID {
        return Err(Error::NotTopLevel(root.to_path_buf()));
    }
    let l = Layout::top_level(root);
    if l.meta_file().exists() {
        return Err(Error::AlreadyInitialised(root.to_path_buf(), l.meta_file()));
    }
    if l.astos_fstree().exists() {
        return Err(Error::AlreadyInitialised(
            root.to_path_buf(),
            l.astos_fstree(),
        ));
    }
    for p in &opts.packages {
        pkgname::validate(p)?;
    }
    if !opts.pacman_conf.is_file() {
        return Err(Error::Invalid(format!(
            "pacman config {} does not exist",
            opts.pacman_conf.display()
        )));
    }
    for name in TOP_SUBVOLUMES {
        let p = root.join(name);
        if !btrfs::is_subvolume(&p) {
            btrfs::create_subvolume(&p)?;
        }
    }
    for dir in ["rootfs", "etc", "boot", "rast/journal", "rast/cache"] {
        let d = l.snapdir.join(dir);
        fs::create_dir_all(&d).map_err(Error::io(&d))?;
    }
    // A previous, interrupted init may have left a half-built snapshot 0.
    for part in Part::ALL {
        btrfs::delete_if_exists(&l.chr(part, SnapId::BASE))?;
        btrfs::delete_if_exists(&l.part(part, SnapId::BASE))?;
        btrfs::delete_if_exists(&l.staged(part, SnapId::BASE, "new"))?;
    }
    let chr = l.chr(Part::Rootfs, SnapId::BASE);
    btrfs::create_subvolume(&chr)?;
    let txn = Txn::adopt(&l, SnapId::BASE);
    bootstrap(&chr, &l, opts)?;
    // The snapshot needs a pacman.conf to install from later; a real base system has
    // one (package pacman), a minimal one gets the configuration it was built from.
    let conf = chr.join("etc/pacman.conf");
    if !conf.exists() {
        fs::copy(&opts.pacman_conf, &conf).map_err(Error::io(&conf))?;
    }
    if let Some(fstab) = &extras.fstab {
        let p = chr.join("etc/fstab");
        crate::atomic::write_atomic(&p, fstab.as_bytes())?;
        // Its mount points (/.snapshots, /efi) exist in every snapshot.
        for dir in fstab
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|d| d.starts_with('/') && *d != "/" && !d.contains(".."))
        {
            let d = chr.join(&dir[1..]);
            fs::create_dir_all(&d).map_err(Error::io(&d))?;
        }
    }
    let mut meta = TreeMeta::with_base();
    txn.commit(meta.get(SnapId::BASE)?)?;
    if let Some(boot) = extras.boot {
        boot(&l)?;
    }
    let slot = deploy::deploy_slot(&l, SnapId::BASE, opts.bootloader, extras.esp)?;
    meta.record_deployment(SnapId::BASE, slot, Some(opts.bootloader));
    meta.bootloader = Some(opts.bootloader);
    meta.save(&l.meta_file())?;
    Ok(InitReport {
        root: root.to_path_buf(),
        packages: opts.packages.clone(),
        deployed_slot: slot.to_string(),
    })
}

/// `pacman -Sy` into an empty root (pacstrap's way; a partial upgrade is impossible
/// in an empty root), with every pacman path pointed inside it or at shared dirs.
fn bootstrap(target: &Path, l: &Layout, opts: &InitOptions) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // Mount points for the sandbox binds, with the modes Arch's `filesystem` gives them.
    for (d, mode) in [
        ("dev", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("run", 0o755),
        ("tmp", 0o1777),
    ] {
        let p = target.join(d);
        fs::create_dir_all(&p).map_err(Error::io(&p))?;
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).map_err(Error::io(&p))?;
    }
    for d in ["etc/pacman.d/hooks", "var/log", PACMAN_DB] {
        let p = target.join(d);
        fs::create_dir_all(&p).map_err(Error::io(&p))?;
    }
    let cache = l.root.join("@var/cache/pacman/pkg");
    fs::create_dir_all(&cache).map_err(Error::io(&cache))?;
    let mut argv: Vec<std::ffi::OsString> =
        vec!["pacman".into(), "-Sy".into(), "--noconfirm".into()];
    let paths: [(&str, PathBuf); 6] = [
        ("--config", opts.pacman_conf.clone()),
        ("--root", target.to_path_buf()),
        ("--dbpath", target.join(PACMAN_DB)),
        ("--cachedir", cache),
        ("--logfile", target.join("var/log/pacman.log")),
        ("--hookdir", target.join("etc/pacman.d/hooks")),
    ];
    for (flag, path) in paths {
        argv.push(flag.into());
        argv.push(path.into_os_string());
    }
    argv.push("--gpgdir".into());
    argv.push(opts.gpgdir.clone().into_os_string());
    argv.push("--".into());
    argv.extend(opts.packages.iter().map(Into::into));
    let mut cmd: Command = Sandbox::beside(target).command(&argv)?;
    let status = crate::txn::status(&mut cmd, "pacman")?;
    if !status.success() {
        return Err(Error::CommandFailed {
            program: "pacman".into(),
            status: status.to_string(),
            detail: " while bootstrapping snapshot 0 (see pacman's messages above)".into(),
        });
    }
    Ok(())
}

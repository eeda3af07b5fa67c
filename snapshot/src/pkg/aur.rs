//! AUR packages: with `aur::True` in a snapshot's `/etc/ast.conf` (astOS's switch),
//! `install` hands the packages that no sync database knows to an AUR helper — `paru`,
//! else `yay` — run inside the transaction copy's chroot as an unprivileged build user
//! (`aur_user::NAME` in ast.conf, default `aur`; it must exist in the snapshot's
//! `/etc/passwd`). The helper builds and installs as it always does (via its own
//! sudo/pacman configuration inside the snapshot); rast commits only if it exits 0.

use std::path::Path;

use crate::sandbox::Sandbox;
use crate::{conf, pkgname, txn, Error, Result, SnapId};

/// The AUR settings of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AurConf {
    pub enabled: bool,
    pub user: String,
}

/// Reads `aur::` and `aur_user::` from the snapshot root's ast.conf.
pub fn conf_of(root: &Path) -> Result<AurConf> {
    let text = std::fs::read_to_string(root.join(conf::AST_CONF)).unwrap_or_default();
    let c = conf::parse(&text)?;
    let enabled = c
        .get("aur")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"));
    Ok(AurConf {
        enabled,
        user: c.get("aur_user").cloned().unwrap_or_else(|| "aur".into()),
    })
}

/// (uid, gid, home) of `user` in `root`'s /etc/passwd.
pub fn lookup_user(root: &Path, user: &str) -> Option<(u32, u32, String)> {
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[0] == user)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?, f[5].to_string())))?
    })
}

/// Runs the AUR helper for `pkgs` in the chroot `root` as the build user.
pub fn install(
    root: &Path,
    n: SnapId,
    aur: &AurConf,
    pkgs: &[String],
) -> Result<std::process::ExitStatus> {
    for p in pkgs {
        pkgname::validate(p)?;
    }
    let helper = ["paru", "yay"]
        .into_iter()
        .find(|h| root.join("usr/bin").join(h).is_file())
        .ok_or_else(|| Error::Invalid(format!("aur::True in snapshot {n}, but neither paru nor yay is installed in it; install one first")))?;
    let (uid, gid, home) = lookup_user(root, &aur.user).ok_or_else(|| {
        Error::Invalid(format!("AUR build user {:?} does not exist in snapshot {n} (create it: rast run {n} -- useradd -m {}), or set aur_user::NAME in its /etc/ast.conf", aur.user, aur.user))
    })?;
    if uid == 0 {
        return Err(Error::Invalid(format!(
            "AUR build user {:?} is root; AUR packages are never built as root",
            aur.user
        )));
    }
    let mut argv: Vec<String> = vec![
        helper.into(),
        "-S".into(),
        "--noconfirm".into(),
        "--needed".into(),
        "--".into(),
    ];
    argv.extend(pkgs.iter().cloned());
    let mut cmd = Sandbox::chroot(root).as_user(uid, gid).command(&argv)?;
    cmd.env("HOME", &home)
        .env("USER", &aur.user)
        .env("LOGNAME", &aur.user)
        .current_dir("/");
    cmd.stdout(std::io::stderr());
    txn::status(&mut cmd, helper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_conf_and_passwd() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        assert!(!conf_of(d.path()).unwrap().enabled);
        std::fs::write(
            d.path().join("etc/ast.conf"),
            "aur::True\naur_user::builder\n",
        )
        .unwrap();
        assert_eq!(
            conf_of(d.path()).unwrap(),
            AurConf {
                enabled: true,
                user: "builder".into()
            }
        );
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nbuilder:x:1001:1002::/home/builder:/bin/sh\n",
        )
        .unwrap();
        assert_eq!(
            lookup_user(d.path(), "builder"),
            Some((1001, 1002, "/home/builder".into()))
        );
        assert_eq!(lookup_user(d.path(), "nobody"), None);
    }
}

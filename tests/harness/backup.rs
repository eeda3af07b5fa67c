//! The backup tests' fixture: a btrfs tree whose snapshot 1 is backed up to a
//! directory or a local object-store server, driven through the real `rast` binary.

use std::process::Command;

use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::servers::{Kind, Remote};
use crate::Fs;

/// A tree, a backup target, an age key pair and the rast.toml naming the target.
pub struct Bk {
    pub fs: Fs,
    pub url: String,
    pub key: String,
    pub identity: std::path::PathBuf,
    /// A local object-store server (none: a file:// target).
    pub remote: Option<Remote>,
    pub config: std::path::PathBuf,
}

impl Default for Bk {
    fn default() -> Bk {
        Bk::new()
    }
}

impl Bk {
    pub fn new() -> Bk {
        Bk::with(None)
    }

    /// Backups to a local S3, Azure or GCS server instead of a directory.
    pub fn on(kind: Kind) -> Bk {
        Bk::with(Some(Remote::start(kind)))
    }

    /// Backups to a local server of `kind` reached only through a fault-injecting
    /// proxy (a test double, started here in front of it).
    pub fn behind_proxy(kind: Kind) -> (Bk, FaultProxy) {
        let mut remote = Remote::start(kind);
        let proxy = FaultProxy::start(remote.port());
        remote.config = remote.config.replace(
            &format!("127.0.0.1:{}", remote.port()),
            &format!("127.0.0.1:{}", proxy.port),
        );
        (Bk::with(Some(remote)), proxy)
    }

    pub fn with(remote: Option<Remote>) -> Bk {
        let fs = Fs::initialised();
        fs.ok(&["clone", "0"]);
        let identity = fs.dir.path().join("identity.txt");
        let config = fs.dir.path().join("rast.toml");
        std::fs::write(
            &config,
            remote.as_ref().map(|r| r.config.as_str()).unwrap_or(""),
        )
        .unwrap();
        let url = match &remote {
            Some(r) => r.url.clone(),
            None => format!("file://{}", fs.dir.path().join("store").display()),
        };
        let mut b = Bk {
            fs,
            url,
            key: String::new(),
            identity,
            remote,
            config,
        };
        b.key = b
            .ok(&["backup", "keygen", "-o", b.identity.to_str().unwrap()])
            .trim()
            .to_string();
        b
    }

    /// `rast --root MNT ARGS…` with the target's config and credentials.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.fs.cmd(args);
        c.env("RAST_CONFIG", &self.config);
        if let Some(r) = &self.remote {
            r.apply(&mut c);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rast {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.remote.as_ref().map(|r| r.log()).unwrap_or_default()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn create(&self, extra: &[&str]) -> Value {
        self.create_chunked("262144", extra)
    }
    pub fn create_chunked(&self, chunk_size: &str, extra: &[&str]) -> Value {
        let mut a = vec![
            "--json",
            "backup",
            "create",
            "1",
            "--to",
            &self.url,
            "--recipient",
            &self.key,
            "--chunk-size",
            chunk_size,
        ];
        a.extend_from_slice(extra);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
    /// Writes `bytes` random bytes to /etc/big in snapshot 1 (incompressible data).
    pub fn random_etc_big(&self, bytes: u64) {
        let cmd = format!("head -c {bytes} /dev/urandom > /etc/big");
        self.fs.ok(&["run", "1", "--", "sh", "-c", &cmd]);
    }
    pub fn change(&self, i: u32) {
        self.fs.ok(&[
            "run",
            "1",
            "--",
            "sh",
            "-c",
            &format!("head -c 300000 /dev/urandom > /etc/blob{i}; echo {i} > /etc/generation"),
        ]);
    }
    pub fn list(&self) -> Vec<Value> {
        let v: Value =
            serde_json::from_str(&self.ok(&["--json", "backup", "list", "--to", &self.url]))
                .unwrap();
        v["backups"].as_array().unwrap().clone()
    }
    /// `rast backup restore ID --into <mnt>/restored` with `identity`.
    pub fn restore_cmd(&self, id: &str, identity: &std::path::Path) -> Command {
        self.cmd(&[
            "backup",
            "restore",
            id,
            "--into",
            self.fs.mnt.join("restored").to_str().unwrap(),
            "--to",
            &self.url,
            "--identity",
            identity.to_str().unwrap(),
        ])
    }
    pub fn restore_into(&self, id: &str) -> (std::path::PathBuf, std::process::Output) {
        let out = self.restore_cmd(id, &self.identity).output().unwrap();
        (self.fs.mnt.join("restored").join(id), out)
    }
}

pub fn same_tree(a: &std::path::Path, b: &std::path::Path) {
    let out = Command::new("diff")
        .arg("-r")
        .arg("--no-dereference")
        .arg(a)
        .arg(b)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} and {} differ:\n{}",
        a.display(),
        b.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

//! Fault drills: backups to a real local S3 server (s3s-fs) reached only through a
//! fault-injecting proxy (`rast_e2e::fault_proxy`, a test double). For each fault a
//! trial makes a full backup and restores it while the proxy misbehaves; the trial
//! passes when create and restore either succeed within the retry budget or fail with
//! a clear error and succeed when run again, nothing incomplete is ever listed
//! complete, and the restored snapshot is identical (`diff -r`) to the source.
//!
//! `RAST_FAULT_TRIALS=N` runs N trials per fault (default 1); the table of faults,
//! trials, outcomes and extra time goes to stderr (`--no-capture`, or
//! `bench/fault-drills`).

use std::time::{Duration, Instant};

use rast_e2e::backup::{same_tree, Bk};
use rast_e2e::fault_proxy::{Drill, Fault, FaultProxy, Objects};
use rast_e2e::servers::Kind;

/// What a drill must end in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// Both steps succeed at the first try (the retries absorb the fault).
    Absorbed,
    /// `create` fails, naming the cause; the next `create` resumes and completes.
    CreateFailsThenResumes,
    /// `create` reports a failure although the manifest landed: the backup is complete
    /// and the next `create` confirms it without uploading.
    CreateFailsButLanded,
    /// `restore` fails, naming the cause, and leaves nothing half-received behind; the
    /// next `restore` succeeds.
    RestoreFailsThenSucceeds,
}

struct Case {
    name: &'static str,
    drill: Drill,
    expect: Expect,
    /// Words one of which the error must contain.
    cause: &'static [&'static str],
}

fn drill(fault: Fault, method: &'static str, objects: Objects, every: u32, times: u32) -> Drill {
    Drill {
        fault,
        method,
        objects,
        start: 1,
        every,
        times,
    }
}

fn cases() -> Vec<Case> {
    use Expect::*;
    use Fault::*;
    use Objects::*;
    let slow = Latency(Duration::from_millis(1500));
    vec![
        Case {
            name: "latency spikes (1.5 s, 1 request in 3)",
            drill: drill(slow, "", Backup, 3, 4),
            expect: Absorbed,
            cause: &[],
        },
        Case {
            name: "503 burst on uploads (2 in a row)",
            drill: drill(Status(503, "ServiceUnavailable"), "PUT", Chunks, 1, 2),
            expect: Absorbed,
            cause: &[],
        },
        Case {
            name: "500 burst on downloads (2 in a row)",
            drill: drill(Status(500, "InternalError"), "GET", Chunks, 1, 2),
            expect: Absorbed,
            cause: &[],
        },
        Case {
            name: "SlowDown storm on uploads (beyond the retries)",
            drill: drill(Status(503, "SlowDown"), "PUT", Backup, 1, 16),
            expect: CreateFailsThenResumes,
            cause: &["SlowDown", "503"],
        },
        Case {
            name: "SlowDown storm on downloads (beyond the retries)",
            drill: drill(Status(503, "SlowDown"), "GET", Chunks, 1, 16),
            expect: RestoreFailsThenSucceeds,
            cause: &["SlowDown", "503"],
        },
        Case {
            name: "connection reset mid-upload",
            drill: drill(ResetUpload, "PUT", Chunks, 2, 3),
            expect: Absorbed,
            cause: &[],
        },
        Case {
            name: "connection reset mid-download",
            drill: drill(ResetDownload, "GET", Chunks, 2, 3),
            expect: Absorbed,
            cause: &[],
        },
        Case {
            name: "truncated GET bodies (consistent Content-Length)",
            drill: drill(TruncateGet, "GET", Chunks, 2, 3),
            expect: Absorbed,
            cause: &[],
        },
        Case {
            name: "PUT response lost after the store kept it",
            drill: drill(LostResponse, "PUT", Backup, 2, 4),
            expect: Absorbed,
            cause: &[],
        },
        Case {
            name: "manifest PUT responses lost (beyond the retries)",
            drill: Drill {
                start: 0,
                ..drill(LostResponse, "PUT", Manifests, 1, 16)
            },
            expect: CreateFailsButLanded,
            cause: &["connection", "closed", "error sending request"],
        },
    ]
}

/// The bounded retries the drills run with (the `[backup]` keys users set).
const RETRIES: &str = "max_retries = 3\nretry_timeout = \"20s\"\n";

struct Drills {
    b: Bk,
    proxy: FaultProxy,
    trial: u32,
}

impl Drills {
    fn start() -> Drills {
        let (b, proxy) = Bk::behind_proxy(Kind::S3);
        let cfg = std::fs::read_to_string(&b.config).unwrap();
        let cfg = cfg.replace("max_retries = 2\n", RETRIES);
        assert!(cfg.contains("retry_timeout"), "{cfg}");
        std::fs::write(&b.config, cfg).unwrap();
        // 3 MB of incompressible data: a dozen 256 KiB chunks per backup.
        b.random_etc_big(3_000_000);
        Drills { b, proxy, trial: 0 }
    }

    /// `create --full` of a changed snapshot 1: (output, id if it printed one).
    fn create(&mut self) -> std::process::Output {
        self.b.run(&[
            "--json",
            "backup",
            "create",
            "1",
            "--full",
            "--to",
            &self.b.url,
            "--recipient",
            &self.b.key,
            "--chunk-size",
            "262144",
        ])
    }

    fn restore(&self, id: &str) -> std::process::Output {
        self.b.restore_cmd(id, &self.b.identity).output().unwrap()
    }

    fn complete(&self, id: &str) -> bool {
        self.b
            .list()
            .iter()
            .any(|l| l["id"] == id && l["complete"] == true)
    }

    /// The id of the newest backup listed, complete or not.
    fn newest(&self) -> String {
        self.b
            .list()
            .iter()
            .filter_map(|l| l["id"].as_str().map(str::to_string))
            .rfind(|id| id.ends_with("-full"))
            .expect("a backup is listed")
    }

    /// One trial: change the snapshot, back it up and restore it under `case`'s drill
    /// (none: the baseline). Returns what happened, in the table's words.
    fn trial(&mut self, case: Option<&Case>) -> &'static str {
        self.trial += 1;
        let t = self.trial;
        self.b.fs.ok(&[
            "run",
            "1",
            "--",
            "sh",
            "-c",
            &format!("echo {t} > /etc/generation"),
        ]);
        self.proxy.set(case.map(|c| c.drill));
        let name = case.map(|c| c.name).unwrap_or("baseline");
        let expect = case.map(|c| c.expect).unwrap_or(Expect::Absorbed);
        let cause = |out: &std::process::Output, what: &str| {
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            let words = case.map(|c| c.cause).unwrap_or(&[]);
            assert!(
                words.iter().any(|w| err.contains(w)),
                "{name}: {what} failed without naming the cause ({words:?}):\n{err}"
            );
            eprintln!("  {name}: {what} failed as expected: {}", err.trim());
        };

        let mut injected = 0;
        let out = self.create();
        let id = match expect {
            Expect::CreateFailsThenResumes | Expect::CreateFailsButLanded => {
                assert!(!out.status.success(), "{name}: create survived the storm");
                cause(&out, "create");
                let id = self.newest();
                let landed = self.complete(&id);
                assert_eq!(
                    landed,
                    expect == Expect::CreateFailsButLanded,
                    "{name}: {id} listed complete = {landed}"
                );
                injected += self.proxy.injected();
                self.proxy.set(None);
                let again = self.create();
                assert!(again.status.success(), "{name}: create again failed");
                let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
                assert_eq!(v["id"], id.as_str(), "{name}: the same backup resumed");
                if landed {
                    assert_eq!(v["uploaded_chunks"], 0, "{name}: nothing re-uploaded");
                } else {
                    assert!(
                        v["uploaded_chunks"].as_u64() < v["chunks"].as_u64(),
                        "{name}: resumed, not restarted: {v}"
                    );
                }
                self.proxy.set(case.map(|c| c.drill));
                id
            }
            _ => {
                assert!(
                    out.status.success(),
                    "{name}: create failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                v["id"].as_str().unwrap().to_string()
            }
        };
        assert!(self.complete(&id), "{name}: {id} not listed complete");

        let restored = self.b.fs.mnt.join("restored").join(&id);
        let out = self.restore(&id);
        if expect == Expect::RestoreFailsThenSucceeds {
            assert!(!out.status.success(), "{name}: restore survived the storm");
            cause(&out, "restore");
            assert!(!restored.exists(), "{name}: a half-received {id} was left");
            injected += self.proxy.injected();
            self.proxy.set(None);
            let again = self.restore(&id);
            assert!(again.status.success(), "{name}: restore again failed");
        } else {
            assert!(
                out.status.success(),
                "{name}: restore failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        injected += self.proxy.injected();
        self.proxy.set(None);
        if case.is_some() {
            assert!(injected > 0, "{name}: the drill injected nothing");
        }
        same_tree(&restored, &self.b.fs.sub("rootfs", "snapshot-1"));
        match expect {
            Expect::Absorbed => "ok (absorbed)",
            Expect::CreateFailsThenResumes => "create failed clearly, resumed",
            Expect::CreateFailsButLanded => "create failed, backup complete",
            Expect::RestoreFailsThenSucceeds => "restore failed clearly, reran",
        }
    }
}

#[test]
fn create_and_restore_survive_a_misbehaving_object_store() {
    let trials: u32 = std::env::var("RAST_FAULT_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut d = Drills::start();
    d.trial(None); // warm: the first backup of a tree also snapshots it
    let t0 = Instant::now();
    d.trial(None);
    let base = t0.elapsed();
    let mut rows = Vec::new();
    for case in cases() {
        let mut took = Duration::ZERO;
        let mut outcome = "";
        for _ in 0..trials {
            let t = Instant::now();
            outcome = d.trial(Some(&case));
            took += t.elapsed();
        }
        let extra = (took / trials).saturating_sub(base);
        rows.push((case.name, trials, outcome, extra));
    }
    // Everything listed complete restores: verify reads all of it.
    d.b.ok(&[
        "backup",
        "verify",
        "--all",
        "--read-data",
        "--to",
        &d.b.url,
        "--identity",
        d.b.identity.to_str().unwrap(),
    ]);
    eprintln!(
        "\nfault drills (s3s-fs behind the fault proxy; baseline create+restore {base:.1?}):"
    );
    eprintln!("| fault | trials | outcome | extra time |\n|---|---|---|---|");
    for (name, trials, outcome, extra) in rows {
        eprintln!(
            "| {name} | {trials} | {outcome} | {:.1} s |",
            extra.as_secs_f64()
        );
    }
}

//! Local object-store servers for the backup tests — real servers, 127.0.0.1 only.
//!
//! - S3: `s3s-fs` (checks SigV4 signatures, stores in a directory, so it can be stopped
//!   and started again on the same data);
//! - Azure: Azurite's blob service (in memory; the container is made by a SharedKey
//!   signed request, `servers/azurite_create_container.py`);
//! - GCS: `fake-gcs-server` behind `servers/gcs_xml_proxy_test_shim.py`, a test shim
//!   that translates object_store's XML-API calls to the JSON API the emulator serves.
//!
//! The programs are installed by `scripts/setup-test-servers` under
//! `$RAST_TEST_SERVERS` (default `/opt/rast-test-servers`). Each [`Remote`] owns its
//! processes and data directory; dropping it kills them.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Where `scripts/setup-test-servers` put the server programs.
pub fn servers_dir() -> PathBuf {
    std::env::var_os("RAST_TEST_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/rast-test-servers"))
}

fn program(rel: &str) -> PathBuf {
    let p = servers_dir().join(rel);
    assert!(
        p.exists(),
        "{} is missing: run `sudo scripts/setup-test-servers` (or `make deps`) first",
        p.display()
    );
    p
}

fn shims() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("servers")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    S3,
    Azure,
    Gcs,
}

/// A running object store and how rast reaches it.
pub struct Remote {
    pub kind: Kind,
    /// The `--to` URL.
    pub url: String,
    /// Environment for rast (credentials, emulator settings).
    pub env: Vec<(String, String)>,
    /// `[backup]` settings for rast.toml (endpoint, allow_http, low retries).
    pub config: String,
    pub dir: tempfile::TempDir,
    port: u16,
    procs: Vec<Child>,
}

const BUCKET: &str = "rast-test";

impl Remote {
    pub fn start(kind: Kind) -> Remote {
        let dir = tempfile::Builder::new()
            .prefix("rast-store-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let mut r = Remote {
            kind,
            url: String::new(),
            env: Vec::new(),
            config: String::new(),
            dir,
            port,
            procs: Vec::new(),
        };
        match kind {
            Kind::S3 => {
                std::fs::create_dir_all(r.dir.path().join("data").join(BUCKET)).unwrap();
                r.url = format!("s3://{BUCKET}/machine-1");
                r.env = vec![
                    ("AWS_ACCESS_KEY_ID".into(), "rasttestkey".into()),
                    ("AWS_SECRET_ACCESS_KEY".into(), "rasttestsecret".into()),
                ];
                r.config =
                    format!("endpoint = \"http://127.0.0.1:{port}\"\nregion = \"us-east-1\"\n");
            }
            Kind::Azure => {
                r.url = format!("az://{BUCKET}/machine-1");
                r.env = vec![
                    ("AZURE_STORAGE_ACCOUNT_NAME".into(), "devstoreaccount1".into()),
                    ("AZURE_STORAGE_ACCOUNT_KEY".into(), "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==".into()),
                ];
                r.config = format!("endpoint = \"http://127.0.0.1:{port}/devstoreaccount1\"\n");
            }
            Kind::Gcs => {
                let sa = r.dir.path().join("service-account.json");
                std::fs::write(
                    &sa,
                    format!(
                        "{{\"gcs_base_url\": \"http://127.0.0.1:{port}\", \"disable_oauth\": true, \
                         \"private_key\": \"\", \"private_key_id\": \"\", \"client_email\": \"\"}}"
                    ),
                )
                .unwrap();
                r.url = format!("gs://{BUCKET}/machine-1");
                r.env = vec![(
                    "GOOGLE_SERVICE_ACCOUNT".into(),
                    sa.to_string_lossy().into_owned(),
                )];
            }
        }
        r.config = format!("[backup]\n{}allow_http = true\nmax_retries = 2\n", r.config);
        r.run();
        r
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server processes (again, after [`Remote::stop`], on the same data).
    pub fn run(&mut self) {
        let port = self.port;
        let logs = self.dir.path().join("server.log");
        let log = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&logs)
                .unwrap()
        };
        match self.kind {
            Kind::S3 => {
                let c = Command::new(program("bin/s3s-fs"))
                    .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                    .args([
                        "--access-key",
                        "rasttestkey",
                        "--secret-key",
                        "rasttestsecret",
                    ])
                    .arg(self.dir.path().join("data"))
                    .stdout(log())
                    .stderr(log())
                    .spawn()
                    .unwrap();
                self.procs.push(c);
                self.wait(port, "s3s-fs");
            }
            Kind::Azure => {
                let c = Command::new(program("azurite/node_modules/.bin/azurite-blob"))
                    .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
                    .args(["--inMemoryPersistence", "--disableTelemetry", "--silent"])
                    .current_dir(self.dir.path())
                    .stdout(log())
                    .stderr(log())
                    .spawn()
                    .unwrap();
                self.procs.push(c);
                self.wait(port, "azurite-blob");
                let st = Command::new("python3")
                    .arg(shims().join("azurite_create_container.py"))
                    .arg(format!("http://127.0.0.1:{port}/devstoreaccount1"))
                    .arg(BUCKET)
                    .status()
                    .unwrap();
                assert!(st.success(), "could not create the Azurite container");
            }
            Kind::Gcs => {
                let upstream = free_port();
                let data = self.dir.path().join("gcs");
                std::fs::create_dir_all(data.join(BUCKET)).unwrap();
                let c = Command::new(program("bin/fake-gcs-server"))
                    .args([
                        "-scheme",
                        "http",
                        "-host",
                        "127.0.0.1",
                        "-log-level",
                        "error",
                    ])
                    .args(["-port", &upstream.to_string(), "-backend", "memory"])
                    .arg("-data")
                    .arg(&data)
                    .stdout(log())
                    .stderr(log())
                    .spawn()
                    .unwrap();
                self.procs.push(c);
                self.wait(upstream, "fake-gcs-server");
                let shim = Command::new("python3")
                    .arg(shims().join("gcs_xml_proxy_test_shim.py"))
                    .arg(port.to_string())
                    .arg(format!("http://127.0.0.1:{upstream}"))
                    .stdout(log())
                    .stderr(log())
                    .spawn()
                    .unwrap();
                self.procs.push(shim);
                self.wait(port, "the GCS XML test shim");
            }
        }
    }

    /// Waits for `port`, failing at once with the log if the last process died.
    fn wait(&mut self, port: u16, what: &str) {
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let until = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(st) = self
                .procs
                .last_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("{what} exited ({st}) before listening:\n{}", self.log());
            }
            assert!(
                Instant::now() < until,
                "{what} did not listen on port {port} within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server processes (the data of s3s-fs stays on disk).
    pub fn stop(&mut self) {
        for mut c in self.procs.drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Applies [`Remote::env`] to a command.
    pub fn apply(&self, c: &mut Command) {
        for (k, v) in &self.env {
            c.env(k, v);
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.stop();
    }
}

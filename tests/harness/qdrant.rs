//! A real Qdrant server (1.18.3, from `../shared/tools/qdrant`) for the fleet tests:
//! started on free 127.0.0.1 ports in a temporary directory, killed when dropped.
//! Where ../shared is absent, [`Qdrant::start`] says so and returns `None`, and the
//! test returns early (the one allowed skip: no registry has a Qdrant server).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server.
pub struct Qdrant {
    pub url: String,
    pub rest: u16,
    grpc: u16,
    dir: tempfile::TempDir,
    api_key: Option<String>,
}

fn start_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/qdrant/start-qdrant")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Qdrant {
    /// Starts a server, or prints why not and returns `None`.
    pub fn start(api_key: Option<&str>) -> Option<Qdrant> {
        if !start_script().is_file() {
            eprintln!(
                "skipped: {} is missing (the real Qdrant server lives in ../shared)",
                start_script().display()
            );
            return None;
        }
        let q = Qdrant {
            url: String::new(),
            rest: free_port(),
            grpc: free_port(),
            dir: tempfile::tempdir().unwrap(),
            api_key: api_key.map(str::to_string),
        };
        Some(q.launch())
    }

    fn launch(mut self) -> Qdrant {
        let mut c = Command::new(start_script());
        c.arg(self.dir.path())
            .arg(self.grpc.to_string())
            .arg(self.rest.to_string());
        if let Some(k) = &self.api_key {
            c.env("QDRANT__SERVICE__API_KEY", k);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "start-qdrant failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        self
    }

    fn pid(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join("qdrant.pid"))
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// Kills the server (its storage stays for [`Qdrant::restart`]).
    pub fn stop(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").arg(&pid).status();
            for _ in 0..100 {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }

    /// Starts the server again on the same ports and storage.
    pub fn restart(self) -> Qdrant {
        self.stop();
        self.launch()
    }

    /// `POST /collections/C/points/count` with `filter` (REST, via curl): exact count.
    pub fn count(&self, collection: &str, filter: serde_json::Value) -> u64 {
        let v = self.rest_post(
            &format!("collections/{collection}/points/count"),
            serde_json::json!({"filter": filter, "exact": true}),
        );
        v["result"]["count"].as_u64().unwrap_or(0)
    }

    /// Every payload of the collection, as one JSON text (for leak checks).
    pub fn all_payloads(&self, collection: &str) -> String {
        let v = self.rest_post(
            &format!("collections/{collection}/points/scroll"),
            serde_json::json!({"limit": 100000, "with_payload": true, "with_vector": false}),
        );
        v["result"]["points"].to_string()
    }

    fn rest_post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let mut c = Command::new("curl");
        c.args(["-fsS", "-X", "POST", "-H", "Content-Type: application/json"]);
        if let Some(k) = &self.api_key {
            c.args(["-H", &format!("api-key: {k}")]);
        }
        let out = c
            .arg("--data")
            .arg(body.to_string())
            .arg(format!("http://127.0.0.1:{}/{path}", self.rest))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Qdrant {
    fn drop(&mut self) {
        self.stop();
    }
}

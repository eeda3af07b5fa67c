//! rast-agent as a real process on a temporary socket: who may ask what (root, an
//! unprivileged member of the socket's group, an outsider), socket permissions,
//! SIGTERM, index refresh when /etc changes, the backup schedule, and the optional
//! LLM backend against a local test double.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rast_e2e::servers::free_port;
use rast_e2e::{arch2022_index, rast_bin, stdout, target_profile_dir, Fs};
use serde_json::Value;

/// The group the tests give the socket (need not exist: a gid is enough).
const GID: u32 = 4242;
const NOBODY: u32 = 65534;

/// A rast-agent process; SIGKILLed on drop if a test did not stop it.
struct Agent {
    child: Option<Child>,
    socket: PathBuf,
    /// World-traversable directory holding the socket and a copy of `rast` that an
    /// unprivileged user can execute (the build directory may be under /root).
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Agent {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Agent {
        let dir = tempfile::Builder::new()
            .prefix("rast-agent-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let socket = dir.path().join("run/agent.sock");
        let mut c = Command::new(target_profile_dir().join("rast-agent"));
        c.arg("--socket")
            .arg(&socket)
            .arg("--group")
            .arg(GID.to_string())
            .args(args)
            .env_remove("RAST_ROOT")
            .env_remove("RAST_AGENT_SOCKET")
            .env("RAST_CONFIG", dir.path().join("none.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("agent.log")).unwrap(),
            ));
        for (k, v) in env {
            c.env(k, v);
        }
        let mut a = Agent {
            child: Some(c.spawn().unwrap()),
            socket,
            dir,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        a.wait_until(Duration::from_secs(60), "the agent answers", |a| {
            a.try_status().is_some()
        });
        a
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// `rast ARGS…` against this agent, as root.
    fn rast(&self, args: &[&str]) -> Output {
        let mut c = Command::new(rast_bin());
        c.args(args)
            .env_remove("RAST_ROOT")
            .env("RAST_AGENT_SOCKET", &self.socket)
            .env("RAST_CONFIG", self.dir.path().join("none.toml"))
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// `rast ARGS…` as uid 65534 with only group `gid`.
    fn rast_as(&self, gid: u32, args: &[&str]) -> Output {
        let bin = self.dir.path().join("rast");
        if !bin.exists() {
            std::fs::copy(rast_bin(), &bin).unwrap();
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Command::new("setpriv")
            .args([
                "--reuid",
                &NOBODY.to_string(),
                "--regid",
                &gid.to_string(),
                "--clear-groups",
                "--",
            ])
            .arg(&bin)
            .args(args)
            .env_remove("RAST_ROOT")
            .env("RAST_AGENT_SOCKET", &self.socket)
            .env("RAST_CONFIG", self.dir.path().join("none.toml"))
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let o = self.rast(args);
        assert!(
            o.status.success(),
            "rast {args:?} failed: {}\nagent log:\n{}",
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
        serde_json::from_slice(&o.stdout).unwrap()
    }

    fn try_status(&self) -> Option<Value> {
        let o = self.rast(&["--json", "agent", "status"]);
        o.status
            .success()
            .then(|| serde_json::from_slice(&o.stdout).ok())
            .flatten()
    }

    fn status(&self) -> Value {
        self.json(&["--json", "agent", "status"])
    }

    fn wait_until(&mut self, limit: Duration, what: &str, mut f: impl FnMut(&Agent) -> bool) {
        let t = Instant::now();
        while !f(self) {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("rast-agent exited ({st}) before {what}:\n{}", self.log());
            }
            assert!(
                t.elapsed() < limit,
                "timed out waiting until {what}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM; returns the exit status and how long the agent took to stop.
    fn terminate(&mut self) -> (std::process::ExitStatus, Duration) {
        let mut child = self.child.take().unwrap();
        let t = Instant::now();
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return (st, t.elapsed());
            }
            if t.elapsed() > Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("rast-agent ignored SIGTERM for 20 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn plan_kinds(v: &Value) -> Vec<String> {
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn root_members_and_outsiders_get_the_right_answers_and_sigterm_stops_it() {
    let ix = arch2022_index().to_str().unwrap().to_string();
    let mut a = Agent::start(&["--index-dir", &ix, "--no-watch"], &[]);
    a.wait_until(Duration::from_secs(60), "the index is loaded", |a| {
        a.status()["agent"]["index"]["loaded"] == true
    });

    // The socket: 0660, the configured group, in a 0755 directory made for it.
    let m = std::fs::metadata(&a.socket).unwrap();
    assert_eq!(m.mode() & 0o777, 0o660, "socket mode");
    assert_eq!(m.gid(), GID, "socket group");

    // Root: privileged; `rast plan` goes through the agent (the config names no index
    // and /var/lib/rast/index does not exist here, so only the agent can answer).
    let st = a.status();
    assert_eq!(st["agent"]["peer"]["uid"], 0);
    assert_eq!(st["agent"]["peer"]["privileged"], true);
    assert_eq!(st["agent"]["index"]["packages"], 3568);
    let p = a.json(&["plan", "--json", "install htop"]);
    assert_eq!(p["actions"][0]["packages"][0], "htop");
    assert_eq!(a.status()["agent"]["requests"]["plan"], 1);
    // `rast search` too (hits rendered by the CLI as usual).
    let v = a.json(&[
        "--json",
        "search",
        "--kind",
        "package",
        "--limit",
        "3",
        "interactive process viewer",
    ]);
    assert_eq!(v["results"][0]["name"], "htop", "{v}");
    assert_eq!(a.status()["agent"]["requests"]["search"], 1);
    // Root passes the privilege check (and learns there is no job to run).
    let o = a.rast(&["agent", "backup-now"]);
    assert!(err(&o).contains("no [backup.schedule]"), "{}", err(&o));

    // Without RAST_AGENT_SOCKET the socket comes from [agent] socket; an agent
    // serves its own system, so with another --root rast plans in-process.
    let cfg = a.dir.path().join("agent.toml");
    std::fs::write(
        &cfg,
        format!("[agent]\nsocket = \"{}\"\n", a.socket.display()),
    )
    .unwrap();
    let via_config = |args: &[&str]| {
        Command::new(rast_bin())
            .args(args)
            .env_remove("RAST_ROOT")
            .env_remove("RAST_AGENT_SOCKET")
            .env("RAST_CONFIG", &cfg)
            .output()
            .unwrap()
    };
    let o = via_config(&["plan", "--json", "install htop"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(a.status()["agent"]["requests"]["plan"], 2);
    let elsewhere = tempfile::tempdir().unwrap();
    let o = via_config(&[
        "--root",
        elsewhere.path().to_str().unwrap(),
        "plan",
        "install htop",
    ]);
    assert!(err(&o).contains("package index"), "{}", err(&o));
    assert_eq!(
        a.status()["agent"]["requests"]["plan"],
        2,
        "another root must not use this agent"
    );

    // A member of the socket's group who is not root: read-only requests only.
    let o = a.rast_as(GID, &["--json", "agent", "status"]);
    assert!(o.status.success(), "{}", err(&o));
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(st["agent"]["peer"]["uid"], NOBODY);
    assert_eq!(st["agent"]["peer"]["privileged"], false);
    let o = a.rast_as(
        GID,
        &[
            "plan",
            "--json",
            "clone snapshot 2 and install firefox in it",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let p: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan_kinds(&p), ["clone", "install"]);
    for args in [&["agent", "refresh"][..], &["agent", "backup-now"][..]] {
        let o = a.rast_as(GID, args);
        assert_eq!(o.status.code(), Some(1), "{args:?} must be refused");
        assert!(err(&o).contains("needs root"), "{args:?}: {}", err(&o));
    }

    // Anyone else cannot even connect; the CLI says why.
    let o = a.rast_as(NOBODY, &["agent", "status"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("Permission denied"), "{}", err(&o));
    // … and plain-words planning falls back to in-process (which then needs an index).
    let o = a.rast_as(NOBODY, &["plan", "install htop"]);
    assert!(err(&o).contains("package index"), "{}", err(&o));

    // Malformed and oversized requests get errors, not a crash.
    let mut s = std::os::unix::net::UnixStream::connect(&a.socket).unwrap();
    use std::io::{BufRead, Write};
    s.write_all(b"{\"method\":\"rm -rf\"}\n").unwrap();
    let mut line = String::new();
    std::io::BufReader::new(s.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    let r: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(r["error"]["code"], "bad_request", "{line}");
    drop(s);

    // A second agent refuses to take over a live socket.
    let second = Command::new(target_profile_dir().join("rast-agent"))
        .arg("--socket")
        .arg(&a.socket)
        .args(["--index-dir", &ix, "--no-watch"])
        .env("RAST_CONFIG", a.dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        err(&second).contains("already listening"),
        "{}",
        err(&second)
    );

    // SIGTERM: a clean exit, promptly, and the socket is gone.
    let (st, took) = a.terminate();
    assert!(st.success(), "exit status {st}:\n{}", a.log());
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(!a.socket.exists(), "socket left behind");
    let o = a.rast(&["agent", "refresh", "--if-running"]);
    assert!(
        o.status.success(),
        "the hook must not fail without an agent"
    );

    // A socket left by a killed agent is replaced by the next one.
    let stale = std::os::unix::net::UnixListener::bind(&a.socket).unwrap();
    drop(stale);
    let b = Agent::start(&["--index-dir", &ix, "--no-watch"], &[]);
    drop(b);
}

#[test]
fn the_index_is_refreshed_when_etc_changes_or_the_hook_asks() {
    // A plain Arch-style root: sync database + /etc, no index yet.
    let root = tempfile::tempdir().unwrap();
    let sync = root.path().join("var/lib/pacman/sync");
    std::fs::create_dir_all(&sync).unwrap();
    std::fs::copy(
        rast_e2e::test_repo().join("rasttest.db"),
        sync.join("rasttest.db"),
    )
    .unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("hostname"), "agenthost\n").unwrap();
    let ix = root.path().join("index");
    let mut a = Agent::start(
        &[
            "--root",
            root.path().to_str().unwrap(),
            "--index-dir",
            ix.to_str().unwrap(),
            "--debounce",
            "300ms",
        ],
        &[],
    );
    let idx = |a: &Agent| a.json(&["--json", "agent", "status"])["agent"]["index"].clone();
    // No index at start: the agent builds one.
    a.wait_until(Duration::from_secs(120), "the first build is loaded", |a| {
        idx(a)["loaded"] == true
    });
    let p = a.json(&["plan", "--json", "install foo-app"]);
    assert_eq!(p["actions"][0]["packages"][0], "foo-app", "{p}");
    let refreshes = |a: &Agent| -> u64 {
        let mut s = std::os::unix::net::UnixStream::connect(&a.socket).unwrap();
        use std::io::{BufRead, Write};
        s.write_all(b"{\"method\":\"index_status\"}\n").unwrap();
        let mut line = String::new();
        std::io::BufReader::new(s).read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["result"]["refreshing"] == true {
            return 0;
        }
        v["result"]["refreshes"].as_u64().unwrap()
    };
    a.wait_until(Duration::from_secs(30), "the first build is counted", |a| {
        refreshes(a) == 1
    });

    // A new file in /etc: refreshed (once, after the debounce) and searchable.
    std::fs::write(
        etc.join("zanzibar.conf"),
        "# the zanzibar daemon\nlisten = 7777\n",
    )
    .unwrap();
    a.wait_until(
        Duration::from_secs(120),
        "the /etc change is indexed",
        |a| refreshes(a) == 2,
    );
    let o = a.rast(&[
        "--json",
        "config",
        "search",
        "--index-dir",
        ix.to_str().unwrap(),
        "zanzibar daemon",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(
        v["results"][0]["name"],
        "/etc/zanzibar.conf",
        "{v} {}",
        err(&o)
    );

    // What the pacman hook runs.
    let o = a.rast(&["agent", "refresh"]);
    assert!(o.status.success(), "{}", err(&o));
    a.wait_until(Duration::from_secs(120), "the hook's refresh", |a| {
        refreshes(a) == 3
    });
    let (st, _) = a.terminate();
    assert!(st.success());
}

#[test]
fn the_agent_runs_the_backup_schedule_and_backup_now() {
    let fs = Fs::initialised();
    fs.ok(&["clone", "0"]);
    let cfg = fs.dir.path().join("rast.toml");
    let identity = fs.dir.path().join("id.txt");
    let key = fs.ok(&["backup", "keygen", "-o", identity.to_str().unwrap()]);
    let store = fs.dir.path().join("store");
    std::fs::write(
        &cfg,
        format!(
            "[backup]\ntarget = \"file://{}\"\nrecipients = [\"{}\"]\nsnapshots = [\"1\"]\nchunk_mib = 1\n\n[backup.schedule]\nevery = \"1m\"\n",
            store.display(),
            key.trim()
        ),
    )
    .unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let mnt = fs.mnt.to_str().unwrap();
    // Its own index (built from the sandbox at start): refreshes must not touch the
    // shared one.
    let ix = fs.dir.path().join("index").to_str().unwrap().to_string();
    let mut a = Agent::start(
        &["--root", mnt, "--index-dir", &ix, "--no-watch"],
        &[("RAST_CONFIG", cfg_s)],
    );
    let backup = |a: &Agent| a.status()["backup"].clone();
    assert_eq!(backup(&a)["schedule"], "every 1m");
    // Never run before: due at once.
    a.wait_until(Duration::from_secs(120), "the first scheduled run", |a| {
        backup(a)["last_run"]["ok"] == true && backup(a)["running"] == false
    });
    let b = backup(&a);
    let finished = b["last_run"]["finished"].as_i64().unwrap();
    assert_eq!(b["agent_last_exit"], 0);
    let next = b["next_run"].as_i64().unwrap();
    assert!(
        (finished + 59..=finished + 61).contains(&next),
        "next run {next} should be a minute after {finished}"
    );
    let list = |fs: &Fs| -> Vec<Value> {
        let o = fs
            .cmd(&["--json", "backup", "list"])
            .env("RAST_CONFIG", &cfg)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", err(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["backups"].as_array().unwrap().clone()
    };
    let l = list(&fs);
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["complete"], true);

    // backup-now starts the job at once; the second run is incremental.
    // A rast command that changes a snapshot asks the agent to refresh its index.
    let refreshes = |a: &Agent| a.status()["agent"]["requests"]["refresh"].as_u64();
    assert_eq!(refreshes(&a), None);
    let o = fs
        .cmd(&["run", "1", "--", "sh", "-c", "echo changed > /etc/changed"])
        .env("RAST_CONFIG", &cfg)
        .env("RAST_AGENT_SOCKET", &a.socket)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(refreshes(&a), Some(1));
    let v = a.json(&["--json", "agent", "backup-now"]);
    assert_eq!(v["started"], true, "{v}");
    let first_id = b["last_run"]["created"][0].clone();
    a.wait_until(Duration::from_secs(120), "the requested run", |a| {
        let b = backup(a);
        // Runs can finish within one second: tell them apart by what they made.
        b["running"] == false && b["last_run"]["created"][0] != first_id
    });
    let l = list(&fs);
    assert_eq!(l.len(), 2, "{l:?}");
    assert!(l.iter().any(|b| !b["parent"].is_null()), "{l:?}");
    let (st, _) = a.terminate();
    assert!(st.success(), "{}", a.log());
    assert!(stdout(&fs.run(&["tree"])).contains('1'));
}

/// The LLM test double: canned completions, every request logged.
struct Llm {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    port: u16,
}

impl Llm {
    fn start(canned: &Value) -> Llm {
        let dir = tempfile::tempdir().unwrap();
        let canned_path = dir.path().join("canned.json");
        std::fs::write(&canned_path, canned.to_string()).unwrap();
        let log = dir.path().join("requests.jsonl");
        let port = free_port();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("servers/openai_chat_test_double.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&canned_path)
            .arg(&log)
            .spawn()
            .unwrap();
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "test double did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Llm {
            child,
            log,
            _dir: dir,
            port,
        }
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Llm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_llm_backend_is_asked_only_when_unsure_and_checked_like_any_plan() {
    let llm = Llm::start(&serde_json::json!({
        "a pdf reader": "{\"actions\":[{\"kind\":\"install\",\"packages\":[\"okular\"]}],\"explanation\":\"okular reads PDF files\",\"confidence\":0.8}",
        "make my computer faster": "{\"actions\":[{\"kind\":\"install\",\"packages\":[\"turbo-boost-9000\"]}]}",
        "do some housekeeping": "{\"actions\":[{\"kind\":\"run\",\"snapshot\":\"1\",\"command\":[\"sh\",\"-c\",\"rm -rf /\"]}]}",
    }));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rast.toml");
    std::fs::write(
        &cfg,
        format!(
            "[planner]\nllm_url = \"http://127.0.0.1:{}/v1\"\nllm_model = \"test-double\"\nllm_key_env = \"RAST_TEST_LLM_KEY\"\n",
            llm.port
        ),
    )
    .unwrap();
    let ix = arch2022_index().to_str().unwrap().to_string();
    let plan = |req: &str| -> Value {
        let o = Command::new(rast_bin())
            .args(["plan", "--json", "--index-dir", &ix, req])
            .env("RAST_CONFIG", &cfg)
            .env("RAST_TEST_LLM_KEY", "sekret")
            .env("RAST_NO_AGENT", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", err(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };

    // Sure of itself: the LLM is not asked.
    let p = plan("install htop");
    assert_eq!(p["actions"][0]["packages"][0], "htop");
    assert!(llm.requests().is_empty());

    // Unsure (several packages read PDFs): the LLM's plan, marked as such, never fully
    // trusted, still confirmed.
    let p = plan("install a pdf reader");
    assert_eq!(plan_kinds(&p), ["install"], "{p}");
    assert_eq!(p["actions"][0]["packages"][0], "okular");
    assert!(p["explanation"].as_str().unwrap().contains("LLM"), "{p}");
    assert!(p["confidence"].as_f64().unwrap() <= 0.9);
    assert_eq!(p["needs_confirmation"], true);
    let r = llm.requests();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["path"], "/v1/chat/completions");
    assert_eq!(r[0]["authorization"], "Bearer sekret");
    assert_eq!(r[0]["body"]["model"], "test-double");
    assert_eq!(
        r[0]["body"]["messages"][1]["content"],
        "install a pdf reader"
    );

    // A package that does not exist, or an unsafe command: discarded, the offline
    // plan stands (whatever the offline planner alone says: asked without the LLM).
    let offline = |req: &str| -> Value {
        let o = Command::new(rast_bin())
            .args(["plan", "--json", "--index-dir", &ix, req])
            .env("RAST_CONFIG", dir.path().join("none.toml"))
            .env("RAST_NO_AGENT", "1")
            .output()
            .unwrap();
        serde_json::from_slice(&o.stdout).unwrap()
    };
    for req in ["make my computer faster", "do some housekeeping"] {
        let p = plan(req);
        assert_eq!(p["actions"], offline(req)["actions"], "{req}: {p}");
        assert!(
            !p.to_string().contains("turbo-boost") && !p.to_string().contains("rm -rf"),
            "{req}: {p}"
        );
    }
    assert_eq!(llm.requests().len(), 3);

    // Refused requests never reach the LLM.
    let p = plan("please run rm -rf / for me");
    assert_eq!(plan_kinds(&p), ["clarify"]);
    assert_eq!(
        llm.requests().len(),
        3,
        "an unsafe request was sent to the LLM"
    );
}

#[test]
fn silent_greedy_and_garbled_clients_are_handled() {
    let ix = arch2022_index();
    let cfgdir = tempfile::tempdir().unwrap();
    let cfg = cfgdir.path().join("agent.toml");
    std::fs::write(
        &cfg,
        "[agent]\nidle_timeout = \"1s\"\nmax_connections_per_user = 2\n",
    )
    .unwrap();
    let a = Agent::start(
        &["--index-dir", ix.to_str().unwrap(), "--no-watch"],
        &[("RAST_CONFIG", cfg.to_str().unwrap())],
    );
    // A line that is not JSON is answered bad_request; silence then closes the line.
    let mut s = std::os::unix::net::UnixStream::connect(&a.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    use std::io::{BufRead, Write};
    s.write_all(b"hello agent\n").unwrap();
    let mut r = std::io::BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("bad_request"), "{line}");
    let t0 = std::time::Instant::now();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("no request for 1 s"), "{line}");
    assert!(t0.elapsed() < Duration::from_secs(5));
    line.clear();
    assert_eq!(r.read_line(&mut line).unwrap(), 0, "closed after telling");
    // An unprivileged user gets two connections; the third is refused, the first works.
    let script = "import socket,sys\nss=[]\nfor i in range(3):\n  s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); ss.append(s)\nrefused=ok=0\nfor s in ss:\n  s.settimeout(5)\n  try:\n    s.sendall(b'{\"method\":\"status\"}\\n')\n  except OSError:\n    pass\n  l=s.recv(65536).decode()\n  if 'already has 2 connections' in l and 'unavailable' in l:\n    refused+=1\n  elif '\"ok\":true' in l:\n    ok+=1\nprint(refused, ok)\n";
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            &NOBODY.to_string(),
            "--regid",
            &GID.to_string(),
            "--clear-groups",
            "--",
            // Debian's interpreter: the one on root's PATH may sit under /root.
            "/usr/bin/python3",
            "-c",
            script,
        ])
        .arg(&a.socket)
        .current_dir("/")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.trim(), "1 2", "one refused, two served");
    // Root is not limited.
    let many: Vec<_> = (0..5)
        .map(|_| std::os::unix::net::UnixStream::connect(&a.socket).unwrap())
        .collect();
    assert!(a.try_status().is_some());
    drop(many);
}

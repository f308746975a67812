//! Starting and stopping the servers under test, each pinned to core 0 with `taskset`
//! when the machine has two cores or more, and reading their CPU time and RSS from
//! `/proc/<pid>`.
//!
//! livehelp runs as `livehelp serve --demo` on a free port with a fresh data dir; its
//! JSON log line "livehelp is ready" gives the address. The PostgreSQL + NATS targets
//! (`livehelp-pg`, `livehelp-pg3`) start one or three such nodes on a fresh database
//! created (and dropped at the end) with `psql` on the server of `--postgres-url`, and on
//! the NATS server of `--nats-url`; the first node seeds the demo tenant, the others join
//! once it is ready. Their CPU and RSS are the nodes' sums (PostgreSQL's and NATS's own
//! are not counted). The floor is this binary's
//! `floor-server`; Socket.IO is `node bench/peers/socketio/server.js`; ejabberd is
//! Debian's, run in the foreground with `bench/peers/ejabberd/` configs and its own spool.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::wire::Target;

/// A running server under test (one process, or several livehelp nodes).
pub struct Server {
    /// What it is.
    pub target: Target,
    /// `127.0.0.1:PORT` of each node (one for every target but `livehelp-pg3`).
    pub addresses: Vec<String>,
    /// The processes that do the work (for /proc).
    pub pids: Vec<u32>,
    /// livehelp: the demo operator's password.
    pub password: Option<String>,
    /// livehelp: milliseconds from start to ready, as the (first) server logged it.
    pub ready_ms: Option<f64>,
    children: Vec<Child>,
    scratch: Vec<PathBuf>,
    /// PostgreSQL targets: `(server URL, database name)` to drop at the end.
    database: Option<(String, String)>,
}

/// Where to find the programs.
#[derive(Debug, Clone)]
pub struct Programs {
    /// The livehelp binary.
    pub livehelp: PathBuf,
    /// The repository's `bench/peers` folder.
    pub peers: PathBuf,
    /// Pin servers to core 0.
    pub pin: bool,
    /// PostgreSQL server for the `livehelp-pg*` targets (a fresh database per run).
    pub postgres_url: String,
    /// NATS server for the `livehelp-pg*` targets.
    pub nats_url: String,
}

impl Programs {
    /// `taskset -c 0 program` when pinning, else `program`.
    fn command(&self, program: &Path) -> Command {
        if self.pin {
            let mut command = Command::new("taskset");
            command.arg("-c").arg("0").arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Server {
    /// Starts `target` and waits until it takes connections.
    pub fn start(target: Target, programs: &Programs) -> anyhow::Result<Server> {
        match target {
            Target::Livehelp => start_livehelp(programs),
            Target::LivehelpPg | Target::LivehelpPg3 => start_livehelp_cluster(target, programs),
            Target::Floor => {
                let exe = std::env::current_exe()?;
                let mut command = programs.command(&exe);
                command.args(["floor-server", "--listen", "127.0.0.1:0"]);
                start_listening(target, command)
            }
            Target::Socketio => {
                let folder = programs.peers.join("socketio");
                if !folder.join("node_modules/socket.io").exists() {
                    let status = Command::new("npm")
                        .args(["install", "--no-audit", "--no-fund", "--silent"])
                        .current_dir(&folder)
                        .status()
                        .context("npm install for the Socket.IO peer")?;
                    if !status.success() {
                        bail!("npm install failed in {}", folder.display());
                    }
                }
                let mut command = programs.command(Path::new("node"));
                command.arg(folder.join("server.js")).arg("0");
                start_listening(target, command)
            }
            Target::Ejabberd => start_ejabberd(programs),
        }
    }

    /// Base URL for HTTP (the first node).
    pub fn http(&self) -> String {
        self.http_at(0)
    }

    /// Base URL for WebSockets (the first node).
    pub fn ws(&self) -> String {
        self.ws_at(0)
    }

    /// Base URL for HTTP of the node that serves client number `index` (round robin).
    pub fn http_at(&self, index: usize) -> String {
        format!("http://{}", self.addresses[index % self.addresses.len()])
    }

    /// Base URL for WebSockets of the node that serves client number `index`.
    pub fn ws_at(&self, index: usize) -> String {
        format!("ws://{}", self.addresses[index % self.addresses.len()])
    }

    /// CPU time (user + system) of the server processes so far, in microseconds.
    pub fn cpu_micros(&self) -> u64 {
        self.pids.iter().map(|pid| cpu_micros(*pid)).sum()
    }

    /// Resident memory of the server processes, in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.pids.iter().map(|pid| rss_kib(*pid)).sum()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s), removes its scratch dirs and
    /// drops its database.
    pub fn stop(mut self) {
        for pid in &self.pids {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (child, pid) in self.children.iter_mut().zip(&self.pids) {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !matches!(child.try_wait(), Ok(Some(_))) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        for scratch in self.scratch.drain(..) {
            let _ = std::fs::remove_dir_all(scratch);
        }
        if let Some((server, name)) = self.database.take() {
            let _ = psql(
                &server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// utime + stime of a process in microseconds (clock ticks of 10 ms).
pub fn cpu_micros(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name (which may contain spaces) closing ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) * 10_000
}

/// VmRSS of a process in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmRSS:")
                    .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// A fresh scratch folder on the real disk (not a tmpfs, so fsyncs are real).
fn scratch_dir(name: &str) -> anyhow::Result<PathBuf> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let index = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base =
        std::env::var_os("LIVEHELP_BENCH_SCRATCH").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!(
        "livehelp-bench-{}-{name}-{index}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn start_livehelp(programs: &Programs) -> anyhow::Result<Server> {
    let data_dir = scratch_dir("livehelp")?;
    let (child, address, ready_ms) = spawn_livehelp(programs, &data_dir, true, &[])?;
    let password = demo_password(&data_dir)?;
    Ok(Server {
        target: Target::Livehelp,
        addresses: vec![address],
        pids: vec![child.id()],
        password: Some(password),
        ready_ms,
        children: vec![child],
        scratch: vec![data_dir],
        database: None,
    })
}

/// `livehelp-pg` / `livehelp-pg3`: one or three nodes on a fresh PostgreSQL database and
/// the NATS server.
fn start_livehelp_cluster(target: Target, programs: &Programs) -> anyhow::Result<Server> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "livehelp_bench_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    psql(&programs.postgres_url, &format!("CREATE DATABASE {name}"))
        .with_context(|| format!("cannot create a database on {}", programs.postgres_url))?;
    let mut server = Server {
        target,
        addresses: Vec::new(),
        pids: Vec::new(),
        password: None,
        ready_ms: None,
        children: Vec::new(),
        scratch: Vec::new(),
        database: Some((programs.postgres_url.clone(), name.clone())),
    };
    let database_url = with_database(&programs.postgres_url, &name);
    for node in 0..target.nodes() {
        let data_dir = match scratch_dir("livehelp-node") {
            Ok(dir) => dir,
            Err(error) => {
                server.stop();
                return Err(error);
            }
        };
        server.scratch.push(data_dir.clone());
        let cluster = [
            "--database-url",
            database_url.as_str(),
            "--nats-url",
            programs.nats_url.as_str(),
        ];
        // The first node migrates and seeds the demo; the others join it.
        match spawn_livehelp(programs, &data_dir, node == 0, &cluster) {
            Ok((child, address, ready_ms)) => {
                if node == 0 {
                    server.ready_ms = ready_ms;
                    server.password = Some(demo_password(&data_dir)?);
                }
                server.pids.push(child.id());
                server.children.push(child);
                server.addresses.push(address);
            }
            Err(error) => {
                server.stop();
                return Err(error);
            }
        }
    }
    Ok(server)
}

/// Runs one SQL statement with `psql` on the server of `url`.
fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let output = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-qc", sql])
        .stdin(Stdio::null())
        .output()
        .context("cannot run psql (apt-get install -y postgresql-client)")?;
    if !output.status.success() {
        bail!(
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    match tail.split_once('?') {
        Some((_, query)) => format!("{scheme}://{authority}/{database}?{query}"),
        None => format!("{scheme}://{authority}/{database}"),
    }
}

fn demo_password(data_dir: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(data_dir.join("demo-login.txt"))
        .context("no demo-login.txt in the data dir")?
        .trim()
        .to_owned())
}

/// Starts `livehelp serve` (with `--demo` when `demo`) and waits for its ready line;
/// returns the child, its address and its ready time in ms.
fn spawn_livehelp(
    programs: &Programs,
    data_dir: &Path,
    demo: bool,
    extra: &[&str],
) -> anyhow::Result<(Child, String, Option<f64>)> {
    if !programs.livehelp.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p livehelp` or pass --livehelp",
            programs.livehelp.display()
        );
    }
    let mut command = programs.command(&programs.livehelp);
    command.arg("serve");
    if demo {
        command.arg("--demo");
    }
    command
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--max-connections", "1000000"])
        // The load measures capacity, not abuse protection: a visitor in the `cpu` and
        // `burst` loads sends up to 10 messages a second, over the default limit (2/s).
        .args(["--visitor-messages-per-second", "1000"])
        .args(["--visitor-message-burst", "1000"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "warn,livehelp=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().context("cannot start livehelp")?;
    drain(child.stdout.take());
    let stderr = child.stderr.take().context("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = loop {
        if Instant::now() > deadline {
            break Err(anyhow::anyhow!(
                "livehelp did not log \"livehelp is ready\" within 60 s"
            ));
        }
        let Some(Ok(line)) = lines.next() else {
            break Err(anyhow::anyhow!("livehelp exited before it was ready"));
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let fields = &value["fields"];
        if fields["message"] == "livehelp is ready" {
            match fields["address"].as_str() {
                Some(address) => break Ok((address.to_owned(), fields["ready_ms"].as_f64())),
                None => break Err(anyhow::anyhow!("no address in the ready line")),
            }
        }
    };
    match ready {
        Ok((address, ready_ms)) => {
            std::thread::spawn(move || for _ in lines {});
            Ok((child, address, ready_ms))
        }
        Err(error) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(error)
        }
    }
}

/// Starts a program that prints `listening PORT` on stdout when ready.
fn start_listening(target: Target, mut command: Command) -> anyhow::Result<Server> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start the {} server", target.name()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let Some(line) = lines.next() else {
            bail!("the {} server exited before it listened", target.name());
        };
        if let Some(port) = line?.strip_prefix("listening ") {
            break port.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(Server {
        target,
        addresses: vec![format!("127.0.0.1:{port}")],
        pids: vec![child.id()],
        password: None,
        ready_ms: None,
        children: vec![child],
        scratch: Vec::new(),
        database: None,
    })
}

fn start_ejabberd(programs: &Programs) -> anyhow::Result<Server> {
    let config = programs.peers.join("ejabberd");
    let scratch = scratch_dir("ejabberd")?;
    std::fs::create_dir_all(scratch.join("logs"))?;
    std::fs::create_dir_all(scratch.join("spool"))?;
    // Debian's ejabberdctl runs the node as the `ejabberd` user.
    let _ = Command::new("chown")
        .args(["-R", "ejabberd:ejabberd"])
        .arg(&scratch)
        .status();
    let mut command = programs.command(Path::new("ejabberdctl"));
    command
        .arg("--config")
        .arg(config.join("ejabberd.yml"))
        .arg("--ctl-config")
        .arg(config.join("ejabberdctl.cfg"))
        .arg("--logs")
        .arg(scratch.join("logs"))
        .arg("--spool")
        .arg(scratch.join("spool"))
        .arg("foreground")
        .current_dir(&scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if std::net::TcpStream::connect("127.0.0.1:5280").is_ok() {
        bail!("127.0.0.1:5280 is taken: stop the other ejabberd first (ejabberdctl stop)");
    }
    let mut child = command
        .spawn()
        .context("cannot start ejabberd (apt-get install -y ejabberd)")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let spool = scratch.join("spool").display().to_string();
    let pid = loop {
        if Instant::now() > deadline {
            if let Some(pid) = beam_pid(&spool) {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
            let _ = child.kill();
            let _ = child.wait();
            bail!("ejabberd did not listen on 127.0.0.1:5280 within 60 s");
        }
        std::thread::sleep(Duration::from_millis(200));
        let Some(pid) = beam_pid(&spool) else {
            continue;
        };
        if std::net::TcpStream::connect("127.0.0.1:5280").is_ok() {
            break pid;
        }
    };
    Ok(Server {
        target: Target::Ejabberd,
        addresses: vec!["127.0.0.1:5280".into()],
        pids: vec![pid],
        password: None,
        ready_ms: None,
        children: vec![child],
        scratch: vec![scratch],
        database: None,
    })
}

/// The Erlang VM process whose command line names our spool dir.
fn beam_pid(spool: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline);
            (cmdline.contains("beam.smp") && cmdline.contains(spool)).then_some(pid)
        })
}

fn drain<R: std::io::Read + Send + 'static>(reader: Option<R>) {
    if let Some(reader) = reader {
        std::thread::spawn(move || for _ in BufReader::new(reader).lines() {});
    }
}

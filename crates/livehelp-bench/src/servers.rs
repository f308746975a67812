//! Starting and stopping the servers under test, each pinned to core 0 with `taskset`
//! when the machine has two cores or more, and reading their CPU time and RSS from
//! `/proc/<pid>`.
//!
//! livehelp runs as `livehelp serve --demo` on a free port with a fresh data dir; its
//! JSON log line "livehelp is ready" gives the address. The floor is this binary's
//! `floor-server`; Socket.IO is `node bench/peers/socketio/server.js`; ejabberd is
//! Debian's, run in the foreground with `bench/peers/ejabberd/` configs and its own spool.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::wire::Target;

/// A running server under test.
pub struct Server {
    /// What it is.
    pub target: Target,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The process that does the work (for /proc).
    pub pid: u32,
    /// livehelp: the demo operator's password.
    pub password: Option<String>,
    /// livehelp: milliseconds from start to ready, as the server logged it.
    pub ready_ms: Option<f64>,
    child: Child,
    scratch: Option<PathBuf>,
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

    /// Base URL for HTTP.
    pub fn http(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Base URL for WebSockets.
    pub fn ws(&self) -> String {
        format!("ws://{}", self.address)
    }

    /// CPU time (user + system) of the server process so far, in microseconds.
    pub fn cpu_micros(&self) -> u64 {
        cpu_micros(self.pid)
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid)
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its scratch dir.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = Command::new("kill")
                .args(["-KILL", &self.pid.to_string()])
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(scratch) = self.scratch.take() {
            let _ = std::fs::remove_dir_all(scratch);
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
    if !programs.livehelp.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p livehelp` or pass --livehelp",
            programs.livehelp.display()
        );
    }
    let data_dir = scratch_dir("livehelp")?;
    let mut command = programs.command(&programs.livehelp);
    command
        .arg("serve")
        .arg("--demo")
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--max-connections", "1000000"])
        // The load measures capacity, not abuse protection: a visitor in the `cpu` and
        // `burst` loads sends up to 10 messages a second, over the default limit (2/s).
        .args(["--visitor-messages-per-second", "1000"])
        .args(["--visitor-message-burst", "1000"])
        .arg("--data-dir")
        .arg(&data_dir)
        .env("RUST_LOG", "warn,livehelp=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().context("cannot start livehelp")?;
    let pid = child.id();
    drain(child.stdout.take());
    let stderr = child.stderr.take().context("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (address, ready_ms) = loop {
        if Instant::now() > deadline {
            bail!("livehelp did not log \"livehelp is ready\" within 60 s");
        }
        let Some(line) = lines.next() else {
            bail!("livehelp exited before it was ready");
        };
        let line = line?;
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let fields = &value["fields"];
        if fields["message"] == "livehelp is ready" {
            let address = fields["address"]
                .as_str()
                .context("no address in the ready line")?
                .to_owned();
            break (address, fields["ready_ms"].as_f64());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let password = std::fs::read_to_string(data_dir.join("demo-login.txt"))
        .context("no demo-login.txt in the data dir")?
        .trim()
        .to_owned();
    Ok(Server {
        target: Target::Livehelp,
        address,
        pid,
        password: Some(password),
        ready_ms,
        child,
        scratch: Some(data_dir),
    })
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
        address: format!("127.0.0.1:{port}"),
        pid: child.id(),
        password: None,
        ready_ms: None,
        child,
        scratch: None,
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
        address: "127.0.0.1:5280".into(),
        pid,
        password: None,
        ready_ms: None,
        child,
        scratch: Some(scratch),
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

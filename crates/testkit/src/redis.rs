//! A throwaway Redis per test, on a free port, with nothing saved to disk.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::process::Process;

/// A running Redis that can be restarted on the same port.
#[derive(Debug)]
pub struct Redis {
    port: u16,
    dir: tempfile_dir::Dir,
    process: Option<Process>,
}

impl Redis {
    /// Starts one.
    ///
    /// # Panics
    /// When `redis-server` is missing or does not start: the message says how to install it.
    pub fn start() -> Self {
        let dir = tempfile_dir::Dir::new("redis");
        let port = crate::free_port().unwrap_or_else(|err| panic!("{err}"));
        let mut redis = Self { port, dir, process: None };
        redis.run();
        redis
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL: every connection drops, every message in flight is lost) and starts
    /// it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }

    /// Kills it, leaving it down.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Starts it again after [`Redis::kill`].
    pub fn run(&mut self) {
        let args: Vec<String> = [
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &self.dir.path().display().to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let log = self.dir.path().join("log");
        let process = Process::spawn("redis-server", &args, &log, "KILL").unwrap_or_else(|err| {
            panic!("{err} (the tests need Redis: apt-get install redis-server)")
        });
        self.process = Some(process);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not answer; its log: {}", log.display());
    }

    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// The directory holding its log.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

/// A directory removed when dropped (the crate has no dependencies; this is all it needs).
pub(crate) mod tempfile_dir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    static N: AtomicU32 = AtomicU32::new(0);

    #[derive(Debug)]
    pub(crate) struct Dir(PathBuf);

    impl Dir {
        pub(crate) fn new(what: &str) -> Self {
            let n = N.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join("hubring-testkit")
                .join(format!("{what}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path)
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            Self(path)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

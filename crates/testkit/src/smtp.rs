//! A throwaway SMTP server per test (`smtp_sink.py` on Debian's `python3-aiosmtpd`): it keeps
//! every message it accepts as a file the test reads, and can be told to refuse mail for a
//! while (a temporary 451, as a real server under trouble answers).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::process::Process;
use crate::redis::tempfile_dir;

/// The sink's program, written next to its messages at start.
const SCRIPT: &str = include_str!("smtp_sink.py");

/// A running SMTP sink.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    dir: tempfile_dir::Dir,
    process: Option<Process>,
}

impl SmtpSink {
    /// Starts one on a free port.
    ///
    /// # Panics
    /// When python3's `aiosmtpd` is missing or the sink does not start: the message says how
    /// to install it.
    pub fn start() -> Self {
        let dir = tempfile_dir::Dir::new("smtp");
        let port = crate::free_port().unwrap_or_else(|err| panic!("{err}"));
        let mut sink = Self { port, dir, process: None };
        sink.run();
        sink
    }

    /// Starts it (again) on the same port, keeping the messages received so far.
    pub fn run(&mut self) {
        let script = self.dir.path().join("sink.py");
        std::fs::write(&script, SCRIPT).expect("writing the sink's script");
        let ready = self.dir.path().join("ready");
        let _ = std::fs::remove_file(&ready);
        let args = vec![
            script.display().to_string(),
            self.dir.path().join("mail").display().to_string(),
            self.port.to_string(),
        ];
        std::fs::create_dir_all(self.dir.path().join("mail")).expect("the mail directory");
        let log = self.dir.path().join("log");
        // Debian's own Python, where `python3-aiosmtpd` installs (a `python3` earlier on the
        // PATH, such as pyenv's, does not see Debian's packages).
        let python = if std::path::Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let process = Process::spawn(python, &args, &log, "KILL")
            .unwrap_or_else(|err| panic!("{err} (the tests need python3)"));
        self.process = Some(process);
        let ready = self.dir.path().join("mail").join("ready");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if ready.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the SMTP sink did not start (the tests need aiosmtpd: apt-get install \
             python3-aiosmtpd); its log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Kills it, leaving it down (connections are refused).
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// While `refuse` is true, every message is answered 451 (try again later).
    pub fn refuse(&self, refuse: bool) {
        let flag = self.dir.path().join("mail").join("refuse");
        if refuse {
            std::fs::write(flag, "").expect("the refuse flag");
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// Every message accepted so far, oldest first, as raw text (an `X-Envelope-To:` line,
    /// then the message as received).
    pub fn messages(&self) -> Vec<String> {
        let dir = self.dir.path().join("mail");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }
}

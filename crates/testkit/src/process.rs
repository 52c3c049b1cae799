//! A service process owned by a test: started under `setpriv --pdeathsig`, so it dies with the
//! test process however that ends, and stopped with a chosen signal when its handle drops.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

/// A running service. Dropping it stops it and waits for it.
#[derive(Debug)]
pub struct Process {
    stop: Option<mpsc::Sender<mpsc::Sender<()>>>,
    pid: u32,
}

impl Process {
    /// Runs `program args...` with its output in `log`. `signal` (`KILL`, `TERM`, `QUIT`) is
    /// what stops it, from [`Process::stop`] and if the test process dies.
    ///
    /// # Errors
    /// When it cannot be started.
    pub fn spawn(
        program: &str,
        args: &[String],
        log: &std::path::Path,
        signal: &'static str,
    ) -> Result<Self, String> {
        let log = std::fs::File::create(log).map_err(|err| format!("{}: {err}", log.display()))?;
        let mut command = Command::new("setpriv");
        command
            .args(["--pdeathsig", signal, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|err| err.to_string())?)
            .stderr(log);
        let program = program.to_owned();
        let (started, wait) = mpsc::channel();
        let (stop, stops) = mpsc::channel::<mpsc::Sender<()>>();
        // The parent-death signal follows the thread that spawned the child: this thread lives
        // until the service is stopped.
        std::thread::Builder::new()
            .name(format!("testkit-{program}"))
            .spawn(move || {
                let mut child: Child = match command.spawn() {
                    Ok(child) => child,
                    Err(err) => {
                        let _ = started.send(Err(format!("{program} did not start: {err}")));
                        return;
                    }
                };
                let _ = started.send(Ok(child.id()));
                if let Ok(done) = stops.recv() {
                    let _ = Command::new("kill")
                        .args([format!("-{signal}"), child.id().to_string()])
                        .status();
                    let _ = child.wait();
                    let _ = done.send(());
                } else {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            })
            .map_err(|err| err.to_string())?;
        let pid = wait.recv().map_err(|err| err.to_string())??;
        Ok(Self { stop: Some(stop), pid })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops it with its signal and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let (done, wait) = mpsc::channel();
            if stop.send(done).is_ok() {
                let _ = wait.recv();
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

//! Debian's nginx as the load balancer in front of test nodes, on a free port, configured with
//! the repository's own `deploy/nginx/hubring.conf`.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::process::Process;
use crate::redis::tempfile_dir::Dir;

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    port: u16,
    _process: Process,
    dir: Dir,
}

impl Nginx {
    /// Runs nginx with `site` (the deploy file's text), its upstream set to `nodes`.
    ///
    /// # Panics
    /// When nginx is missing or refuses the configuration: the message says why.
    pub fn start(site: &str, nodes: &[SocketAddr]) -> Self {
        let dir = Dir::new("nginx");
        let port = crate::free_port().unwrap_or_else(|err| panic!("{err}"));
        let site = render(site, port, nodes);
        let root = dir.path();
        std::fs::write(root.join("hubring.conf"), site).expect("write the site");
        std::fs::create_dir_all(root.join("tmp")).expect("nginx temp dir");
        let d = root.display();
        let main = format!(
            "worker_processes 1;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  \
             proxy_temp_path {d}/tmp;\n  fastcgi_temp_path {d}/tmp;\n  \
             uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n  \
             include {d}/hubring.conf;\n}}\n"
        );
        std::fs::write(root.join("nginx.conf"), main).expect("write nginx.conf");
        let program = nginx_binary();
        let args = vec![
            "-p".to_owned(),
            d.to_string(),
            "-c".to_owned(),
            format!("{d}/nginx.conf"),
            "-g".to_owned(),
            "daemon off; master_process on;".to_owned(),
        ];
        // TERM: nginx's master stops its workers before it exits.
        let process = Process::spawn(&program, &args, &root.join("stderr"), "TERM")
            .unwrap_or_else(|err| panic!("{err} (the tests need nginx: apt-get install nginx)"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(root.join("stderr")).unwrap_or_default();
                let err = std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
                panic!("nginx did not start: {log}{err}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, _process: process, dir }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its directory (configuration and logs).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

fn nginx_binary() -> String {
    for candidate in ["/usr/sbin/nginx", "/usr/local/sbin/nginx"] {
        if Path::new(candidate).exists() {
            return candidate.to_owned();
        }
    }
    "nginx".to_owned()
}

/// The deploy file with the test's nodes and port in place of the marked lines.
fn render(site: &str, port: u16, nodes: &[SocketAddr]) -> String {
    let mut out = String::new();
    let mut in_nodes = false;
    let (mut saw_nodes, mut saw_listen) = (false, false);
    for line in site.lines() {
        if line.contains("hubring-test: nodes") {
            in_nodes = true;
            saw_nodes = true;
            for node in nodes {
                out.push_str(&format!("    server {node} max_fails=1 fail_timeout=5s;\n"));
            }
            continue;
        }
        if in_nodes {
            if line.trim_start().starts_with("server ") {
                continue;
            }
            in_nodes = false;
        }
        if line.contains("hubring-test: listen") {
            saw_listen = true;
            out.push_str(&format!("    listen 127.0.0.1:{port};\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(saw_nodes && saw_listen, "the site lacks its `hubring-test:` markers");
    out
}

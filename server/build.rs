//! Builds the web app (`web/`) into the binary: `npm ci` when the lock file changed, `vite build`
//! into `OUT_DIR`, then one gzip and one ETag per file, computed here once instead of on every
//! request. The result is a sorted table (`web_assets.rs`) that `src/web.rs` serves from.
//!
//! `HUBRING_WEB_DIST=DIR` embeds an already built app instead (packagers who build the web app
//! in their own step); nothing else skips the build, so a binary always carries its web app.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let web = manifest.parent().expect("server/ sits in the workspace").join("web");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-env-changed=HUBRING_WEB_DIST");
    for input in [
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }

    let dist = match env::var_os("HUBRING_WEB_DIST") {
        Some(dist) => PathBuf::from(dist),
        None => {
            let dist = out.join("web");
            build_web(&web, &dist);
            dist
        }
    };
    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    files.sort();
    assert!(
        files.iter().any(|(route, _)| route == "/index.html"),
        "{} holds no index.html: not a built web app",
        dist.display()
    );

    let gz_dir = out.join("web-gz");
    fs::create_dir_all(&gz_dir).expect("create OUT_DIR/web-gz");
    let mut table = String::from("&[\n");
    for (idx, (route, path)) in files.iter().enumerate() {
        let body = fs::read(path).expect("read a built web file");
        let etag = format!("\"{}\"", &hex(&Sha256::digest(&body))[..32]);
        let gzip = compressible(route)
            .then(|| gzip(&body))
            .filter(|gz| gz.len() + 64 < body.len())
            .map(|gz| {
                let gz_path = gz_dir.join(format!("{idx}.gz"));
                fs::write(&gz_path, gz).expect("write a gzipped web file");
                format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
            })
            .unwrap_or_else(|| "None".to_owned());
        writeln!(
            table,
            "    WebFile {{ route: {route:?}, mime: {mime:?}, etag: {etag:?}, \
             body: include_bytes!({path:?}), gzip: {gzip} }},",
            mime = mime(route),
            path = path.display().to_string(),
        )
        .expect("write to a String");
    }
    table.push(']');
    fs::write(out.join("web_assets.rs"), table).expect("write web_assets.rs");
}

/// `npm ci` (only when `node_modules` is older than the lock file), then `vite build`.
fn build_web(web: &Path, dist: &Path) {
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    let stale = match (fs::metadata(&lock), fs::metadata(&installed)) {
        (Ok(lock), Ok(installed)) => {
            lock.modified().expect("mtime") > installed.modified().expect("mtime")
        }
        _ => true,
    };
    if stale {
        run(Command::new(npm()).args(["ci", "--no-audit", "--no-fund"]).current_dir(web));
    }
    run(Command::new(npm())
        .args(["exec", "--", "vite", "build", "--emptyOutDir", "--logLevel", "warn", "--outDir"])
        .arg(dist)
        .current_dir(web));
}

fn npm() -> &'static str {
    if cfg!(windows) { "npm.cmd" } else { "npm" }
}

fn run(command: &mut Command) {
    let status = command.status().unwrap_or_else(|err| {
        panic!(
            "building the web app needs Node.js 20.19+ and npm on PATH ({err}); \
             or set HUBRING_WEB_DIST to a built web app"
        )
    });
    assert!(status.success(), "{command:?} failed ({status}): the web app did not build");
}

/// Every file under `dir`, as (route, path), the route starting with `/`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|err| panic!("read {}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            let route = rel.components().fold(String::new(), |mut route, part| {
                route.push('/');
                route.push_str(&part.as_os_str().to_string_lossy());
                route
            });
            files.push((route, path));
        }
    }
}

fn compressible(route: &str) -> bool {
    !matches!(extension(route), "png" | "jpg" | "jpeg" | "gif" | "webp" | "woff2" | "woff" | "gz")
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(body).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

fn extension(route: &str) -> &str {
    route.rsplit_once('.').map_or("", |(_, ext)| ext)
}

fn mime(route: &str) -> &'static str {
    match extension(route) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        write!(s, "{b:02x}").expect("write to a String");
        s
    })
}

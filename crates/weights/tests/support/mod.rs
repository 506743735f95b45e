//! A tiny real HTTP/1.1 server on 127.0.0.1 for download tests: fixed replies per path, a
//! request counter, and replies a real server can give (a file, an error status, a body cut
//! short). Also used by the CLI suite, `crates/cli/tests/it/` (`weights`, `published`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// What the server answers for one path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with these bytes and their `Content-Length`.
    File(Vec<u8>),
    /// This status (e.g. 404) with a short text body.
    Status(u16, &'static str),
    /// 200 announcing `claimed` bytes, sending only `body`, then closing the connection.
    Truncated {
        /// The bytes actually sent.
        body: Vec<u8>,
        /// The `Content-Length` announced.
        claimed: u64,
    },
}

/// A server running in a background thread for the rest of the test process.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base: String,
    requests: Arc<AtomicUsize>,
    stopped: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts serving `routes` (path like `/resnet18-0123abcd.pth` -> reply); other paths get 404.
    pub fn start(routes: Vec<(String, Reply)>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let base = format!("http://{}", listener.local_addr()?);
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let routes: HashMap<String, Reply> = routes.into_iter().collect();
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopped);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stop.load(Ordering::SeqCst) {
                    break; // the listener closes: connections are refused from now on
                }
                counter.fetch_add(1, Ordering::SeqCst);
                // A client that hangs up mid-reply is the client's business.
                let _ = serve(stream, &routes);
            }
        });
        Ok(Self {
            base,
            requests,
            stopped,
            thread: Some(thread),
        })
    }

    /// Stops the server and closes its port (the wake-up connection is not counted).
    pub fn stop(&mut self) -> std::io::Result<()> {
        self.stopped.store(true, Ordering::SeqCst);
        let addr = self.base.trim_start_matches("http://").to_string();
        drop(TcpStream::connect(addr)?);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        Ok(())
    }

    /// How many requests (connections) the server has had.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A base URL where nothing listens: bind a port, then free it.
pub fn refused_base() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    drop(listener);
    Ok(base)
}

fn serve(stream: TcpStream, routes: &HashMap<String, Reply>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let mut out = stream;
    let head = |status: &str, length: u64| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };
    match routes.get(path) {
        Some(Reply::File(bytes)) => {
            out.write_all(head("200 OK", bytes.len() as u64).as_bytes())?;
            out.write_all(bytes)?;
        }
        Some(Reply::Truncated { body, claimed }) => {
            out.write_all(head("200 OK", *claimed).as_bytes())?;
            out.write_all(body)?;
        }
        Some(Reply::Status(code, reason)) => {
            out.write_all(head(&format!("{code} {reason}"), reason.len() as u64).as_bytes())?;
            out.write_all(reason.as_bytes())?;
        }
        None => {
            out.write_all(head("404 Not Found", 9).as_bytes())?;
            out.write_all(b"not found")?;
        }
    }
    out.flush()
}

/// Lowercase hex SHA-256 of `bytes`, for naming test files as torchvision does.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every entry of `dir` (empty when it does not exist), for "nothing was left" checks.
pub fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

//! A loopback HTTP server for tests that check the exact requests a scaler sends: it answers a fixed
//! list of requests, one per connection, and joins to what it received. (`#[path]` module.)
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread::{self, JoinHandle};

/// What the server received for one request: the request line and the headers (names lower-cased), in
/// order.
#[derive(Debug)]
pub struct Received {
    pub request_line: String,
    pub headers: Vec<(String, String)>,
}

impl Received {
    /// Every value of header `name` (lower-case), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Answers `n` requests with `status` and `body`; its base URL, and a handle joining to what it received.
pub fn serve(n: usize, status: u16, body: &'static str) -> (String, JoinHandle<Vec<Received>>) {
    serve_answers(vec![(status, body); n])
}

/// Answers exactly one request with `status` and `body`.
pub fn serve_once(status: u16, body: &'static str) -> (String, JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (base, thread::spawn(move || answer(&listener, status, body)))
}

/// Answers the k-th request with `answers[k]` (status and body), then stops.
pub fn serve_answers(answers: Vec<(u16, &'static str)>) -> (String, JoinHandle<Vec<Received>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        answers
            .into_iter()
            .map(|(status, body)| answer(&listener, status, body))
            .collect()
    });
    (base, handle)
}

/// Accepts one connection, reads its request and answers `status` and `body`.
fn answer(listener: &TcpListener, status: u16, body: &str) -> Received {
    let (stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (n, v) = line.split_once(':').unwrap();
        headers.push((n.to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    Received {
        request_line: request_line.trim_end().to_string(),
        headers,
    }
}

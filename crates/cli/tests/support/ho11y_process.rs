//! A `prescale ho11y` child process on a free loopback port, for the CLI integration tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// `prescale ho11y` without any of ho11y's variables from the test's own environment.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prescale"));
    cmd.arg("ho11y");
    for (k, _) in std::env::vars() {
        if k.starts_with("HO11Y_")
            || k.starts_with("DOWNSTREAM")
            || k == "DISABLE_OM"
            || k.starts_with("OTEL_")
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// A `prescale ho11y` process, killed on drop.
pub struct Ho11y {
    child: Child,
    pub port: u16,
}

impl Drop for Ho11y {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Ho11y {
    /// Starts `prescale ho11y` named `name` on a free port, with no ho11y variable from the test's own
    /// environment, `DISABLE_OM` set and JSON logs on stdout, plus `env`.
    pub fn start(name: &str, env: &[(&str, String)]) -> Self {
        let mut cmd = command();
        cmd.env("HO11Y_PORT", "")
            .env("DISABLE_OM", "on")
            .env("HO11Y_LOG_DEST", "stdout")
            .env("OTEL_RESOURCE_ATTRIB", name);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let prefix = format!("Launching ho11y: I am [{name}] listening on port :");
        // Reads the launch line, then keeps draining the per-request JSON logs so the pipe never fills.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Some(sender) = tx.as_ref() else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let msg = v["message"].as_str().unwrap_or_default();
                if let Some(rest) = msg.strip_prefix(&prefix) {
                    let port = rest.split(' ').next().and_then(|p| p.parse::<u16>().ok());
                    let _ = sender.send(port);
                    tx = None;
                }
            }
        });
        let port = rx.recv_timeout(Duration::from_secs(10)).ok().flatten();
        let mut ho11y = Self { child, port: 0 };
        ho11y.port = port.unwrap_or_else(|| panic!("{name}: no launch line with a port"));
        ho11y
    }

    #[allow(dead_code)] // for the benchmarks
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// `host:port`, for a Prometheus scrape target.
    #[allow(dead_code)] // not every test file scrapes
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

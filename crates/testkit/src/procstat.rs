//! A process's memory and CPU time from `/proc`, and a median, for the benchmarks that measure a child
//! process (`prescale operator`, `prescale ho11y`). Linux only; `None` where `/proc` is missing.

use std::process::Command;

/// `/proc/<pid>/status`: VmRSS, VmHWM, RssAnon, RssFile (bytes) and Threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    pub rss: u64,
    pub hwm: u64,
    pub anon: u64,
    pub file: u64,
    pub threads: u64,
}

pub fn read_mem(pid: u32) -> Option<Mem> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut m = Mem::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let number = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match key {
            "VmRSS" => m.rss = number * 1024,
            "VmHWM" => m.hwm = number * 1024,
            "RssAnon" => m.anon = number * 1024,
            "RssFile" => m.file = number * 1024,
            "Threads" => m.threads = number,
            _ => {}
        }
    }
    Some(m)
}

/// utime + stime of `pid` in clock ticks (see [`clock_ticks`]).
pub fn read_cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start with the state, field 3.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, Linux's usual value, if that fails).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// The median (the upper one for an even count); NaN for no values. Sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_has_memory_and_cpu_time() {
        let pid = std::process::id();
        let m = read_mem(pid).unwrap();
        assert!(m.rss > 0 && m.hwm >= m.rss && m.threads >= 1, "{m:?}");
        assert!(read_cpu_ticks(pid).is_some());
        assert!(clock_ticks() > 0.0);
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(&mut []).is_nan());
    }
}

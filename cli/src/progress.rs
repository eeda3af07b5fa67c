//! Progress of long byte-moving work (backup create/restore): an indicatif bar with
//! bytes, rate, ETA (when the total is known) and chunks on a terminal; a plain log
//! line at most every 10 s otherwise; nothing under `--json` (its summary comes last).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Meter {
    bar: Option<ProgressBar>,
    log: bool,
    label: &'static str,
    total: Option<u64>,
    last_log: Instant,
    pub started: Instant,
}

impl Meter {
    pub fn new(json: bool, label: &'static str, total: Option<u64>) -> Meter {
        let tty = std::io::stderr().is_terminal() && !json;
        let bar = tty.then(|| {
            let b = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let template = if total.is_some() {
                "{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}"
            } else {
                "{spinner} {prefix} {bytes} {bytes_per_sec} {elapsed} {msg}"
            };
            b.set_style(
                ProgressStyle::with_template(template)
                    .expect("template")
                    .progress_chars("=> "),
            );
            b.set_prefix(label);
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Meter {
            bar,
            log: !tty && !json,
            label,
            total,
            last_log: Instant::now(),
            started: Instant::now(),
        }
    }

    /// `bytes` done so far, in `chunks` chunks.
    pub fn set(&mut self, bytes: u64, chunks: u32) {
        if let Some(b) = &self.bar {
            b.set_position(bytes);
            b.set_message(format!("{chunks} chunks"));
        } else if self.log && self.last_log.elapsed() >= Duration::from_secs(10) {
            self.last_log = Instant::now();
            let of = self
                .total
                .map(|t| format!(" of {}", HumanBytes(t)))
                .unwrap_or_default();
            eprintln!(
                "rast: {} {}{of}, {chunks} chunks, {}/s",
                self.label,
                HumanBytes(bytes),
                HumanBytes(self.rate(bytes) as u64)
            );
        }
    }

    /// Bytes per second since the start.
    pub fn rate(&self, bytes: u64) -> f64 {
        bytes as f64 / self.started.elapsed().as_secs_f64().max(1e-6)
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

//! What the benchmark measures besides wall time: the calls the emulator answered, process CPU
//! time and peak resident memory.
//!
//! Calls are counted from the emulator's own `tracing` event for each request it answers
//! (target `timctl::emulator::server`, fields `command`, `status`, `code`), so the counts, and
//! the rate-limit answers among them, are the server's view, not the client's. CPU and memory
//! come from Linux's /proc; elsewhere they are reported as unavailable.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// The emulator's module that logs one event per answered request.
const EMULATOR_TARGET: &str = "timctl::emulator::server";

/// Codes that mean "too many calls" (reference §1.4): per command, generic, whole app.
pub const RATE_LIMIT_CODES: [i64; 5] = [60007, 10006, 60011, 60018, 60019];

/// `get_group_info`'s "answer larger than 1 MB": timctl reads without a filter (every custom
/// key), so groups with long member lists overflow a batch of 50, which it splits in halves and
/// asks again (src/api/read.rs). Expected, so not an error here; reported on its own.
pub const TOO_LARGE: (&str, i64) = ("get_group_info", 10018);

/// Answers by (command, code); an HTTP 502 is code -502.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<(String, i64, u64)>", into = "Vec<(String, i64, u64)>")]
pub struct Calls(BTreeMap<(String, i64), u64>);

impl From<Vec<(String, i64, u64)>> for Calls {
    fn from(list: Vec<(String, i64, u64)>) -> Calls {
        Calls(
            list.into_iter()
                .map(|(command, code, count)| ((command, code), count))
                .collect(),
        )
    }
}

impl From<Calls> for Vec<(String, i64, u64)> {
    fn from(calls: Calls) -> Self {
        calls
            .0
            .into_iter()
            .map(|((command, code), count)| (command, code, count))
            .collect()
    }
}

impl Calls {
    /// The calls answered after `earlier` was taken.
    pub fn since(&self, earlier: &Calls) -> Calls {
        let mut delta = BTreeMap::new();
        for (key, &count) in &self.0 {
            let before = earlier.0.get(key).copied().unwrap_or(0);
            if count > before {
                delta.insert(key.clone(), count - before);
            }
        }
        Calls(delta)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Calls per command, whatever the answer.
    pub fn per_command(&self) -> BTreeMap<String, u64> {
        let mut per = BTreeMap::new();
        for ((command, _), count) in &self.0 {
            *per.entry(command.clone()).or_insert(0) += count;
        }
        per
    }

    /// Calls per command but the [`TOO_LARGE`] answers: the calls a floor counts (a split
    /// batch's halves are needed at that batch size; the answer that was too large is not).
    pub fn per_command_answered(&self) -> BTreeMap<String, u64> {
        let mut per = self.per_command();
        let too_large = self.too_large();
        if let Some(count) = per.get_mut(TOO_LARGE.0) {
            *count -= too_large;
        }
        per.retain(|_, count| *count > 0);
        per
    }

    /// `get_group_info` answers too large, each followed by its two halves.
    pub fn too_large(&self) -> u64 {
        self.0
            .get(&(TOO_LARGE.0.to_owned(), TOO_LARGE.1))
            .copied()
            .unwrap_or(0)
    }

    pub fn rate_limited(&self) -> u64 {
        self.count(|code| RATE_LIMIT_CODES.contains(&code))
    }

    /// Every answer that was not a success, but the [`TOO_LARGE`] ones.
    pub fn errors(&self) -> u64 {
        self.count(|code| code != 0) - self.too_large()
    }

    fn count(&self, pred: impl Fn(i64) -> bool) -> u64 {
        self.0
            .iter()
            .filter(|((_, code), _)| pred(*code))
            .map(|(_, count)| count)
            .sum()
    }

    /// Answers that were not a success, as `command code ×count`.
    pub fn describe_errors(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .filter(|((command, code), _)| *code != 0 && (command.as_str(), *code) != TOO_LARGE)
            .map(|((command, code), count)| format!("{command} {code} x{count}"))
            .collect();
        parts.join(", ")
    }
}

/// A live count of the emulator's answers.
#[derive(Clone, Default)]
pub struct CallCounter {
    calls: Arc<Mutex<Calls>>,
}

impl CallCounter {
    pub fn snapshot(&self) -> Calls {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Installs the counter as the process's `tracing` subscriber, with warnings printed to
    /// stderr.
    pub fn install() -> CallCounter {
        let counter = CallCounter::default();
        let layer = CountLayer(counter.clone())
            .with_filter(Targets::new().with_target(EMULATOR_TARGET, Level::DEBUG));
        tracing_subscriber::registry()
            .with(layer)
            .with(warnings())
            .init();
        counter
    }
}

/// Installs a `tracing` subscriber that prints warnings to stderr, and nothing else.
pub fn install_warnings() {
    tracing_subscriber::registry().with(warnings()).init();
}

fn warnings<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(LevelFilter::WARN)
}

struct CountLayer(CallCounter);

impl<S: Subscriber> Layer<S> for CountLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut answer = Answer::default();
        event.record(&mut answer);
        let Some(command) = answer.command else {
            return;
        };
        let code = match (answer.status, answer.code) {
            (Some(status), _) if status != 200 => -(status as i64),
            (_, code) => code.unwrap_or(0),
        };
        let mut calls = self.0.calls.lock().unwrap_or_else(|p| p.into_inner());
        *calls.0.entry((command, code)).or_insert(0) += 1;
    }
}

/// The fields of one emulator event.
#[derive(Default)]
struct Answer {
    command: Option<String>,
    status: Option<u64>,
    code: Option<i64>,
}

impl Visit for Answer {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "command" {
            self.command = Some(value.to_owned());
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "status" => self.status = Some(value),
            "code" => self.code = i64::try_from(value).ok(),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match field.name() {
            "status" => self.status = u64::try_from(value).ok(),
            "code" => self.code = Some(value),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "command" && self.command.is_none() {
            self.command = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

/// CPU time (user + system) of the whole process so far: every thread, the in-process
/// emulator's included. /proc counts in clock ticks of 10 ms.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces; utime and
    // stime are fields 14 and 15 of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture timctl builds for.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time of the calling thread so far, in nanoseconds' precision.
pub fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Peak resident memory since start or since the last [`reset_peak_memory`], in bytes.
pub fn peak_memory() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// Resident memory now, in bytes.
pub fn memory() -> Option<u64> {
    status_kib("VmRSS:").map(|kib| kib * 1024)
}

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Restarts the peak-memory count from the current resident size (Linux 4.0+). Returns
/// whether it worked; if not, peaks are since the process started.
pub fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

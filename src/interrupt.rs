//! Ctrl-C and SIGTERM during an apply: the first stops new changes, the second aborts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::apply::InFlight;

/// Exit code of a run stopped by a second interrupt (128 + SIGINT).
pub const EXIT_ABORTED: i32 = 130;

/// What the signal handler shares with the applier.
pub struct Interrupt {
    /// Raised by the first Ctrl-C or SIGTERM: no new change starts after it.
    pub cancel: Arc<AtomicBool>,
    /// The calls under way, named when a second signal aborts the run.
    pub in_flight: InFlight,
}

/// Watches for Ctrl-C and SIGTERM. The first raises the cancel flag: the applier starts no
/// new change and lets the changes under way finish, so every group stays as it was or as
/// planned. The second aborts at once with exit code 130, naming the calls that were in
/// flight (each may or may not have taken effect; the next plan shows which).
pub fn cancel_on_signal() -> Interrupt {
    let interrupt = Interrupt {
        cancel: Arc::new(AtomicBool::new(false)),
        in_flight: InFlight::default(),
    };
    let raised = Arc::clone(&interrupt.cancel);
    let in_flight = interrupt.in_flight.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!(
            "timctl: interrupted: finishing the changes under way, starting no new ones (interrupt again to abort at once)"
        );
        raised.store(true, Ordering::SeqCst);
        shutdown_signal().await;
        let calls = in_flight.describe();
        if calls.is_empty() {
            eprintln!("timctl: aborted; no call was in flight.");
        } else {
            eprintln!(
                "timctl: aborted with {} in flight; each may or may not have taken effect, and the next `timctl plan` shows what is left:",
                crate::render::plural(calls.len() as u64, "call", "calls")
            );
            for call in calls {
                eprintln!("  {call}");
            }
        }
        std::process::exit(EXIT_ABORTED);
    });
    interrupt
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

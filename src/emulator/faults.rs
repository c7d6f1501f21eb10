//! Test knobs that make the emulator misbehave like a real network and service: added latency,
//! a fraction of calls answered 10002 or HTTP 502 without being applied, and a fraction applied
//! but answered HTTP 502 (the response is "lost", which is what makes retries unsafe).
//!
//! Rates are drawn per request; tests that need determinism queue one-shot faults for a command
//! with `Emulator::fail_next`, which take precedence over the random draw.

use std::collections::VecDeque;
use std::time::Duration;

use super::wire::Command;

/// The random fault knobs, changeable at runtime (`Emulator::set_faults`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Added before every request is handled.
    pub latency: Duration,
    /// Fraction of calls answered `ErrorCode` 10002 (internal error) without being applied.
    pub fail_rate: f64,
    /// Fraction of calls answered HTTP 502 without being applied.
    pub fail_502_rate: f64,
    /// Fraction of calls applied (and made durable) but answered HTTP 502.
    pub drop_response_rate: f64,
}

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `ErrorCode` 10002, nothing applied.
    Internal,
    /// HTTP 502, nothing applied.
    BadGateway,
    /// The call is applied, then answered HTTP 502 as if the response were lost.
    DropResponse,
}

#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub faults: Faults,
    queued: VecDeque<(Command, Fault)>,
}

impl FaultState {
    pub fn new(faults: Faults) -> FaultState {
        FaultState {
            faults,
            queued: VecDeque::new(),
        }
    }

    pub fn queue(&mut self, command: Command, fault: Fault) {
        self.queued.push_back((command, fault));
    }

    /// The fault for this call of `command`, if any: a queued one first, then a random draw.
    pub fn pick(&mut self, command: Command) -> Option<Fault> {
        if let Some(at) = self.queued.iter().position(|(c, _)| *c == command) {
            return self.queued.remove(at).map(|(_, fault)| fault);
        }
        let f = self.faults;
        if f.fail_rate + f.fail_502_rate + f.drop_response_rate <= 0.0 {
            return None;
        }
        let draw: f64 = rand::random();
        let mut threshold = 0.0;
        for (rate, fault) in [
            (f.fail_rate, Fault::Internal),
            (f.fail_502_rate, Fault::BadGateway),
            (f.drop_response_rate, Fault::DropResponse),
        ] {
            threshold += rate;
            if draw < threshold {
                return Some(fault);
            }
        }
        None
    }
}

/// Checks that a rate is a fraction.
pub fn check_rate(name: &str, rate: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("{name} must be between 0 and 1, not {rate}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_come_first_and_only_for_their_command() {
        let mut state = FaultState::new(Faults::default());
        state.queue(Command::ImportGroup, Fault::DropResponse);
        assert_eq!(state.pick(Command::GetGroupInfo), None);
        assert_eq!(state.pick(Command::ImportGroup), Some(Fault::DropResponse));
        assert_eq!(state.pick(Command::ImportGroup), None);
    }

    #[test]
    fn certain_rates_always_fire() {
        let mut state = FaultState::new(Faults {
            fail_502_rate: 1.0,
            ..Faults::default()
        });
        assert!((0..50).all(|_| state.pick(Command::DestroyGroup) == Some(Fault::BadGateway)));
        state.faults = Faults {
            fail_rate: 1.0,
            ..Faults::default()
        };
        assert!((0..50).all(|_| state.pick(Command::DestroyGroup) == Some(Fault::Internal)));
        state.faults = Faults::default();
        assert!((0..50).all(|_| state.pick(Command::DestroyGroup).is_none()));
    }
}

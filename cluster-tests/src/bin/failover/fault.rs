//! The faults `failover` injects, by name, with the longest gap aimed at for each.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Kill,
    Pause,
    Isolate,
    Transfer,
    Rtt150,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::Kill,
        Fault::Pause,
        Fault::Isolate,
        Fault::Transfer,
        Fault::Rtt150,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Pause => "pause",
            Fault::Isolate => "isolate",
            Fault::Transfer => "transfer",
            Fault::Rtt150 => "rtt150",
        }
    }

    pub fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The longest gap we aim for, if there is one.
    pub fn target(self) -> Option<Duration> {
        match self {
            Fault::Kill | Fault::Pause | Fault::Isolate => Some(Duration::from_millis(1500)),
            Fault::Transfer => Some(Duration::from_millis(300)),
            Fault::Rtt150 => None,
        }
    }
}

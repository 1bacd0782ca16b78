//! Where a plan runs. Both backends execute the same [`Plan`](crate::Plan) through the
//! [`Op`](crate::ops::Op) interface and know no op by name.

pub mod cpu;
pub mod gpu;

use std::fmt;
use std::str::FromStr;

/// Which backend an [`Engine`](crate::Engine) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// A hardware GPU adapter when there is one, else the CPU. Never a
    /// software GPU adapter such as llvmpipe: the CPU backend beats it.
    #[default]
    Auto,
    /// The GPU backend, on a software adapter (llvmpipe) when no hardware
    /// one exists; an error when there is no adapter at all.
    Gpu,
    /// The CPU backend (rayon).
    Cpu,
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Backend::Auto),
            "gpu" => Ok(Backend::Gpu),
            "cpu" => Ok(Backend::Cpu),
            other => Err(format!(
                "unknown backend \"{other}\" (allowed: auto, gpu, cpu)"
            )),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Gpu => "gpu",
            Backend::Cpu => "cpu",
        })
    }
}

//! Repeated JPEG generations with a decaying quality: each generation is a
//! full round trip of `compression`'s codec, and on the GPU every
//! generation runs in the same command buffer with no readback in between.
//! No shader of its own: it dispatches `shaders/compression/`.

use serde::{Deserialize, Serialize};

use super::compression::{self, Jpeg, Rect, Source};
use super::{Allowed, FrameCtx, GpuWork, Op, OpParams, Param, ParamError};
use crate::frame::{Frame, Size};

/// How quality moves from `quality_start` to `quality_end` over the generations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    #[default]
    Fixed,
    Linear,
    Exponential,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiCompress {
    pub iterations: u32,
    pub quality_start: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_end: Option<u32>,
    #[serde(default)]
    pub decay: Decay,
    #[serde(default = "compression::default_subsampling")]
    pub subsampling: u32,
}

const ITERATIONS: Param = Param {
    name: "iterations",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 50.0),
    doc: "number of JPEG generations",
};
const QUALITY_START: Param = Param {
    name: "quality_start",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 100.0),
    doc: "quality of the first generation",
};
const QUALITY_END: Param = Param {
    name: "quality_end",
    ty: "integer",
    default: Some("quality_start"),
    allowed: Allowed::Range(1.0, 100.0),
    doc: "quality of the last generation; below quality_start, required unless decay is fixed",
};
const DECAY: Param = Param {
    name: "decay",
    ty: "word",
    default: Some("fixed"),
    allowed: Allowed::OneOf(&["fixed", "linear", "exponential"]),
    doc: "fixed: quality_start throughout; linear or exponential from start to end",
};

impl OpParams for MultiCompress {
    const NAME: &'static str = "multi_compress";
    const SUMMARY: &'static str = "repeated JPEG round trips (generation loss) with fixed, linear or exponential quality decay";
    const PARAMS: &'static [Param] = &[
        ITERATIONS,
        QUALITY_START,
        QUALITY_END,
        DECAY,
        compression::SUBSAMPLING,
    ];

    fn validate(&self) -> Result<(), ParamError> {
        ITERATIONS.check(self.iterations.into())?;
        QUALITY_START.check(self.quality_start.into())?;
        compression::SUBSAMPLING.check(self.subsampling.into())?;
        if self.decay == Decay::Fixed {
            return Ok(());
        }
        let end = self
            .quality_end
            .ok_or(QUALITY_END.missing("required when decay is linear or exponential"))?;
        QUALITY_END.check(end.into())?;
        if end >= self.quality_start {
            return Err(ParamError {
                allowed: format!("< quality_start ({})", self.quality_start),
                ..QUALITY_END.error(end)
            });
        }
        Ok(())
    }
}

impl MultiCompress {
    /// The quality of each generation, as the reference computes it
    /// (truncating toward zero).
    pub fn qualities(&self) -> Vec<u32> {
        let n = self.iterations.max(1);
        let qs = f64::from(self.quality_start);
        let qe = f64::from(self.quality_end.unwrap_or(self.quality_start));
        let k = -(qe / qs).ln();
        (0..n)
            .map(|i| {
                // A single generation sits at the start: t = 0 gives qs exactly.
                let t = if n == 1 {
                    0.0
                } else {
                    f64::from(i) / f64::from(n - 1)
                };
                match self.decay {
                    Decay::Fixed => self.quality_start,
                    Decay::Linear => (qs + (qe - qs) * t) as u32,
                    Decay::Exponential => ((qs * (-k * t).exp()) as u32).max(1),
                }
            })
            .collect()
    }
}

impl Op for MultiCompress {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let rect = Rect::whole(out.size());
        for (i, q) in self.qualities().into_iter().enumerate() {
            let src = (i == 0).then_some(inputs[0]);
            Jpeg::new(q, self.subsampling).round_trip(src, out, rect);
        }
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], _out: Size) -> GpuWork {
        let size = inputs[0];
        let rects = [Rect::whole(size)];
        let mut work = GpuWork::default();
        for (i, q) in self.qualities().into_iter().enumerate() {
            let from = if i == 0 {
                Source::Input
            } else {
                Source::Output
            };
            Jpeg::new(q, self.subsampling).push_round_trip(&mut work, size, &rects, from);
        }
        work
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(decay: Decay, n: u32, qs: u32, qe: u32) -> Vec<u32> {
        MultiCompress {
            iterations: n,
            quality_start: qs,
            quality_end: Some(qe),
            decay,
            subsampling: 2,
        }
        .qualities()
    }

    #[test]
    fn decay_schedules_match_the_spec() {
        // The check values of the reference's specification.
        assert_eq!(
            schedule(Decay::Exponential, 5, 60, 20),
            [60, 45, 34, 26, 20]
        );
        assert_eq!(schedule(Decay::Linear, 5, 90, 10), [90, 70, 50, 30, 10]);
        assert_eq!(schedule(Decay::Linear, 4, 50, 40), [50, 46, 43, 40]);
        assert_eq!(schedule(Decay::Fixed, 3, 30, 99), [30, 30, 30]);
        assert_eq!(schedule(Decay::Exponential, 1, 60, 20), [60]);
    }

    #[test]
    fn quality_end_must_be_below_start_unless_fixed() {
        let mut m = MultiCompress {
            iterations: 3,
            quality_start: 40,
            quality_end: Some(40),
            decay: Decay::Linear,
            subsampling: 2,
        };
        let e = m.validate().unwrap_err();
        assert_eq!(
            (e.param, e.allowed.as_str()),
            ("quality_end", "< quality_start (40)")
        );
        m.quality_end = None;
        assert!(m.validate().unwrap_err().allowed.contains("required"));
        m.decay = Decay::Fixed;
        assert!(m.validate().is_ok());
    }
}

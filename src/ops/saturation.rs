//! Scales colour saturation as the HSV hexcone defines it, keeping hue and
//! value. Twin: `shaders/saturation.wgsl`.

use serde::{Deserialize, Serialize};

use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError, par_rows};
use crate::frame::{Frame, Size, pack_rgba, unpack_rgba};

/// `fixed` uses `value`; `random` draws from `range` once per frame (seeded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Fixed,
    Random,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saturation {
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
}

const MODE: Param = Param {
    name: "mode",
    ty: "word",
    default: None,
    allowed: Allowed::OneOf(&["fixed", "random"]),
    doc: "fixed: use `value`; random: draw from `range` (seeded)",
};
const VALUE: Param = Param {
    name: "value",
    ty: "number",
    default: None,
    allowed: Allowed::AtLeast(-1.0),
    doc: "added to 1 to give the factor: 0 keeps, -1 greys out, 1.5 gives 2.5x",
};
const RANGE: Param = Param {
    name: "range",
    ty: "(min, max)",
    default: None,
    allowed: Allowed::AtLeast(-1.0),
    doc: "random mode: value drawn uniformly in [min, max), min < max",
};

impl OpParams for Saturation {
    const NAME: &'static str = "saturation";
    const SUMMARY: &'static str = "scale HSV saturation by 1 + value; hue, value and alpha kept";
    const PARAMS: &'static [Param] = &[MODE, VALUE, RANGE];

    fn validate(&self) -> Result<(), ParamError> {
        match self.mode {
            Mode::Fixed => VALUE.check(
                self.value
                    .ok_or(VALUE.missing("required when mode is fixed"))?,
            ),
            Mode::Random => {
                let (lo, hi) = self
                    .range
                    .ok_or(RANGE.missing("required when mode is random"))?;
                RANGE
                    .check(lo)
                    .map_err(|_| RANGE.error(format!("({lo}, {hi})")))?;
                if !(hi.is_finite() && lo < hi) {
                    return Err(ParamError {
                        allowed: "min < max".into(),
                        ..RANGE.error(format!("({lo}, {hi})"))
                    });
                }
                Ok(())
            }
        }
    }
}

impl Saturation {
    /// The factor applied to S for this frame.
    fn factor(&self, ctx: &FrameCtx) -> f32 {
        match (self.mode, self.value, self.range) {
            (Mode::Fixed, Some(v), _) => (1.0 + v).max(0.0) as f32,
            (Mode::Random, _, Some((lo, hi))) => (1.0 + ctx.key.stream().uniform(lo, hi)) as f32,
            _ => 1.0,
        }
    }
}

/// With H and V fixed, every channel is linear in S: `c = v - (v - c0)·S/S0`.
/// So scaling S by `k` (clamped to S ≤ 1) scales each channel's distance
/// from V by `min(k, 1/S0)`, with no trip through hue.
/// Gray pixels (`hi == lo`) come back unchanged through ratio 0; written
/// without an early return so that a row of pixels vectorizes.
#[inline(always)]
fn scale_saturation(c: [f32; 4], k: f32) -> [f32; 4] {
    let hi = c[0].max(c[1]).max(c[2]);
    let lo = c[0].min(c[1]).min(c[2]);
    let ratio = if hi > lo { k.min(hi / (hi - lo)) } else { 0.0 };
    [
        hi - (hi - c[0]) * ratio,
        hi - (hi - c[1]) * ratio,
        hi - (hi - c[2]) * ratio,
        c[3],
    ]
}

avx2_twin!(saturate_row => saturate_row_inner(line: &[u32], k: f32, row: &mut [u32]));

#[inline(always)]
fn saturate_row_inner(line: &[u32], k: f32, row: &mut [u32]) {
    for (o, &p) in row.iter_mut().zip(line) {
        *o = pack_rgba(scale_saturation(unpack_rgba(p), k));
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    factor: f32,
    pad: u32,
}

impl Op for Saturation {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let k = self.factor(ctx);
        let src = inputs[0];
        let width = src.width() as usize;
        par_rows(out, |y, row| {
            saturate_row(&src.pixels()[y as usize * width..][..width], k, row)
        });
    }

    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let u = Uniforms {
            width: inputs[0].width,
            height: inputs[0].height,
            factor: self.factor(ctx),
            pad: 0,
        };
        GpuWork::per_pixel(
            "saturation",
            out,
            vec![
                (0, Binding::uniform(&u)),
                (1, Binding::Input(0)),
                (2, Binding::Output),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_factor_keeps_every_pixel() {
        for p in [
            [10.0, 200.0, 30.0, 255.0],
            [0.0, 0.0, 1.0, 7.0],
            [5.0, 5.0, 5.0, 0.0],
        ] {
            assert_eq!(scale_saturation(p, 1.0), p);
        }
    }

    #[test]
    fn zero_factor_gives_gray_at_value() {
        assert_eq!(
            scale_saturation([10.0, 200.0, 30.0, 9.0], 0.0),
            [200.0, 200.0, 200.0, 9.0]
        );
    }

    #[test]
    fn saturation_is_clamped_at_full() {
        // S0 = 0.5; k = 4 would give S = 2, clamped to 1: the minimum goes to 0.
        assert_eq!(
            scale_saturation([100.0, 50.0, 75.0, 1.0], 4.0),
            [100.0, 0.0, 50.0, 1.0]
        );
    }

    #[test]
    fn validation_names_the_parameter() {
        let s = Saturation {
            mode: Mode::Fixed,
            value: Some(-2.0),
            range: None,
        };
        assert_eq!(s.validate().unwrap_err().param, "value");
        let s = Saturation {
            mode: Mode::Random,
            value: None,
            range: Some((0.5, 0.1)),
        };
        assert_eq!(s.validate().unwrap_err().allowed, "min < max");
        let s = Saturation {
            mode: Mode::Fixed,
            value: None,
            range: None,
        };
        assert!(s.validate().unwrap_err().allowed.contains("required"));
    }
}

//! Pixelation: resample down by `scale`, then (by default) back up to the
//! original size with another filter. Two `resize` runs; it has no shader of
//! its own and runs `shaders/resize.wgsl`.

use serde::{Deserialize, Serialize};

use super::resize::{FILTERS, Filter, passes, resample, scaled, scratch_bytes};
use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError};
use crate::frame::{Frame, Size};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Downscale {
    pub scale: f64,
    #[serde(default = "yes")]
    pub upscale: bool,
    #[serde(default = "bicubic")]
    pub downscale_method: Filter,
    #[serde(default = "nearest")]
    pub upscale_method: Filter,
}

fn yes() -> bool {
    true
}
fn bicubic() -> Filter {
    Filter::Bicubic
}
fn nearest() -> Filter {
    Filter::Nearest
}

const SCALE: Param = Param {
    name: "scale",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.01, 1.0),
    doc: "factor for the small image; sides are truncated, at least 1 (use `resize` to enlarge)",
};
const UPSCALE: Param = Param {
    name: "upscale",
    ty: "bool",
    default: Some("true"),
    allowed: Allowed::Any,
    doc: "resize back to the input size",
};
const DOWNSCALE_METHOD: Param = Param {
    name: "downscale_method",
    ty: "word",
    default: Some("bicubic"),
    allowed: Allowed::OneOf(FILTERS),
    doc: "filter for the reduction (antialiased)",
};
const UPSCALE_METHOD: Param = Param {
    name: "upscale_method",
    ty: "word",
    default: Some("nearest"),
    allowed: Allowed::OneOf(FILTERS),
    doc: "filter for the way back up",
};

impl OpParams for Downscale {
    const NAME: &'static str = "downscale";
    const SUMMARY: &'static str =
        "pixelate: resample down by scale, then back up to the input size";
    const PARAMS: &'static [Param] = &[SCALE, UPSCALE, DOWNSCALE_METHOD, UPSCALE_METHOD];

    fn validate(&self) -> Result<(), ParamError> {
        SCALE.check(self.scale)
    }
}

impl Op for Downscale {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(if self.upscale {
            inputs[0]
        } else {
            scaled(inputs[0], self.scale)
        })
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        if !self.upscale {
            return resample(inputs[0], out, self.downscale_method);
        }
        let mut small = Frame::new(scaled(inputs[0].size(), self.scale));
        resample(inputs[0], &mut small, self.downscale_method);
        resample(&small, out, self.upscale_method);
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let input = inputs[0];
        if !self.upscale {
            return GpuWork {
                scratch: vec![scratch_bytes(input, out, self.downscale_method)],
                passes: passes(
                    Binding::Input(0),
                    Binding::Output,
                    Binding::Scratch(0),
                    input,
                    out,
                    self.downscale_method,
                ),
            };
        }
        let small = scaled(input, self.scale);
        let mut all = passes(
            Binding::Input(0),
            Binding::Scratch(1),
            Binding::Scratch(0),
            input,
            small,
            self.downscale_method,
        );
        all.extend(passes(
            Binding::Scratch(1),
            Binding::Output,
            Binding::Scratch(0),
            small,
            out,
            self.upscale_method,
        ));
        GpuWork {
            scratch: vec![
                scratch_bytes(input, small, self.downscale_method).max(scratch_bytes(
                    small,
                    out,
                    self.upscale_method,
                )),
                small.pixels() as u64 * 4,
            ],
            passes: all,
        }
    }
}

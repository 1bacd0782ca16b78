//! Detector striping: `trunc(density·lines)` distinct columns (or rows),
//! each with its own gain in `[1 − 0.2·strength, 1 + 0.2·strength]`. Lines
//! and gains are drawn on the CPU from the step's seed and handed to both
//! backends as a table of 16.16 fixed-point gains, one per line, so the
//! multiply is integer arithmetic on both. Twin: `shaders/corduroy.wgsl`.

use serde::{Deserialize, Serialize};

use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError, par_rows};
use crate::frame::{Frame, Size};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Striped columns.
    Vertical,
    /// Striped rows.
    Horizontal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corduroy {
    pub strength: f64,
    pub orientation: Orientation,
    pub density: f64,
}

const STRENGTH: Param = Param {
    name: "strength",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1.0),
    doc: "gains are uniform in 1 ± 0.2·strength",
};
const ORIENTATION: Param = Param {
    name: "orientation",
    ty: "word",
    default: None,
    allowed: Allowed::OneOf(&["vertical", "horizontal"]),
    doc: "vertical: columns are striped; horizontal: rows",
};
const DENSITY: Param = Param {
    name: "density",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1.0),
    doc: "fraction of the lines that get a gain (truncated), chosen without repeats",
};

impl OpParams for Corduroy {
    const NAME: &'static str = "corduroy";
    const SUMMARY: &'static str =
        "detector striping: a random gain on random distinct columns or rows; alpha kept";
    const PARAMS: &'static [Param] = &[STRENGTH, ORIENTATION, DENSITY];

    fn validate(&self) -> Result<(), ParamError> {
        STRENGTH.check(self.strength)?;
        DENSITY.check(self.density)
    }
}

/// A gain of 1 in 16.16 fixed point.
const UNIT: u32 = 1 << 16;

impl Corduroy {
    fn lines(&self, size: Size) -> u32 {
        match self.orientation {
            Orientation::Vertical => size.width,
            Orientation::Horizontal => size.height,
        }
    }

    /// The striped lines and their 16.16 gains: a partial Fisher–Yates
    /// shuffle picks `trunc(density·lines)` distinct lines, each then
    /// drawing its gain.
    fn picks(&self, ctx: &FrameCtx, size: Size) -> Vec<(u32, u32)> {
        let lines = self.lines(size);
        let n = (self.density * f64::from(lines)) as u32;
        let mut rng = ctx.key.stream();
        let mut order: Vec<u32> = (0..lines).collect();
        let spread = 0.2 * self.strength;
        (0..n)
            .map(|i| {
                let j = i + rng.below(lines - i);
                order.swap(i as usize, j as usize);
                let g = rng.uniform(1.0 - spread, 1.0 + spread);
                (order[i as usize], (g * f64::from(UNIT)).round() as u32)
            })
            .collect()
    }

    /// The gain of every line, `UNIT` where the line is untouched.
    fn gains(&self, ctx: &FrameCtx, size: Size) -> Vec<u32> {
        let mut gains = vec![UNIT; self.lines(size) as usize];
        for (line, g) in self.picks(ctx, size) {
            gains[line as usize] = g;
        }
        gains
    }
}

/// `v·gain` rounded half up and clipped, on the colour channels; alpha kept.
#[inline(always)]
fn scale(p: u32, gain: u32) -> u32 {
    let ch = |i: u32| (((p >> (8 * i)) & 0xff) * gain + (1 << 15)).min(255 << 16) >> 16 << (8 * i);
    ch(0) | ch(1) | ch(2) | (p & 0xff00_0000)
}

avx2_twin!(scale_row => scale_row_inner(line: &[u32], gains: &[u32], row: &mut [u32]));

#[inline(always)]
fn scale_row_inner(line: &[u32], gains: &[u32], row: &mut [u32]) {
    for ((o, &p), &g) in row.iter_mut().zip(line).zip(gains) {
        *o = scale(p, g);
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    vertical: u32,
    pad: u32,
}

impl Op for Corduroy {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let gains = self.gains(ctx, out.size());
        let src = inputs[0];
        let width = src.width() as usize;
        let vertical = self.orientation == Orientation::Vertical;
        par_rows(out, |y, row| {
            let line = &src.pixels()[y as usize * width..][..width];
            if vertical {
                scale_row(line, &gains, row);
            } else {
                let g = gains[y as usize];
                for (o, &p) in row.iter_mut().zip(line) {
                    *o = scale(p, g);
                }
            }
        });
    }

    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let u = Uniforms {
            width: out.width,
            height: out.height,
            vertical: u32::from(self.orientation == Orientation::Vertical),
            pad: 0,
        };
        GpuWork::per_pixel(
            "corduroy",
            out,
            vec![
                (0, Binding::uniform(&u)),
                (1, Binding::data(&self.gains(ctx, inputs[0]))),
                (2, Binding::Input(0)),
                (3, Binding::Output),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RngKey;

    fn op(strength: f64, orientation: Orientation, density: f64) -> Corduroy {
        Corduroy {
            strength,
            orientation,
            density,
        }
    }

    fn ctx(seed: u64) -> FrameCtx {
        FrameCtx {
            key: RngKey::new(seed, 0, 0),
        }
    }

    #[test]
    fn line_count_is_truncated_density_and_lines_are_distinct() {
        let size = Size::new(1920, 1080);
        // 0.5·1920; trunc(0.333·1080 = 359.64); trunc(0.999·1080 = 1078.92).
        let cases = [
            (Orientation::Vertical, 0.5, 960, 1920),
            (Orientation::Horizontal, 0.333, 359, 1080),
            (Orientation::Horizontal, 0.999, 1078, 1080),
            (Orientation::Vertical, 1.0, 1920, 1920),
            (Orientation::Vertical, 0.0, 0, 1920),
        ];
        for (orientation, density, want, lines) in cases {
            for seed in 0..3 {
                let mut picked: Vec<u32> = op(1.0, orientation, density)
                    .picks(&ctx(seed), size)
                    .iter()
                    .map(|&(line, _)| line)
                    .collect();
                assert_eq!(picked.len(), want, "{orientation:?} {density}");
                picked.sort();
                picked.dedup();
                assert_eq!(picked.len(), want, "{orientation:?} {density}: repeats");
                assert!(picked.iter().all(|&l| l < lines));
            }
        }
    }

    #[test]
    fn gains_stay_in_their_interval() {
        let gains = op(0.5, Orientation::Vertical, 1.0).gains(&ctx(1), Size::new(4000, 1));
        // 1 ± 0.1 in 16.16: 58982.4 ..= 72089.6.
        assert!(gains.iter().all(|&g| (58982..=72090).contains(&g)));
        assert!(gains.iter().any(|&g| g < 60000) && gains.iter().any(|&g| g > 71000));
    }

    #[test]
    fn scale_rounds_half_up_clips_and_keeps_alpha() {
        // 101·0.5 = 50.5 -> 51; 200·1.2 = 240; 250·1.2 = 300 -> 255.
        let p = 0x33_fa_c8_65;
        let half = scale(p, UNIT / 2);
        assert_eq!(half, 0x33_7d_64_33);
        let g = (1.2 * f64::from(UNIT)).round() as u32; // 78643 = 1.2000122
        assert_eq!(scale(p, g), 0x33_ff_f0_79); // 101·1.2000122 = 121.2
        assert_eq!(scale(p, UNIT), p);
    }
}

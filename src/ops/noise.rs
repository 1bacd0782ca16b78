//! Sensor noise added to the colour channels: `gaussian` draws N(0, amount)
//! per pixel and channel, `row` one uniform(-amount, amount) value per row
//! and channel, `column` likewise per column; in 0..1 units, clipped, alpha
//! untouched. A gray frame gets the same draw on all three channels, so it
//! stays gray. Draws come from the shared counter-based RNG, so a seed
//! gives the same picture on both backends. Twin: `shaders/noise.wgsl`.

use serde::{Deserialize, Serialize};

use super::gray_frame::is_gray;
use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, par_rows,
};
use crate::frame::{Frame, Size, pack_rgb, unpack_rgba};
use crate::rng::{RngKey, gaussian_pair, unit_f32};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Gaussian,
    Row,
    Column,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    pub mode: Mode,
    pub amount: f64,
}

const MODE: Param = Param {
    name: "mode",
    ty: "word",
    default: None,
    allowed: Allowed::OneOf(&["gaussian", "row", "column"]),
    doc: "gaussian: per pixel and channel; row / column: one uniform value per row / column and channel",
};
const AMOUNT: Param = Param {
    name: "amount",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1.0),
    doc: "gaussian: standard deviation; row / column: half-width of the uniform range (1 = full scale)",
};

impl OpParams for Noise {
    const NAME: &'static str = "noise";
    const SUMMARY: &'static str =
        "additive sensor noise (gaussian, row or column), seeded; alpha kept, gray stays gray";
    const PARAMS: &'static [Param] = &[MODE, AMOUNT];

    fn validate(&self) -> Result<(), ParamError> {
        AMOUNT.check(self.amount)
    }
}

/// Draw indices of `random4`: one per mode, so the modes never share bits.
const DRAW_GAUSSIAN: u32 = 0;
const DRAW_ROW: u32 = 1;
const DRAW_COLUMN: u32 = 2;

/// Uniform in [-1, 1) from a random word; exact in f32 on both sides.
#[inline(always)]
fn signed_unit(bits: u32) -> f32 {
    2.0 * unit_f32(bits) - 1.0
}

/// Row or column offsets of the three channels, in [-1, 1).
fn line_noise(key: RngKey, x: u32, y: u32, draw: u32) -> [f32; 3] {
    let w = key.random4(x, y, draw);
    [signed_unit(w[0]), signed_unit(w[1]), signed_unit(w[2])]
}

/// Standard normal draws of the three channels of pixel (x, y).
#[inline(always)]
fn pixel_noise(key: RngKey, x: u32, y: u32) -> [f32; 3] {
    let w = key.random4(x, y, DRAW_GAUSSIAN);
    let [a, b] = gaussian_pair(w[0], w[1]);
    let [c, _] = gaussian_pair(w[2], w[3]);
    [a, b, c]
}

/// `c + scale·n` on the colour channels, with channel 0's draw on all three
/// for a gray frame; alpha kept.
#[inline(always)]
fn add_noise(p: u32, n: [f32; 3], scale: f32, gray: bool) -> u32 {
    let n = if gray { [n[0]; 3] } else { n };
    add_offsets(p, n.map(|n| scale * n))
}

/// `c + offset` on the colour channels, alpha kept.
#[inline(always)]
fn add_offsets(p: u32, o: [f32; 3]) -> u32 {
    let c = unpack_rgba(p);
    pack_rgb(c[0] + o[0], c[1] + o[1], c[2] + o[2]) | (p & 0xff00_0000)
}

avx2_twin!(gaussian_row => gaussian_row_inner(
    key: RngKey,
    y: u32,
    line: &[u32],
    scale: f32,
    gray: bool,
    row: &mut [u32],
));

/// One row of Gaussian noise: branch-free per pixel, so it vectorizes.
#[inline(always)]
fn gaussian_row_inner(key: RngKey, y: u32, line: &[u32], scale: f32, gray: bool, row: &mut [u32]) {
    for (x, (o, &p)) in row.iter_mut().zip(line).enumerate() {
        *o = add_noise(p, pixel_noise(key, x as u32, y), scale, gray);
    }
}

avx2_twin!(offset_row => offset_row_inner(line: &[u32], o: [f32; 3], row: &mut [u32]));

/// One row of row noise: the same offsets all along.
#[inline(always)]
fn offset_row_inner(line: &[u32], o: [f32; 3], row: &mut [u32]) {
    for (q, &p) in row.iter_mut().zip(line) {
        *q = add_offsets(p, o);
    }
}

avx2_twin!(column_row => column_row_inner(line: &[u32], columns: &[[f32; 3]], row: &mut [u32]));

/// One row of column noise: each column's offsets.
#[inline(always)]
fn column_row_inner(line: &[u32], columns: &[[f32; 3]], row: &mut [u32]) {
    for ((q, &p), &o) in row.iter_mut().zip(line).zip(columns) {
        *q = add_offsets(p, o);
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    mode: u32,
    scale: f32,
    key: [u32; 4],
}

impl Noise {
    /// Noise in levels per unit draw: amount is in 0..1 units of full scale.
    fn scale(&self) -> f32 {
        (255.0 * self.amount) as f32
    }
}

impl Op for Noise {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let src = inputs[0];
        let gray = is_gray(src);
        let (key, scale, mode) = (ctx.key, self.scale(), self.mode);
        let width = src.width() as usize;
        // Offsets in levels, `scale·n` as the shader computes them per pixel.
        let offsets = |n: [f32; 3]| {
            let n = if gray { [n[0]; 3] } else { n };
            n.map(|n| scale * n)
        };
        let columns: Vec<[f32; 3]> = match mode {
            Mode::Column => (0..width as u32)
                .map(|x| offsets(line_noise(key, x, 0, DRAW_COLUMN)))
                .collect(),
            _ => vec![],
        };
        par_rows(out, |y, row| {
            let line = &src.pixels()[y as usize * width..][..width];
            match mode {
                Mode::Gaussian => gaussian_row(key, y, line, scale, gray, row),
                Mode::Row => offset_row(line, offsets(line_noise(key, 0, y, DRAW_ROW)), row),
                Mode::Column => column_row(line, &columns, row),
            }
        });
    }

    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let u = Uniforms {
            width: inputs[0].width,
            height: inputs[0].height,
            mode: self.mode as u32,
            scale: self.scale(),
            key: ctx.key.0,
        };
        let bindings = || {
            vec![
                (0, Binding::uniform(&u)),
                (1, Binding::Input(0)),
                (2, Binding::Output),
                (3, Binding::Scratch(0)),
            ]
        };
        // `main` works in blocks of 16x64 pixels and leaves one word per
        // block; `gray` writes the frame again only when none saw colour.
        let blocks = [out.width.div_ceil(16), out.height.div_ceil(64), 1];
        GpuWork {
            scratch: vec![4 * u64::from(blocks[0] * blocks[1])],
            passes: vec![
                GpuPass {
                    shader: "noise",
                    entry: "main",
                    bindings: bindings(),
                    workgroups: blocks,
                },
                GpuPass {
                    shader: "noise",
                    entry: "gray",
                    bindings: bindings(),
                    workgroups: [GRAY_GROUPS, 1, 1],
                },
            ],
        }
    }
}

/// Workgroups of the `gray` pass: on a colour frame each reads every word
/// and stops, so few; on a gray one they share the frame.
const GRAY_GROUPS: u32 = 128;

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mode: Mode, amount: f64, src: &Frame) -> Frame {
        let mut out = Frame::new(src.size());
        let ctx = FrameCtx {
            key: RngKey::new(9, 0, 0),
        };
        Noise { mode, amount }.run_cpu(&ctx, &[src], &mut out);
        out
    }

    /// Mid-level colour (100, 128, 150) with alpha 77 everywhere.
    fn flat(w: u32, h: u32) -> Frame {
        let mut f = Frame::new(Size::new(w, h));
        f.pixels_mut()
            .fill(100 | (128 << 8) | (150 << 16) | (77 << 24));
        f
    }

    /// Signed change of channel `c` at (x, y).
    fn delta(out: &Frame, src: &Frame, x: u32, y: u32, c: usize) -> i32 {
        i32::from(out.get(x, y).to_le_bytes()[c]) - i32::from(src.get(x, y).to_le_bytes()[c])
    }

    #[test]
    fn row_noise_is_constant_along_each_row_and_column_noise_along_each_column() {
        let src = flat(23, 17);
        let rows = run(Mode::Row, 0.2, &src);
        let cols = run(Mode::Column, 0.2, &src);
        for c in 0..3 {
            for y in 0..17 {
                let d = delta(&rows, &src, 0, y, c);
                assert!((0..23).all(|x| delta(&rows, &src, x, y, c) == d));
            }
            for x in 0..23 {
                let d = delta(&cols, &src, x, 0, c);
                assert!((0..17).all(|y| delta(&cols, &src, x, y, c) == d));
            }
        }
        // The lines differ from one another, and stay within ±0.2·255 = ±51.
        let firsts: Vec<i32> = (0..17).map(|y| delta(&rows, &src, 0, y, 0)).collect();
        assert!(firsts.iter().any(|&d| d != firsts[0]));
        assert!(firsts.iter().all(|d| d.abs() <= 51));
    }

    #[test]
    fn alpha_is_kept_and_zero_amount_is_identity() {
        let src = flat(9, 8);
        for mode in [Mode::Gaussian, Mode::Row, Mode::Column] {
            assert_eq!(run(mode, 0.0, &src), src);
            let out = run(mode, 1.0, &src);
            assert!(out.pixels().iter().all(|p| p >> 24 == 77));
            assert_ne!(out, src);
        }
    }

    #[test]
    fn gaussian_noise_has_the_asked_spread() {
        // σ = 0.05 · 255 = 12.75 levels on a mid-gray level, far from clipping.
        let src = flat(200, 100);
        let out = run(Mode::Gaussian, 0.05, &src);
        let d: Vec<f64> = (0..100)
            .flat_map(|y| (0..200).map(move |x| (x, y)))
            .map(|(x, y)| f64::from(delta(&out, &src, x, y, 1)))
            .collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt();
        assert!(mean.abs() < 0.3 && (sd - 12.75).abs() < 0.4, "{mean} {sd}");
    }

    #[test]
    fn avx2_and_plain_paths_agree() {
        let line: Vec<u32> = (0..61u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
        let key = RngKey::new(4, 1, 2);
        let (mut a, mut b) = (vec![0u32; 61], vec![0u32; 61]);
        gaussian_row(key, 7, &line, 30.0, false, &mut a);
        gaussian_row_inner(key, 7, &line, 30.0, false, &mut b);
        assert_eq!(a, b);
        let o = [-20.3, 0.5, 7.25];
        offset_row(&line, o, &mut a);
        offset_row_inner(&line, o, &mut b);
        assert_eq!(a, b);
        let columns: Vec<[f32; 3]> = (0..61).map(|i| [i as f32 - 30.5, 3.5, -1.5]).collect();
        column_row(&line, &columns, &mut a);
        column_row_inner(&line, &columns, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn gray_frames_stay_gray() {
        let mut src = Frame::new(Size::new(12, 7));
        src.pixels_mut()
            .fill(90 | (90 << 8) | (90 << 16) | (255 << 24));
        for mode in [Mode::Gaussian, Mode::Row, Mode::Column] {
            let out = run(mode, 0.3, &src);
            assert_ne!(out, src);
            for p in out.pixels() {
                let [r, g, b, _] = p.to_le_bytes();
                assert!(r == g && g == b, "{mode:?}: {r} {g} {b}");
            }
        }
    }
}

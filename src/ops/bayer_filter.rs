//! A colour sensor's mosaic: keep one channel per pixel by the 2x2 Bayer
//! pattern, then rebuild RGB with the Malvar–He–Cutler (2004) gradient-
//! corrected 5x5 demosaic, edges reflected (scipy's `reflect`, as the
//! reference convolves). The kernels are the paper's, times 16, in integer
//! arithmetic, divided back with round half to even (the reference's
//! `round`), so both backends and the reference's interior agree exactly.
//! A pixel whose whole 5x5 footprint is gray (R = G = B) passes unchanged,
//! so a gray frame comes back as it was; alpha is kept.
//! Twin: `shaders/bayer_filter.wgsl`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, reflect,
};
use crate::frame::{Frame, Size};

/// Colours of the 2x2 cell, read left to right, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    #[default]
    Rggb,
    Bggr,
    Grbg,
    Gbrg,
}

impl Pattern {
    /// The channel (0 R, 1 G, 2 B) sampled at cell position (x, y).
    fn cell(self) -> [[u32; 2]; 2] {
        match self {
            Pattern::Rggb => [[0, 1], [1, 2]],
            Pattern::Bggr => [[2, 1], [1, 0]],
            Pattern::Grbg => [[1, 0], [2, 1]],
            Pattern::Gbrg => [[1, 2], [0, 1]],
        }
    }

    /// Packed for the shader: the channel of cell (x, y) in bits 2·(2y + x).
    fn packed(self) -> u32 {
        let c = self.cell();
        c[0][0] | (c[0][1] << 2) | (c[1][0] << 4) | (c[1][1] << 6)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayerFilter {
    #[serde(default)]
    pub pattern: Pattern,
}

const PATTERN: Param = Param {
    name: "pattern",
    ty: "word",
    default: Some("rggb"),
    allowed: Allowed::OneOf(&["rggb", "bggr", "grbg", "gbrg"]),
    doc: "colours of the 2x2 cell, left to right, top to bottom",
};

impl OpParams for BayerFilter {
    const NAME: &'static str = "bayer_filter";
    const SUMMARY: &'static str =
        "Bayer mosaic then Malvar-He-Cutler demosaic, exact in integers; gray and alpha kept";
    const PARAMS: &'static [Param] = &[PATTERN];

    fn validate(&self) -> Result<(), ParamError> {
        Ok(())
    }
}

/// `s / 16` rounded half to even.
#[inline(always)]
fn div16_even(s: i32) -> i32 {
    let q = s >> 4;
    let r = s & 15;
    q + i32::from(r > 8 || (r == 8 && q & 1 == 1))
}

/// The mosaic, two pixels of reflected border on each side, with a flag
/// per sample for "this pixel is not gray".
struct Mosaic {
    stride: usize,
    samples: Vec<i32>,
    colour: Vec<u8>,
}

impl Mosaic {
    fn new(frame: &Frame, pattern: Pattern) -> Self {
        let (w, h) = (frame.width() as i32, frame.height() as i32);
        let stride = (w + 4) as usize;
        let cell = pattern.cell();
        // Source column of each padded column (reflected at the borders).
        let cols: Vec<u32> = (-2..w + 2).map(|x| reflect(x, w) as u32).collect();
        let mut samples = vec![0; stride * (h + 4) as usize];
        let mut colour = vec![0; samples.len()];
        samples
            .par_chunks_mut(stride)
            .zip(colour.par_chunks_mut(stride))
            .enumerate()
            .for_each(|(j, (s, c))| {
                let sy = reflect(j as i32 - 2, h) as usize;
                let row = &frame.pixels()[sy * w as usize..][..w as usize];
                let shifts = cell[sy & 1].map(|ch| 8 * ch);
                for ((s, c), &sx) in s.iter_mut().zip(c.iter_mut()).zip(&cols) {
                    let p = row[sx as usize];
                    *s = ((p >> shifts[(sx & 1) as usize]) & 0xff) as i32;
                    *c = u8::from((p & 0xff) * 0x01_01_01 != p & 0xff_ff_ff);
                }
            });
        Self {
            stride,
            samples,
            colour,
        }
    }

    /// Padded rows y − 2 ..= y + 2 of a plane.
    fn rows<'a, T>(&self, plane: &'a [T], y: u32) -> [&'a [T]; 5] {
        let k = self.stride;
        std::array::from_fn(|j| &plane[(y as usize + j) * k..][..k])
    }
}

/// Every kernel's value at every site of a row, rounded and clipped: the
/// green estimate at R/B sites, R/B at B/R sites, and at green sites the
/// horizontal kernel and its transpose. `any` flags the sites whose
/// footprint holds a pixel that is not gray.
struct RowKernels {
    g: Vec<i32>,
    rb: Vec<i32>,
    along: Vec<i32>,
    across: Vec<i32>,
    any: Vec<u8>,
}

avx2_twin!(row_kernels => row_kernels_inner(s: [&[i32]; 5], c: [&[u8]; 5], k: &mut RowKernels));

#[inline(always)]
fn row_kernels_inner(s: [&[i32]; 5], c: [&[u8]; 5], k: &mut RowKernels) {
    let [m2, m1, z, p1, p2] = s;
    let w = k.g.len();
    assert!(s.iter().all(|r| r.len() >= w + 4) && c.iter().all(|r| r.len() >= w + 4));
    assert!(k.rb.len() == w && k.along.len() == w && k.across.len() == w && k.any.len() == w);
    let clip = |v: i32| div16_even(v).clamp(0, 255);
    for x in 0..w {
        let i = x + 2;
        let cc = z[i];
        let h1 = z[i - 1] + z[i + 1];
        let h2 = z[i - 2] + z[i + 2];
        let v1 = m1[i] + p1[i];
        let v2 = m2[i] + p2[i];
        let d = m1[i - 1] + m1[i + 1] + p1[i - 1] + p1[i + 1];
        k.g[x] = clip(8 * cc + 4 * (h1 + v1) - 2 * (h2 + v2));
        k.rb[x] = clip(12 * cc + 4 * d - 3 * (h2 + v2));
        k.along[x] = clip(10 * cc + 8 * h1 - 2 * h2 - 2 * d + v2);
        k.across[x] = clip(10 * cc + 8 * v1 - 2 * v2 - 2 * d + h2);
    }
    let [cm2, cm1, cz, cp1, cp2] = c;
    for x in 0..w {
        let i = x + 2;
        k.any[x] = cz[i - 2]
            | cz[i - 1]
            | cz[i]
            | cz[i + 1]
            | cz[i + 2]
            | cm1[i - 1]
            | cm1[i]
            | cm1[i + 1]
            | cp1[i - 1]
            | cp1[i]
            | cp1[i + 1]
            | cm2[i]
            | cp2[i];
    }
}

/// The demosaiced R, G, B at `x` of a row, given the channel the site
/// samples (`own`) and the one its horizontal neighbours sample.
#[inline(always)]
fn assemble(k: &RowKernels, c: i32, x: usize, own: u32, beside: u32) -> [i32; 3] {
    let mut rgb = [0; 3];
    if own == 1 {
        rgb[1] = c;
        rgb[beside as usize] = k.along[x];
        rgb[2 - beside as usize] = k.across[x];
    } else {
        rgb[own as usize] = c;
        rgb[1] = k.g[x];
        rgb[2 - own as usize] = k.rb[x];
    }
    rgb
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    pattern: u32,
    pad: u32,
}

impl Op for BayerFilter {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let src = inputs[0];
        let mosaic = Mosaic::new(src, self.pattern);
        let pattern = self.pattern;
        let width = src.width() as usize;
        // par_rows, with each thread's row buffers made once, not per row.
        let fresh = || RowKernels {
            g: vec![0; width],
            rb: vec![0; width],
            along: vec![0; width],
            across: vec![0; width],
            any: vec![0; width],
        };
        out.pixels_mut()
            .par_chunks_mut(width.max(1))
            .enumerate()
            .for_each_init(fresh, |k, (y, row)| {
                let y = y as u32;
                let samples = mosaic.rows(&mosaic.samples, y);
                row_kernels(samples, mosaic.rows(&mosaic.colour, y), k);
                let line = &src.pixels()[y as usize * width..][..width];
                let cell = pattern.cell()[(y & 1) as usize];
                for (x, (o, &p)) in row.iter_mut().zip(line).enumerate() {
                    *o = if k.any[x] == 0 {
                        p
                    } else {
                        let (own, beside) = (cell[x & 1], cell[(x & 1) ^ 1]);
                        let [r, g, b] = assemble(k, samples[2][x + 2], x, own, beside);
                        r as u32 | (g as u32) << 8 | (b as u32) << 16 | (p & 0xff00_0000)
                    };
                }
            });
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let u = Uniforms {
            width: inputs[0].width,
            height: inputs[0].height,
            pattern: self.pattern.packed(),
            pad: 0,
        };
        GpuWork {
            scratch: vec![],
            passes: vec![GpuPass::per_pixel(
                "bayer_filter",
                "main",
                out,
                vec![
                    (0, Binding::uniform(&u)),
                    (1, Binding::Input(0)),
                    (2, Binding::Output),
                ],
            )],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: u32, h: u32, f: impl Fn(u32, u32) -> [u32; 3]) -> Frame {
        let px = (0..w * h)
            .map(|i| {
                let [r, g, b] = f(i % w, i / w);
                r | (g << 8) | (b << 16) | (0x80 << 24)
            })
            .collect();
        Frame::from_pixels(Size::new(w, h), px).unwrap()
    }

    fn run(pattern: Pattern, input: &Frame) -> Frame {
        let mut out = Frame::new(input.size());
        let ctx = FrameCtx {
            key: Default::default(),
        };
        BayerFilter { pattern }.run_cpu(&ctx, &[input], &mut out);
        out
    }

    fn rgb(p: u32) -> [u32; 3] {
        [p & 0xff, (p >> 8) & 0xff, (p >> 16) & 0xff]
    }

    #[test]
    fn each_pattern_samples_its_cell() {
        // (pattern, channel at (0,0), (1,0), (0,1), (1,1))
        let cases = [
            (Pattern::Rggb, [0, 1, 1, 2]),
            (Pattern::Bggr, [2, 1, 1, 0]),
            (Pattern::Grbg, [1, 0, 2, 1]),
            (Pattern::Gbrg, [1, 2, 0, 1]),
        ];
        for (pattern, want) in cases {
            for (i, (x, y)) in [(0, 0), (1, 0), (0, 1), (1, 1)].into_iter().enumerate() {
                let cell = pattern.cell()[y as usize][x as usize];
                assert_eq!(cell, want[i], "{pattern:?} at ({x}, {y})");
                assert_eq!((pattern.packed() >> (2 * (2 * y + x))) & 3, want[i]);
            }
        }
    }

    #[test]
    fn a_constant_colour_comes_back_exactly_inside_the_border() {
        let input = frame(9, 7, |_, _| [200, 30, 90]);
        for pattern in [Pattern::Rggb, Pattern::Bggr, Pattern::Grbg, Pattern::Gbrg] {
            let out = run(pattern, &input);
            for y in 2..5 {
                for x in 2..7 {
                    assert_eq!(out.get(x, y), input.get(x, y), "{pattern:?} at ({x}, {y})");
                }
            }
        }
        // At the corner, reflection brings other colours' samples into the
        // footprint, as it does for the reference's convolution. RGGB (0, 0):
        // c = 200; h1 = v1 = 200 + 30; h2 = v2 = 30 + 200; d = 200 + 30 + 30 + 90.
        // G = (8·200 + 4·460 − 2·460)/16 = 157.5 → 158;
        // B = (12·200 + 4·350 − 3·460)/16 = 151.25 → 151.
        assert_eq!(rgb(run(Pattern::Rggb, &input).get(0, 0)), [200, 158, 151]);
    }

    #[test]
    fn a_linear_ramp_is_exact_inside_the_border() {
        // Every kernel is exact on a plane with constant colour differences.
        let input = frame(12, 10, |x, y| {
            [10 + 8 * x + 3 * y, 40 + 8 * x + 3 * y, 5 + 8 * x + 3 * y]
        });
        for pattern in [Pattern::Rggb, Pattern::Bggr, Pattern::Grbg, Pattern::Gbrg] {
            let out = run(pattern, &input);
            for y in 2..8 {
                for x in 2..10 {
                    assert_eq!(out.get(x, y), input.get(x, y), "{pattern:?} at ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn a_ramp_at_the_reflected_edge_by_hand() {
        // R = 16x, G = B = 0, RGGB, 6x6. Reflect mirrors including the edge:
        // row −1 is row 0 (a red row) and x = 6 is x = 5.
        let input = frame(6, 6, |x, _| [16 * x, 0, 0]);
        let out = run(Pattern::Rggb, &input);
        // (0, 0), R site: samples at distance 2 are m(2,0) = 32 (R) and G's
        // or R(0) = 0 elsewhere. G = −2·32/16 = −4 → 0; B = −3·32/16 → 0.
        assert_eq!(rgb(out.get(0, 0)), [0, 0, 0]);
        // (1, 0), G in the red row: beside R(0) = 0 and R(2) = 32; the
        // diagonal m(2,−1) is row 0's R(2) = 32, the others G or B.
        // R = (8·32 − 2·32)/16 = 12; B = (−2·32)/16 → 0.
        assert_eq!(rgb(out.get(1, 0)), [12, 0, 0]);
        // (3, 0): beside 32 + 64, diagonals above are row 0's R, 32 + 64.
        // R = (8·96 − 2·96)/16 = 36.
        assert_eq!(rgb(out.get(3, 0)), [36, 0, 0]);
        // The same column on row 2, diagonals are G: R = 8·96/16 = 48 = 16·3.
        assert_eq!(rgb(out.get(3, 2)), [48, 0, 0]);
        // (5, 0), the right edge: beside R(4) = 64 and x = 6 → 5 (G); at
        // distance 2 x = 7 → 4, R = 64; diagonal m(4,−1) = 64.
        // R = (8·64 − 2·64 − 2·64)/16 = 16.
        assert_eq!(rgb(out.get(5, 0)), [16, 0, 0]);
    }

    #[test]
    fn impulses_show_the_kernel_weights() {
        // One red sample of 160 at (4, 4), an R site of RGGB, all else 0.
        let input = frame(9, 9, |x, y| [if (x, y) == (4, 4) { 160 } else { 0 }, 0, 0]);
        let out = run(Pattern::Rggb, &input);
        // At the site: G = 8·160/16 = 80, B = 12·160/16 = 120.
        assert_eq!(rgb(out.get(4, 4)), [160, 80, 120]);
        // G beside it in its (red) row: R by the horizontal kernel, 8/16.
        assert_eq!(rgb(out.get(5, 4)), [80, 0, 0]);
        // G below it (a blue row): R by the transpose, 8/16.
        assert_eq!(rgb(out.get(4, 5)), [80, 0, 0]);
        // Diagonal, a B site: R = 4·160/16 = 40.
        assert_eq!(rgb(out.get(5, 5)), [40, 0, 0]);
        // Two away, R sites: G = −2·160/16 and B = −3·160/16, clipped to 0.
        assert_eq!(rgb(out.get(6, 4)), [0, 0, 0]);
        assert_eq!(rgb(out.get(4, 2)), [0, 0, 0]);

        // One green sample of 160 at (5, 4), a G site of the red row.
        let input = frame(9, 9, |x, y| [0, if (x, y) == (5, 4) { 160 } else { 0 }, 0]);
        let out = run(Pattern::Rggb, &input);
        // At the site both missing colours get 10/16: 100.
        assert_eq!(rgb(out.get(5, 4)), [100, 160, 100]);
        // The R site beside it: G = 4·160/16 = 40, B has no weight there.
        assert_eq!(rgb(out.get(4, 4)), [0, 40, 0]);
        // The G site two below: R by the horizontal kernel's far vertical
        // tap, +1/16 = 10; B by the transpose's, −2/16 → 0.
        assert_eq!(rgb(out.get(5, 6)), [10, 0, 0]);
    }

    #[test]
    fn rounding_is_half_to_even() {
        assert_eq!(div16_even(8), 0); // 0.5
        assert_eq!(div16_even(24), 2); // 1.5
        assert_eq!(div16_even(40), 2); // 2.5
        assert_eq!(div16_even(41), 3);
        assert_eq!(div16_even(-8), 0); // −0.5
        assert_eq!(div16_even(-24), -2);
        assert_eq!(div16_even(32), 2);
    }

    #[test]
    fn gray_frames_pass_unchanged() {
        let input = frame(11, 8, |x, y| [x * 20 + y, x * 20 + y, x * 20 + y]);
        assert_eq!(run(Pattern::Grbg, &input), input);
    }
}

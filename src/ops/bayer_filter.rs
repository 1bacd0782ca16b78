//! A colour sensor's mosaic: keep one channel per pixel by the 2x2 Bayer
//! pattern, then rebuild RGB with the Malvar–He–Cutler (2004) gradient-
//! corrected 5x5 demosaic, edges reflected (scipy's `reflect`, as the
//! reference convolves). The kernels are the paper's, times 16, in integer
//! arithmetic, divided back with round half to even (the reference's
//! `round`), so both backends and the reference's interior agree exactly.
//! A pixel whose whole 5x5 footprint is gray (R = G = B) passes unchanged,
//! so a gray frame comes back as it was; alpha is kept.
//! Twin: `shaders/bayer_filter.wgsl`.

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

    /// The channel the sensor samples at pixel (x, y).
    fn channel(self, x: u32, y: u32) -> u32 {
        self.cell()[(y & 1) as usize][(x & 1) as usize]
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

/// The sums of a site's 5x5 footprint that the kernels weigh.
#[derive(Debug, Clone, Copy)]
struct Taps {
    /// The site itself.
    c: i32,
    /// Left + right, then the two at distance 2.
    h1: i32,
    h2: i32,
    /// Above + below, then the two at distance 2.
    v1: i32,
    v2: i32,
    /// The four diagonal neighbours.
    d: i32,
}

/// The demosaiced R, G, B at a site sampling `own`, whose horizontal
/// neighbours sample `beside`: Malvar–He–Cutler, kernels times 16.
#[inline(always)]
fn demosaic(t: Taps, own: u32, beside: u32) -> [i32; 3] {
    let clip = |s: i32| div16_even(s).clamp(0, 255);
    let mut rgb = [0; 3];
    if own == 1 {
        // Green site: the channel beside it from the horizontal kernel, the
        // other from its transpose.
        let along = 10 * t.c + 8 * t.h1 - 2 * t.h2 - 2 * t.d + t.v2;
        let across = 10 * t.c + 8 * t.v1 - 2 * t.v2 - 2 * t.d + t.h2;
        rgb[1] = t.c;
        rgb[beside as usize] = clip(along);
        rgb[2 - beside as usize] = clip(across);
    } else {
        rgb[own as usize] = t.c;
        rgb[1] = clip(8 * t.c + 4 * (t.h1 + t.v1) - 2 * (t.h2 + t.v2));
        rgb[2 - own as usize] = clip(12 * t.c + 4 * t.d - 3 * (t.h2 + t.v2));
    }
    rgb
}

/// The 13 footprint offsets the kernels read.
const FOOTPRINT: [(i32, i32); 13] = [
    (0, 0),
    (-1, 0),
    (1, 0),
    (-2, 0),
    (2, 0),
    (0, -1),
    (0, 1),
    (0, -2),
    (0, 2),
    (-1, -1),
    (1, -1),
    (-1, 1),
    (1, 1),
];

/// The mosaic, two pixels of reflected border on each side, with a flag
/// per sample for "this pixel is not gray".
struct Mosaic {
    stride: usize,
    samples: Vec<i32>,
    colour: Vec<bool>,
}

impl Mosaic {
    fn new(frame: &Frame, pattern: Pattern) -> Self {
        let (w, h) = (frame.width() as i32, frame.height() as i32);
        let stride = (w + 4) as usize;
        let n = stride * (h + 4) as usize;
        let (mut samples, mut colour) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for y in -2..h + 2 {
            let sy = reflect(y, h) as u32;
            for x in -2..w + 2 {
                let sx = reflect(x, w) as u32;
                let p = frame.get(sx, sy);
                samples.push(((p >> (8 * pattern.channel(sx, sy))) & 0xff) as i32);
                colour.push((p & 0xff) * 0x01_01_01 != p & 0xff_ff_ff);
            }
        }
        Self {
            stride,
            samples,
            colour,
        }
    }

    /// Index of pixel (x, y) in the padded planes.
    fn at(&self, x: u32, y: u32) -> usize {
        (y as usize + 2) * self.stride + x as usize + 2
    }

    fn taps(&self, i: usize) -> Taps {
        let s = &self.samples;
        let k = self.stride;
        Taps {
            c: s[i],
            h1: s[i - 1] + s[i + 1],
            h2: s[i - 2] + s[i + 2],
            v1: s[i - k] + s[i + k],
            v2: s[i - 2 * k] + s[i + 2 * k],
            d: s[i - k - 1] + s[i - k + 1] + s[i + k - 1] + s[i + k + 1],
        }
    }

    fn all_gray(&self, i: usize) -> bool {
        let k = self.stride as isize;
        !FOOTPRINT
            .iter()
            .any(|&(dx, dy)| self.colour[(i as isize + dy as isize * k + dx as isize) as usize])
    }
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
        super::par_rows(out, |y, row| {
            for (x, o) in row.iter_mut().enumerate() {
                let x = x as u32;
                let p = src.get(x, y);
                let i = mosaic.at(x, y);
                *o = if mosaic.all_gray(i) {
                    p
                } else {
                    let own = pattern.channel(x, y);
                    let [r, g, b] = demosaic(mosaic.taps(i), own, pattern.channel(x ^ 1, y));
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
                assert_eq!(pattern.channel(x, y), want[i], "{pattern:?} at ({x}, {y})");
                // The cell repeats every two pixels both ways.
                assert_eq!(pattern.channel(x + 6, y + 4), want[i]);
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

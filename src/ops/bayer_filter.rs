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

use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError, reflect};
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

/// `s / 16` rounded half to even, without a branch: the remainder plus
/// the quotient's parity carries into the quotient exactly when it is
/// above eight, or eight with an odd quotient.
#[inline(always)]
fn div16_even(s: i32) -> i32 {
    (s + 7 + ((s >> 4) & 1)) >> 4
}

/// Output rows per band: each band builds its own mosaic rows (two more
/// above and below), so the mosaic is never stored whole and stays in cache.
const BAND: usize = 32;

/// One band's mosaic rows, two pixels of reflected border on each side,
/// with a flag per sample for "this pixel is not gray"; a thread's buffers,
/// reused from band to band.
struct Band {
    stride: usize,
    samples: Vec<i32>,
    colour: Vec<u8>,
    any: Vec<u8>,
}

impl Band {
    fn new(width: usize) -> Self {
        let stride = width + 4;
        Self {
            stride,
            samples: vec![0; stride * (BAND + 4)],
            colour: vec![0; stride * (BAND + 4)],
            any: vec![0; width],
        }
    }
}

/// Padded rows k ..= k + 4 of a band's plane: output row k's footprint.
fn rows<T>(plane: &[T], stride: usize, k: usize) -> [&[T]; 5] {
    std::array::from_fn(|j| &plane[(k + j) * stride..][..stride])
}

avx2_twin!(mosaic_row => mosaic_row_inner(line: &[u32], shifts: [u32; 2], s: &mut [i32], c: &mut [u8]));

/// One padded mosaic row from a source row whose even and odd columns keep
/// the channels at bit `shifts`; the borders copy the reflected columns.
#[inline(always)]
fn mosaic_row_inner(line: &[u32], shifts: [u32; 2], s: &mut [i32], c: &mut [u8]) {
    let w = line.len();
    for (x, ((s, c), &p)) in s[2..w + 2]
        .iter_mut()
        .zip(&mut c[2..w + 2])
        .zip(line)
        .enumerate()
    {
        let shift = if x & 1 == 0 { shifts[0] } else { shifts[1] };
        *s = ((p >> shift) & 0xff) as i32;
        *c = u8::from((p & 0xff) * 0x01_01_01 != p & 0xff_ff_ff);
    }
    for i in [0, 1, w + 2, w + 3] {
        let from = reflect(i as i32 - 2, w as i32) as usize + 2;
        s[i] = s[from];
        c[i] = c[from];
    }
}

/// What a Bayer row samples: green on even or odd columns, and the other
/// channel (0 R or 2 B) on the rest.
#[derive(Clone, Copy)]
struct RowKind {
    green_odd: usize,
    other: u32,
}

avx2_twin!(demosaic_row => demosaic_row_inner(s: [&[i32]; 5], c: [&[u8]; 5], any: &mut [u8], kind: RowKind, line: &[u32], row: &mut [u32]));

/// One output row, every kernel and the choice among them branch-free so
/// the row runs in SIMD: at green sites the horizontal kernel gives the
/// channel beside them and its transpose the other; at R/B sites the green
/// estimate and the R-at-B/B-at-R kernel. Sites whose footprint is all
/// gray pass unchanged.
#[inline(always)]
fn demosaic_row_inner(
    s: [&[i32]; 5],
    c: [&[u8]; 5],
    any: &mut [u8],
    kind: RowKind,
    line: &[u32],
    row: &mut [u32],
) {
    let [m2, m1, z, p1, p2] = s;
    let [cm2, cm1, cz, cp1, cp2] = c;
    let w = row.len();
    assert!(s.iter().all(|r| r.len() >= w + 4) && c.iter().all(|r| r.len() >= w + 4));
    assert!(any.len() == w && line.len() == w);
    for (x, a) in any.iter_mut().enumerate() {
        let i = x + 2;
        *a = cz[i - 2]
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
    let clip = |v: i32| div16_even(v).clamp(0, 255) as u32;
    let (own_shift, other_shift) = (8 * kind.other, 16 - 8 * kind.other);
    for x in 0..w {
        let i = x + 2;
        let cc = z[i];
        let h1 = z[i - 1] + z[i + 1];
        let h2 = z[i - 2] + z[i + 2];
        let v1 = m1[i] + p1[i];
        let v2 = m2[i] + p2[i];
        let d = m1[i - 1] + m1[i + 1] + p1[i - 1] + p1[i + 1];
        let g = clip(8 * cc + 4 * (h1 + v1) - 2 * (h2 + v2));
        let rb = clip(12 * cc + 4 * d - 3 * (h2 + v2));
        let along = clip(10 * cc + 8 * h1 - 2 * h2 - 2 * d + v2);
        let across = clip(10 * cc + 8 * v1 - 2 * v2 - 2 * d + h2);
        let green = x & 1 == kind.green_odd;
        let (own, g, other) = if green {
            (along, cc as u32, across)
        } else {
            (cc as u32, g, rb)
        };
        let p = line[x];
        let rgb = (own << own_shift) | (g << 8) | (other << other_shift);
        row[x] = if any[x] == 0 {
            p
        } else {
            rgb | (p & 0xff00_0000)
        };
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
        let (w, h) = (src.width() as usize, src.height() as usize);
        if w == 0 || h == 0 {
            return;
        }
        let cells = self.pattern.cell();
        out.pixels_mut()
            .par_chunks_mut(w * BAND)
            .enumerate()
            .for_each_init(
                || Band::new(w),
                |band, (b, out_rows)| {
                    let y0 = b * BAND;
                    let Band {
                        stride,
                        samples,
                        colour,
                        any,
                    } = band;
                    let stride = *stride;
                    for j in 0..out_rows.len() / w + 4 {
                        let sy = reflect((y0 + j) as i32 - 2, h as i32) as usize;
                        mosaic_row(
                            &src.pixels()[sy * w..][..w],
                            cells[sy & 1].map(|ch| 8 * ch),
                            &mut samples[j * stride..][..stride],
                            &mut colour[j * stride..][..stride],
                        );
                    }
                    for (k, row) in out_rows.chunks_mut(w).enumerate() {
                        let y = y0 + k;
                        let cell = cells[y & 1];
                        let kind = RowKind {
                            green_odd: usize::from(cell[1] == 1),
                            other: if cell[0] == 1 { cell[1] } else { cell[0] },
                        };
                        demosaic_row(
                            rows(samples, stride, k),
                            rows(colour, stride, k),
                            any,
                            kind,
                            &src.pixels()[y * w..][..w],
                            row,
                        );
                    }
                },
            );
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let u = Uniforms {
            width: inputs[0].width,
            height: inputs[0].height,
            pattern: self.pattern.packed(),
            pad: 0,
        };
        GpuWork::per_pixel(
            "bayer_filter",
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

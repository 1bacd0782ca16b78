//! Disk (bokeh) blur: every offset with `dx² + dy² ≤ r²` weighted equally,
//! edges reflect, alpha not blurred. The disk is a stack of horizontal
//! spans, one per kernel row, so with per-row prefix sums each span costs
//! two reads: the cost grows with `r`, not `r²`. Sums are integers (u32 is
//! exact: a disk of radius 1000 sums to at most 255·π·10⁶ < 2³²), so both
//! backends give exactly the same bytes. Twin: `shaders/blur_circular.wgsl`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, reflect,
};
use crate::frame::{Frame, Size};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlurCircular {
    pub radius: u32,
}

const RADIUS: Param = Param {
    name: "radius",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(0.0, 1000.0),
    doc: "disk radius in pixels; 0 is the identity",
};

impl OpParams for BlurCircular {
    const NAME: &'static str = "blur_circular";
    const SUMMARY: &'static str = "disk (bokeh) blur, all offsets within the radius weighted equally, edges reflect, alpha kept";
    const PARAMS: &'static [Param] = &[RADIUS];

    fn validate(&self) -> Result<(), ParamError> {
        RADIUS.check(self.radius.into())
    }
}

/// Largest `h` with `h² ≤ n`, exactly.
fn isqrt(n: u64) -> u64 {
    let mut h = (n as f64).sqrt() as u64;
    while h * h > n {
        h -= 1;
    }
    while (h + 1) * (h + 1) <= n {
        h += 1;
    }
    h
}

/// Half-widths of the disk's spans for rows `dy = -r..=r`: the span of row
/// `dy` covers `dx` in `-h..=h` with `h = floor(sqrt(r² - dy²))`.
pub fn half_widths(r: u32) -> Vec<u32> {
    let r = i64::from(r);
    (-r..=r)
        .map(|dy| isqrt((r * r - dy * dy) as u64) as u32)
        .collect()
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    radius: u32,
    count: u32,
}

/// The row's colour prefix sums over the row padded by `r` reflected pixels
/// each side: entry `i` (3 channels) sums padded pixels `0..i`.
#[inline(always)]
fn prefix_row(row: &[u32], r: usize, sums: &mut [u32]) {
    let mut acc = [0u32; 3];
    sums[..3].fill(0);
    for (i, o) in sums[3..].chunks_exact_mut(3).enumerate() {
        let p = row[reflect(i as i32 - r as i32, row.len() as i32) as usize];
        acc[0] += p & 0xff;
        acc[1] += (p >> 8) & 0xff;
        acc[2] += (p >> 16) & 0xff;
        o.copy_from_slice(&acc);
    }
}

/// Every row's prefix sums ([`prefix_row`]), `stride` words a row.
struct Sums {
    sums: Vec<u32>,
    stride: usize,
    height: usize,
    r: usize,
}

avx2_twin!(disk_row => disk_row_inner(
    sums: &Sums,
    half: &[u32],
    y: usize,
    acc: &mut [u32],
    alpha: &[u32],
    row: &mut [u32],
));

/// Output row `y`: each disk row adds its span's sum, `P[x + r + h + 1] -
/// P[x + r - h]`, for every pixel at once along memory; then the rounded mean.
#[inline(always)]
fn disk_row_inner(
    sums: &Sums,
    half: &[u32],
    y: usize,
    acc: &mut [u32],
    alpha: &[u32],
    row: &mut [u32],
) {
    let width = row.len();
    let (stride, r) = (sums.stride, sums.r);
    acc.fill(0);
    let mut count = 0u32;
    for (d, &h) in half.iter().enumerate() {
        let sy = reflect((y + d) as i32 - r as i32, sums.height as i32) as usize;
        let line = &sums.sums[sy * stride..][..stride];
        let h = h as usize;
        let hi = &line[3 * (r + h + 1)..][..3 * width];
        let lo = &line[3 * (r - h)..][..3 * width];
        for ((a, &p), &q) in acc.iter_mut().zip(hi).zip(lo) {
            *a += p - q;
        }
        count += 2 * h as u32 + 1;
    }
    for ((o, a), &p) in row.iter_mut().zip(acc.chunks_exact(3)).zip(alpha) {
        let mean = |s: u32| (s + count / 2) / count;
        *o = mean(a[0]) | (mean(a[1]) << 8) | (mean(a[2]) << 16) | (p & 0xff00_0000);
    }
}

impl Op for BlurCircular {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let src = inputs[0];
        let r = self.radius as usize;
        let (width, height) = (src.width() as usize, src.height() as usize);
        let half = half_widths(self.radius);
        let stride = 3 * (width + 2 * r + 1);
        let mut sums = Sums {
            sums: vec![0u32; stride * height],
            stride,
            height,
            r,
        };
        sums.sums
            .par_chunks_mut(stride)
            .zip(src.pixels().par_chunks(width))
            .for_each(|(line, row)| prefix_row(row, r, line));
        let acc = || vec![0u32; 3 * width];
        out.pixels_mut()
            .par_chunks_mut(width)
            .zip(src.pixels().par_chunks(width))
            .enumerate()
            .for_each_init(acc, |acc, (y, (row, alpha))| {
                disk_row(&sums, &half, y, acc, alpha, row)
            });
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let half = half_widths(self.radius);
        let size = inputs[0];
        let u = Uniforms {
            width: size.width,
            height: size.height,
            radius: self.radius,
            count: half.iter().map(|h| 2 * h + 1).sum(),
        };
        // Four words an entry on the GPU (one vector load), three on the CPU.
        let stride = u64::from(size.width) + 2 * u64::from(self.radius) + 1;
        GpuWork {
            scratch: vec![stride * u64::from(size.height) * 16],
            passes: vec![
                GpuPass {
                    shader: "blur_circular",
                    entry: "prefix",
                    bindings: vec![
                        (0, Binding::uniform(&u)),
                        (1, Binding::Input(0)),
                        (2, Binding::Scratch(0)),
                    ],
                    workgroups: [size.height, 1, 1],
                },
                GpuPass {
                    shader: "blur_circular",
                    entry: "disk",
                    bindings: vec![
                        (0, Binding::uniform(&u)),
                        (1, Binding::Input(0)),
                        (3, Binding::Scratch(0)),
                        (4, Binding::data(&half)),
                        (5, Binding::Output),
                    ],
                    workgroups: [out.width.div_ceil(64), out.height.div_ceil(4), 1],
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn impulse_response(radius: u32) -> Frame {
        let size = Size::new(9, 9);
        let mut src = Frame::new(size);
        src.pixels_mut().fill(0x8000_0000);
        src.pixels_mut()[4 * 9 + 4] = 0x8000_00ff;
        let mut out = Frame::new(size);
        let ctx = FrameCtx {
            key: Default::default(),
        };
        BlurCircular { radius }.run_cpu(&ctx, &[&src], &mut out);
        out
    }

    /// Red at every pixel, row by row.
    fn reds(f: &Frame) -> Vec<u32> {
        f.pixels().iter().map(|p| p & 0xff).collect()
    }

    /// A 9x9 picture with `v` at the centre offsets in `at`, 0 elsewhere.
    fn picture(at: &[(i32, i32)], v: u32) -> Vec<u32> {
        (0..81)
            .map(|i| {
                let (dx, dy) = (i % 9 - 4, i / 9 - 4);
                if at.contains(&(dx, dy)) { v } else { 0 }
            })
            .collect()
    }

    #[test]
    fn half_widths_follow_the_circle() {
        assert_eq!(half_widths(0), [0]);
        assert_eq!(half_widths(1), [0, 1, 0]);
        assert_eq!(half_widths(2), [0, 1, 2, 1, 0]);
        // r = 5: 25 - 9 = 16 and 25 - 16 = 9 are squares, 25 - 1 = 24 is not.
        assert_eq!(half_widths(5), [0, 3, 4, 4, 4, 5, 4, 4, 4, 3, 0]);
    }

    #[test]
    fn radius_one_spreads_an_impulse_over_a_plus() {
        // Five offsets: 255 / 5 = 51 each; alpha kept.
        let out = impulse_response(1);
        let plus = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)];
        assert_eq!(reds(&out), picture(&plus, 51));
        assert!(out.pixels().iter().all(|p| p >> 24 == 0x80));
    }

    #[test]
    fn radius_two_spreads_an_impulse_over_thirteen_pixels() {
        // dx² + dy² ≤ 4: the 3x3 square, and (±2, 0), (0, ±2).
        // 255 / 13 = 19.6, rounded to 20.
        let mut disk: Vec<(i32, i32)> = (-1..=1)
            .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
            .collect();
        disk.extend([(2, 0), (-2, 0), (0, 2), (0, -2)]);
        assert_eq!(reds(&impulse_response(2)), picture(&disk, 20));
    }

    #[test]
    fn radius_zero_is_the_identity_and_edges_reflect() {
        let src = {
            let mut s = Frame::new(Size::new(9, 9));
            s.pixels_mut()[4 * 9 + 4] = 0x8000_00ff;
            s.pixels_mut().iter_mut().for_each(|p| *p |= 0x8000_0000);
            s
        };
        assert_eq!(impulse_response(0), src);
        // An impulse at the left end of a 3x1 frame, r = 1: at x = 0 four of
        // the five offsets land on it (itself; its left neighbour, reflected;
        // the rows above and below, reflected onto its own row):
        // 255·4 / 5 = 204. At x = 1 only its left neighbour does: 51.
        let mut row = Frame::new(Size::new(3, 1));
        row.pixels_mut()[0] = 0xff;
        let mut out = Frame::new(row.size());
        let ctx = FrameCtx {
            key: Default::default(),
        };
        BlurCircular { radius: 1 }.run_cpu(&ctx, &[&row], &mut out);
        assert_eq!(reds(&out), [204, 51, 0]);
    }
}

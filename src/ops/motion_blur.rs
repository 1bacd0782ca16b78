//! Linear motion blur with the reference's kernel: a `k×k` matrix whose
//! middle row `(k-1)/2` is all ones, rotated about its centre by `angle`
//! (bilinear, zeros outside, as OpenCV's `warpAffine` rotates:
//! counter-clockwise on screen), normalized, then convolved (scipy's
//! `convolve`, edges reflect). Only the taps with a non-zero weight are
//! kept, about two per kernel row, so the cost is linear in `k`, not `k²`.
//! The taps are computed once per frame on the CPU and handed to the
//! shader as data, in chunks of four adjacent columns. Alpha is left
//! unblurred, unlike the reference. Twin: `shaders/motion_blur.wgsl`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, reflect,
};
use crate::frame::{Frame, Size, pack_rgb};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotionBlur {
    pub kernel_size: u32,
    #[serde(default)]
    pub angle: f64,
}

const KERNEL_SIZE: Param = Param {
    name: "kernel_size",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 100.0),
    doc: "length of the streak in pixels; 1 is the identity",
};
const ANGLE: Param = Param {
    name: "angle",
    ty: "number",
    default: Some("0"),
    allowed: Allowed::Range(0.0, 360.0),
    doc: "direction in degrees, counter-clockwise from horizontal; 360 is 0",
};

impl OpParams for MotionBlur {
    const NAME: &'static str = "motion_blur";
    const SUMMARY: &'static str = "linear motion blur along a direction (the reference's rotated line kernel), edges reflect, alpha kept";
    const PARAMS: &'static [Param] = &[KERNEL_SIZE, ANGLE];

    fn validate(&self) -> Result<(), ParamError> {
        KERNEL_SIZE.check(self.kernel_size.into())?;
        ANGLE.check(self.angle)
    }
}

/// One non-zero weight: the output at (x, y) adds `w · input(x + dx, y + dy)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tap {
    pub dx: i32,
    pub dy: i32,
    pub w: f32,
}

/// Sine and cosine, exact at the right angles so that 90° gives a vertical
/// line rather than one smeared by rounding.
fn sin_cos(angle: f64) -> (f64, f64) {
    match angle {
        0.0 | 360.0 => (0.0, 1.0),
        90.0 => (1.0, 0.0),
        180.0 => (0.0, -1.0),
        270.0 => (-1.0, 0.0),
        _ => angle.to_radians().sin_cos(),
    }
}

/// The kernel's non-zero taps in row order, normalized to sum 1.
pub fn taps(size: u32, angle: f64) -> Vec<Tap> {
    let k = size.max(1) as usize;
    let mid = (k - 1) / 2;
    // The unrotated kernel, 1 on the middle row (normalization comes last).
    let line = |x: i64, y: i64| f64::from(u8::from((0..k as i64).contains(&x) && y == mid as i64));
    let c = (k as f64 - 1.0) / 2.0;
    let (s, co) = sin_cos(angle);
    let mut weights = Vec::with_capacity(k * k);
    for i in 0..k {
        for j in 0..k {
            let (u, v) = (j as f64 - c, i as f64 - c);
            // Where output cell (j, i) samples the unrotated kernel.
            let (x, y) = (co * u - s * v + c, s * u + co * v + c);
            let (x0, y0) = (x.floor(), y.floor());
            let (fx, fy) = (x - x0, y - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let w = (1.0 - fx) * (1.0 - fy) * line(x0, y0)
                + fx * (1.0 - fy) * line(x0 + 1, y0)
                + (1.0 - fx) * fy * line(x0, y0 + 1)
                + fx * fy * line(x0 + 1, y0 + 1);
            weights.push((i, j, w));
        }
    }
    // Rounding leaves weights of 1e-17 where the exact kernel has zeros.
    let max = weights.iter().map(|t| t.2).fold(0.0, f64::max);
    weights.retain(|t| t.2 > 1e-9 * max);
    let sum: f64 = weights.iter().map(|t| t.2).sum();
    if sum <= 0.0 {
        return vec![Tap {
            dx: 0,
            dy: 0,
            w: 1.0,
        }];
    }
    let half = (k / 2) as i32;
    weights
        .iter()
        .map(|&(i, j, w)| Tap {
            dx: half - j as i32,
            dy: half - i as i32,
            w: (w / sum) as f32,
        })
        .collect()
}

/// How far the taps reach: (max |dx|, max |dy|).
fn reach(taps: &[Tap]) -> (i32, i32) {
    taps.iter().fold((0, 0), |(rx, ry), t| {
        (rx.max(t.dx.abs()), ry.max(t.dy.abs()))
    })
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    reach_x: i32,
    reach_y: i32,
}

/// Output rows per parallel task, at least: each task converts its rows
/// plus `2·reach_y` more, so taller kernels get taller bands.
const BAND: usize = 32;

/// Source row `src` as three f32 planes (R, G, B) of `plane` values each,
/// padded by `pad` reflected pixels each side; planes, not interleaved
/// pixels, so that conversion, taps and packing all run along memory.
#[inline(always)]
fn fill_row(src: &[u32], pad: usize, plane: usize, dst: &mut [f32]) {
    let w = src.len();
    let (r, gb) = dst.split_at_mut(plane);
    let (g, b) = gb.split_at_mut(plane);
    let planes = r[pad..pad + w]
        .iter_mut()
        .zip(&mut g[pad..pad + w])
        .zip(&mut b[pad..pad + w]);
    for (((r, g), b), &p) in planes.zip(src) {
        *r = (p & 0xff) as f32;
        *g = ((p >> 8) & 0xff) as f32;
        *b = ((p >> 16) & 0xff) as f32;
    }
    for i in (0..pad).chain(pad + w..2 * pad + w) {
        let p = src[reflect(i as i32 - pad as i32, w as i32) as usize];
        r[i] = (p & 0xff) as f32;
        g[i] = ((p >> 8) & 0xff) as f32;
        b[i] = ((p >> 16) & 0xff) as f32;
    }
}

/// The source rows a band of output rows reads, as padded planar rows
/// ([`fill_row`]): a ring of `2·reach_y + 1`, one row converted per output row.
struct Ring {
    rows: Vec<f32>,
    /// f32s per plane: the padded width.
    plane: usize,
    /// Where each tap of the current output row starts reading, and its weight.
    starts: Vec<(usize, f32)>,
    /// The output row's sums, one plane per channel.
    acc: Vec<f32>,
}

impl Ring {
    fn new(width: usize, (rx, ry): (usize, usize), taps: usize) -> Self {
        let plane = width + 2 * rx;
        Self {
            rows: vec![0.0; 3 * plane * (2 * ry + 1)],
            plane,
            starts: Vec::with_capacity(taps),
            acc: vec![0.0; 3 * width],
        }
    }
}

/// `acc[i] += w[0]·runs[0][i]`, then `+= w[1]·runs[1][i]`, and so on: the
/// taps' order, `N` of them per pass over `acc`, so that each sum is
/// loaded and stored once per `N` taps. `fresh` starts the sums from 0
/// instead of from `acc` (the same floats: `0 + x` is `x`).
#[inline(always)]
fn add_taps<const N: usize>(acc: &mut [f32], rows: &[f32], taps: &[(usize, f32)], fresh: bool) {
    let n = acc.len();
    let runs: [&[f32]; N] = std::array::from_fn(|k| &rows[taps[k].0..][..n]);
    let w: [f32; N] = std::array::from_fn(|k| taps[k].1);
    for (i, a) in acc.iter_mut().enumerate() {
        let mut s = if fresh { 0.0 } else { *a };
        for k in 0..N {
            s += w[k] * runs[k][i];
        }
        *a = s;
    }
}

/// Every tap of `starts` on one plane of sums, in order, eight per pass.
#[inline(always)]
fn add_plane(acc: &mut [f32], rows: &[f32], starts: &[(usize, f32)]) {
    for (g, taps) in starts.chunks(8).enumerate() {
        let fresh = g == 0;
        match taps.len() {
            8 => add_taps::<8>(acc, rows, taps, fresh),
            7 => add_taps::<7>(acc, rows, taps, fresh),
            6 => add_taps::<6>(acc, rows, taps, fresh),
            5 => add_taps::<5>(acc, rows, taps, fresh),
            4 => add_taps::<4>(acc, rows, taps, fresh),
            3 => add_taps::<3>(acc, rows, taps, fresh),
            2 => add_taps::<2>(acc, rows, taps, fresh),
            _ => add_taps::<1>(acc, rows, taps, fresh),
        }
    }
}

avx2_twin!(blur_band => blur_band_inner(
    src: &Frame,
    taps: &[Tap],
    reach: (usize, usize),
    y0: usize,
    ring: &mut Ring,
    band: &mut [u32],
));

/// Output rows `y0..` of `band`: for each row and channel, the taps in
/// order, each adding `w ·` its shifted source run to the row's sums: the
/// same sums in the same order as the shader's.
#[inline(always)]
fn blur_band_inner(
    src: &Frame,
    taps: &[Tap],
    (rx, ry): (usize, usize),
    y0: usize,
    ring: &mut Ring,
    band: &mut [u32],
) {
    let (width, height) = (src.width() as usize, src.height() as usize);
    let slots = 2 * ry + 1;
    let plane = ring.plane;
    let stride = 3 * plane;
    // Ring slot of virtual source row `v` (unreflected), v ≥ y0 - ry.
    let slot = |v: isize| (v + ry as isize - y0 as isize) as usize % slots;
    let source = |v: isize| {
        let sy = reflect(v as i32, height as i32) as usize;
        &src.pixels()[sy * width..][..width]
    };
    for v in y0 as isize - ry as isize..(y0 + ry) as isize {
        let dst = &mut ring.rows[slot(v) * stride..][..stride];
        fill_row(source(v), rx, plane, dst);
    }
    for (i, row) in band.chunks_exact_mut(width).enumerate() {
        let y = (y0 + i) as isize;
        let v = y + ry as isize;
        let dst = &mut ring.rows[slot(v) * stride..][..stride];
        fill_row(source(v), rx, plane, dst);
        ring.starts.clear();
        ring.starts.extend(taps.iter().map(|t| {
            let x = (rx as isize + t.dx as isize) as usize;
            (slot(y + t.dy as isize) * stride + x, t.w)
        }));
        for (c, acc) in ring.acc.chunks_exact_mut(width).enumerate() {
            add_plane(acc, &ring.rows[c * plane..], &ring.starts);
        }
        let alpha = &src.pixels()[y as usize * width..][..width];
        let (r, gb) = ring.acc.split_at(width);
        let (g, b) = gb.split_at(width);
        let rgb = r.iter().zip(g).zip(b);
        for ((o, &p), ((&r, &g), &b)) in row.iter_mut().zip(alpha).zip(rgb) {
            *o = pack_rgb(r, g, b) | (p & 0xff00_0000);
        }
    }
}

impl Op for MotionBlur {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let taps = taps(self.kernel_size, self.angle);
        let src = inputs[0];
        let width = src.width() as usize;
        let (rx, ry) = reach(&taps);
        let reach = (rx as usize, ry as usize);
        let rows = BAND.max(4 * reach.1);
        let ring = || Ring::new(width, reach, taps.len());
        out.pixels_mut()
            .par_chunks_mut((width * rows).max(1))
            .enumerate()
            .for_each_init(ring, |ring, (b, band)| {
                blur_band(src, &taps, reach, b * rows, ring, band)
            });
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let taps = taps(self.kernel_size, self.angle);
        let (reach_x, reach_y) = reach(&taps);
        let u = Uniforms {
            width: inputs[0].width,
            height: inputs[0].height,
            reach_x,
            reach_y,
        };
        let (chunks, ranges) = chunks(&taps, reach_y);
        GpuWork {
            scratch: vec![],
            passes: vec![GpuPass {
                shader: "motion_blur",
                entry: "main",
                bindings: vec![
                    (0, Binding::uniform(&u)),
                    (1, Binding::data(&chunks)),
                    (2, Binding::Input(0)),
                    (3, Binding::Output),
                    (4, Binding::data(&ranges)),
                ],
                // Blocks of BLOCK_COLS columns by 8 rows (the shader's COLS, ROWS).
                workgroups: [out.width.div_ceil(BLOCK_COLS), out.height.div_ceil(8), 1],
            }],
        }
    }
}

/// Columns of a shader workgroup's block: 32 threads a row, each making
/// nine adjacent columns (the shader's COLS).
const BLOCK_COLS: u32 = 288;

/// Up to four taps of one kernel row on adjacent columns, the shader's unit
/// of work: weights for `dx = d, d - 1, d - 2, d - 3` in that order (the
/// tap list's), 0 where the row has no tap.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
struct Chunk {
    w: [f32; 4],
    d: i32,
    pad: [u32; 3],
}

/// The taps as chunks, in the list's order, and for each kernel row `dy` in
/// `-reach_y..=reach_y` its chunks as `[start, end)` into them.
fn chunks(taps: &[Tap], reach_y: i32) -> (Vec<Chunk>, Vec<[u32; 2]>) {
    let mut chunks = Vec::new();
    let mut ranges = vec![[0u32; 2]; (2 * reach_y + 1) as usize];
    for row in taps.chunk_by(|a, b| a.dy == b.dy) {
        let start = chunks.len() as u32;
        let mut rest = row;
        while let [first, ..] = rest {
            let d = first.dx;
            let n = rest.iter().take_while(|t| d - t.dx < 4).count();
            let mut w = [0.0; 4];
            for t in &rest[..n] {
                w[(d - t.dx) as usize] = t.w;
            }
            chunks.push(Chunk { w, d, pad: [0; 3] });
            rest = &rest[n..];
        }
        ranges[(row[0].dy + reach_y) as usize] = [start, chunks.len() as u32];
    }
    (chunks, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{pack_rgba, unpack_rgba};

    /// (dx, dy) of every tap, each weight checked against `w`.
    fn offsets(taps: &[Tap], w: f32) -> Vec<(i32, i32)> {
        for t in taps {
            assert!((t.w - w).abs() < 1e-6, "{t:?}");
        }
        taps.iter().map(|t| (t.dx, t.dy)).collect()
    }

    #[test]
    fn right_angles_give_straight_lines() {
        // k = 5: five taps of 1/5 along x at 0° and 180°, along y at 90° and 270°.
        let row: Vec<(i32, i32)> = (-2..=2).rev().map(|d| (d, 0)).collect();
        assert_eq!(offsets(&taps(5, 0.0), 0.2), row);
        let col: Vec<(i32, i32)> = (-2..=2).rev().map(|d| (0, d)).collect();
        assert_eq!(offsets(&taps(5, 90.0), 0.2), col);
        assert_eq!(taps(5, 180.0).len(), 5);
        assert_eq!(offsets(&taps(5, 270.0), 0.2), col);
        assert_eq!(offsets(&taps(1, 0.0), 1.0), [(0, 0)]);
    }

    #[test]
    fn forty_five_degrees_runs_along_the_anti_diagonal() {
        // k = 3 turned by 45°: cell (j, i) samples the line at
        // y = 1 + ((j - 1) + (i - 1))/√2. The corners (0, 2) and (2, 0) sit
        // on it at x = 1 ∓ √2, outside [0, 2] by 0.414, so weight 1 - 0.414;
        // the centre has weight 1; the four edge midpoints are 1/√2 off the
        // line at x = 1 ± 1/√2, so (1 - 0.707)·1; the other two corners are
        // √2 off the line: 0.
        let a = 1.0 - (2f64.sqrt() - 1.0);
        let e = 1.0 - 0.5f64.sqrt();
        let sum = 1.0 + 2.0 * a + 4.0 * e;
        let mut want = [0f64; 9];
        want[4] = 1.0;
        want[2] = a;
        want[6] = a;
        for m in [1, 3, 5, 7] {
            want[m] = e;
        }
        let got = taps(3, 45.0);
        assert_eq!(got.len(), 7);
        for t in &got {
            // Tap (dx, dy) comes from kernel cell (j, i) = (1 - dx, 1 - dy).
            let cell = ((1 - t.dy) * 3 + (1 - t.dx)) as usize;
            assert!((f64::from(t.w) - want[cell] / sum).abs() < 1e-6, "{t:?}");
        }
    }

    fn impulse_response(kernel_size: u32, angle: f64) -> Frame {
        let size = Size::new(9, 9);
        let mut src = Frame::new(size);
        src.pixels_mut().fill(0xff00_0000);
        src.pixels_mut()[4 * 9 + 4] = 0xff00_00ff;
        let mut out = Frame::new(size);
        let ctx = FrameCtx {
            key: Default::default(),
        };
        MotionBlur { kernel_size, angle }.run_cpu(&ctx, &[&src], &mut out);
        out
    }

    #[test]
    fn an_impulse_becomes_a_line() {
        let red = |f: &Frame, x, y| f.get(x, y) & 0xff;
        // 255/5 = 51 on five pixels of the middle row, alpha kept.
        let h = impulse_response(5, 0.0);
        for x in 0..9 {
            let want = if (2..=6).contains(&x) { 51 } else { 0 };
            assert_eq!(red(&h, x, 4), want, "x = {x}");
            assert_eq!(red(&h, x, 3), 0);
        }
        assert!(h.pixels().iter().all(|p| p >> 24 == 0xff));
        let v = impulse_response(5, 90.0);
        for y in 0..9 {
            let want = if (2..=6).contains(&y) { 51 } else { 0 };
            assert_eq!(red(&v, 4, y), want, "y = {y}");
        }
        // 45° with k = 3: the weights above times 255, round to nearest:
        // centre 255/(1 + 2a + 4e), the anti-diagonal corners a times that.
        let d = impulse_response(3, 45.0);
        let a = 2.0 - 2f64.sqrt();
        let e = 1.0 - 0.5f64.sqrt();
        let centre = 255.0 / (1.0 + 2.0 * a + 4.0 * e);
        assert_eq!(red(&d, 4, 4), (centre + 0.5) as u32);
        assert_eq!(red(&d, 5, 3), (a * centre + 0.5) as u32);
        assert_eq!(red(&d, 3, 5), (a * centre + 0.5) as u32);
        assert_eq!(red(&d, 4, 3), (e * centre + 0.5) as u32);
        assert_eq!(red(&d, 3, 3), 0);
        assert_eq!(red(&d, 5, 5), 0);
    }

    /// A frame of scrambled pixels, alpha included.
    fn scrambled(w: u32, h: u32) -> Frame {
        let mut src = Frame::new(Size::new(w, h));
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            *p = (i as u32).wrapping_mul(2_654_435_761);
        }
        src
    }

    /// The definition, one pixel at a time: every tap in order, edges
    /// reflected per read (the shader's loop).
    fn direct(src: &Frame, taps: &[Tap]) -> Frame {
        let (w, h) = (src.width() as i32, src.height() as i32);
        let mut out = Frame::new(src.size());
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0f32; 3];
                for t in taps {
                    let sx = reflect(x + t.dx, w) as u32;
                    let sy = reflect(y + t.dy, h) as u32;
                    let c = unpack_rgba(src.get(sx, sy));
                    for (a, c) in acc.iter_mut().zip(c) {
                        *a += t.w * c;
                    }
                }
                let p = src.get(x as u32, y as u32);
                out.pixels_mut()[(y * w + x) as usize] =
                    pack_rgba([acc[0], acc[1], acc[2], (p >> 24) as f32]);
            }
        }
        out
    }

    #[test]
    fn bands_and_strips_give_the_per_pixel_sums_exactly() {
        // Widths off the strip size, heights over several bands and under
        // the kernel's reach, kernels reaching past the frame.
        let ctx = FrameCtx {
            key: Default::default(),
        };
        for (w, h, k, angle) in [
            (37, 75, 9, 33.0),
            (16, 3, 7, 0.0),
            (5, 70, 31, 100.0),
            (4, 4, 100, 33.0),
            (53, 41, 15, 270.0),
        ] {
            let src = scrambled(w, h);
            let mut out = Frame::new(src.size());
            MotionBlur {
                kernel_size: k,
                angle,
            }
            .run_cpu(&ctx, &[&src], &mut out);
            assert_eq!(
                out,
                direct(&src, &taps(k, angle)),
                "{w}x{h} k {k} at {angle}"
            );
        }
    }

    #[test]
    fn chunks_hold_every_tap_once_in_order_and_fit_the_shader() {
        for (k, angle) in [
            (1, 0.0),
            (7, 0.0),
            (31, 30.0),
            (31, 217.5),
            (100, 0.0),
            (100, 45.0),
            (100, 90.0),
        ] {
            let taps = taps(k, angle);
            let (rx, ry) = reach(&taps);
            // The shader's SPAN holds a block row and 50 columns each side.
            assert!(rx <= 50, "k {k} at {angle}: reach {rx}");
            let (chunks, ranges) = chunks(&taps, ry);
            assert_eq!(ranges.len(), (2 * ry + 1) as usize);
            // Row by row, dy falling, each chunk's non-zero weights in
            // order: the tap list again.
            let mut again = vec![];
            for dy in (-ry..=ry).rev() {
                let [start, end] = ranges[(dy + ry) as usize];
                for c in &chunks[start as usize..end as usize] {
                    assert!(c.w[0] != 0.0, "k {k} at {angle}: {c:?}");
                    for (j, &w) in c.w.iter().enumerate() {
                        if w != 0.0 {
                            again.push(Tap {
                                dx: c.d - j as i32,
                                dy,
                                w,
                            });
                        }
                    }
                }
            }
            assert_eq!(again, taps, "k {k} at {angle}");
        }
    }

    #[test]
    fn avx2_and_plain_paths_agree() {
        let taps = taps(9, 33.0);
        let src = scrambled(37, 5);
        let (rx, ry) = reach(&taps);
        let reach = (rx as usize, ry as usize);
        let (mut a, mut b) = (vec![0u32; 37 * 5], vec![0u32; 37 * 5]);
        blur_band(
            &src,
            &taps,
            reach,
            0,
            &mut Ring::new(37, reach, taps.len()),
            &mut a,
        );
        blur_band_inner(
            &src,
            &taps,
            reach,
            0,
            &mut Ring::new(37, reach, taps.len()),
            &mut b,
        );
        assert_eq!(a, b);
    }
}

//! Separable Gaussian blur, kernel cut at 4σ and edges reflected (scipy's
//! `gaussian_filter` defaults); alpha is not blurred. Two passes: rows into
//! an f32 scratch image, then columns back to 8 bits, so pixels are rounded
//! once. Twin: `shaders/blur_gaussian.wgsl`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, SUM_BLOCK,
    reflect,
};
use crate::frame::{Frame, Size, pack_rgba};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlurGaussian {
    pub sigma: f64,
}

const SIGMA: Param = Param {
    name: "sigma",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1000.0),
    doc: "standard deviation in pixels; 0 is the identity",
};

impl OpParams for BlurGaussian {
    const NAME: &'static str = "blur_gaussian";
    const SUMMARY: &'static str =
        "separable Gaussian blur, cut at 4 sigma, edges reflect, alpha kept";
    const PARAMS: &'static [Param] = &[SIGMA];

    fn validate(&self) -> Result<(), ParamError> {
        SIGMA.check(self.sigma)
    }
}

/// Normalized taps for offsets `-r..=r`, `r = floor(4σ + 0.5)` as scipy does;
/// computed once in f64 and shared by both backends as f32.
pub fn weights(sigma: f64) -> Vec<f32> {
    if sigma <= 0.0 {
        return vec![1.0];
    }
    let r = (4.0 * sigma + 0.5) as i64;
    let raw: Vec<f64> = (-r..=r)
        .map(|i| (-0.5 * (i * i) as f64 / (sigma * sigma)).exp())
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|w| (w / sum) as f32).collect()
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    radius: u32,
    stride: u32,
}

/// Outputs per workgroup of the shader's `horizontal` pass (`SEG`).
const SEGMENT: u32 = 1024;

impl Op for BlurGaussian {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let w = weights(self.sigma);
        let src = inputs[0];
        let (width, height) = (src.width() as usize, src.height() as usize);
        let (r, taps) = (w.len() / 2, w.len());
        // A row of the horizontal pass: its R, G and B planes, `width`
        // floats each, as the shader's scratch lays them out.
        let row_len = 3 * width;
        let padded = || vec![0f32; 3 * (width + 2 * r)];
        let alpha_rows = src.pixels().par_chunks(width);
        if height <= taps {
            // A frame no taller than the kernel: a band's ring would redo
            // its reflected rows many times over, so each row's horizontal
            // pass is done once (a scratch of at most `taps` rows) and the
            // columns read it reflected, as the shader does.
            let mut rows = vec![0f32; row_len * height];
            rows.par_chunks_mut(row_len)
                .zip(src.pixels().par_chunks(width))
                .for_each_init(padded, |padded, (line, row)| {
                    horizontal(row, &w, padded, line)
                });
            let bufs = || (vec![0f32; row_len], vec![0usize; taps]);
            out.pixels_mut()
                .par_chunks_mut(width)
                .zip(alpha_rows)
                .enumerate()
                .for_each_init(bufs, |(acc, at), (y, (line, alpha))| {
                    for (k, a) in at.iter_mut().enumerate() {
                        *a = reflect((y + k) as i32 - r as i32, height as i32) as usize;
                    }
                    vertical(&rows, at, &w, acc, alpha, line);
                });
            return;
        }
        // Bands of rows, one per thread (but at least 8 radii tall, as each
        // band recomputes the 2 radii of rows its neighbours also need):
        // each slides a ring of the last `taps` rows of the horizontal pass
        // (WGSL `horizontal`) down its band and emits an output row (WGSL
        // `vertical`) per step. Memory is a ring a thread, not a frame of
        // f32 (12 bytes a pixel), and the ring stays in cache.
        let bands = rayon::current_num_threads()
            .min(height / (8 * r).max(1))
            .max(1);
        let band_rows = height.div_ceil(bands);
        out.pixels_mut()
            .par_chunks_mut(band_rows * width)
            .zip(src.pixels().par_chunks(band_rows * width))
            .enumerate()
            .for_each(|(b, (lines, alpha))| {
                let y0 = b * band_rows;
                let mut ring = vec![0f32; taps * row_len];
                let mut padded = padded();
                let mut acc = vec![0f32; row_len];
                let mut at = vec![0usize; taps];
                for j in 0..lines.len() / width + 2 * r {
                    // Band row j holds source row y0 + j - r, reflected.
                    let sy = reflect((y0 + j) as i32 - r as i32, height as i32) as usize;
                    let row = &src.pixels()[sy * width..][..width];
                    horizontal(
                        row,
                        &w,
                        &mut padded,
                        &mut ring[j % taps * row_len..][..row_len],
                    );
                    if let Some(y) = j.checked_sub(2 * r) {
                        for (k, a) in at.iter_mut().enumerate() {
                            *a = (y + k) % taps;
                        }
                        let line = &mut lines[y * width..][..width];
                        let alpha = &alpha[y * width..][..width];
                        vertical(&ring, &at, &w, &mut acc, alpha, line);
                    }
                }
            });
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let w = weights(self.sigma);
        let size = inputs[0];
        let stride = size.width.next_multiple_of(4);
        let u = Uniforms {
            width: size.width,
            height: size.height,
            radius: (w.len() / 2) as u32,
            stride,
        };
        // Step s of the shader's sliding windows adds its value to its four
        // outputs with w[s], w[s - 1], w[s - 2], w[s - 3] (0 past the ends).
        let at = |k: usize| w.get(k).copied().unwrap_or(0.0);
        let steps: Vec<[f32; 4]> = (0..w.len() + 3)
            .map(|s| std::array::from_fn(|j| s.checked_sub(j).map_or(0.0, at)))
            .collect();
        let pass = |entry, workgroups, frames: Vec<(u32, Binding)>| {
            let mut bindings = vec![(0, Binding::uniform(&u)), (1, Binding::data(&steps))];
            bindings.extend(frames);
            GpuPass {
                shader: "blur_gaussian",
                entry,
                bindings,
                workgroups,
            }
        };
        GpuWork {
            // Three f32 colour planes: 12 bytes a pixel.
            scratch: vec![u64::from(stride) * u64::from(out.height) * 12],
            passes: vec![
                pass(
                    "horizontal",
                    [size.width.div_ceil(SEGMENT), size.height, 1],
                    vec![(2, Binding::Scratch(0)), (3, Binding::Input(0))],
                ),
                pass(
                    "vertical",
                    [size.width.div_ceil(32), size.height.div_ceil(32), 1],
                    vec![
                        (3, Binding::Input(0)),
                        (4, Binding::Output),
                        (5, Binding::Scratch(0)),
                    ],
                ),
            ],
        }
    }
}

avx2_twin!(horizontal => horizontal_inner(
    row: &[u32],
    w: &[f32],
    padded: &mut [f32],
    line: &mut [f32],
));

/// One row's colour blurred along x into `line`'s three planes; `padded`
/// is scratch for the row's planes padded by reflection. A plane at a time,
/// a block of outputs at a time ([`symmetric_sum`]), so the inner loop is a
/// plain SIMD multiply-add along memory.
#[inline(always)]
fn horizontal_inner(row: &[u32], w: &[f32], padded: &mut [f32], line: &mut [f32]) {
    let (n, r) = (row.len(), w.len() / 2);
    let planes = padded.chunks_exact_mut(n + 2 * r);
    for (c, (plane, out)) in planes.zip(line.chunks_exact_mut(n)).enumerate() {
        let channel = |p: u32| ((p >> (8 * c)) & 0xff) as f32;
        let edge = |i: i32| channel(row[reflect(i, n as i32) as usize]);
        let (left, rest) = plane.split_at_mut(r);
        let (middle, right) = rest.split_at_mut(n);
        for (i, v) in left.iter_mut().enumerate() {
            *v = edge(i as i32 - r as i32);
        }
        for (v, &p) in middle.iter_mut().zip(row) {
            *v = channel(p);
        }
        for (i, v) in right.iter_mut().enumerate() {
            *v = edge((n + i) as i32);
        }
        let plane = &*plane;
        symmetric_sum(out, w, |k| &plane[k..k + n]);
    }
}

/// `out[i] = Σ_k w[k] · tap(k)[i]` for a symmetric kernel (`w[r - k] ==
/// w[r + k]`): the centre term, then each mirrored pair of terms added
/// before its one multiply, nearest first, so that a tap costs three
/// quarters of the float work of a plain sum. A block of outputs at a time
/// stays in registers, as in [`weighted_sum`](super::weighted_sum).
#[inline(always)]
fn symmetric_sum<'a>(out: &mut [f32], w: &[f32], tap: impl Fn(usize) -> &'a [f32]) {
    let start = out.len() - out.len() % SUM_BLOCK;
    let mut blocks = out.chunks_exact_mut(SUM_BLOCK);
    for (b, block) in blocks.by_ref().enumerate() {
        let mut acc = [0f32; SUM_BLOCK];
        symmetric_block(&mut acc, b * SUM_BLOCK, w, &tap);
        block.copy_from_slice(&acc);
    }
    symmetric_block(blocks.into_remainder(), start, w, &tap);
}

/// [`symmetric_sum`] for the outputs `at..at + acc.len()`.
#[inline(always)]
fn symmetric_block<'a>(acc: &mut [f32], at: usize, w: &[f32], tap: &impl Fn(usize) -> &'a [f32]) {
    // Taps sliced to the block's length, so that its loops have a fixed
    // trip count and unroll onto registers.
    let (n, r) = (acc.len(), w.len() / 2);
    for (a, &x) in acc.iter_mut().zip(&tap(r)[at..][..n]) {
        *a = w[r] * x;
    }
    for k in 1..=r {
        let (near, far) = (&tap(r - k)[at..][..n], &tap(r + k)[at..][..n]);
        for ((a, &x), &y) in acc.iter_mut().zip(near).zip(far) {
            *a += w[r + k] * (x + y);
        }
    }
}

avx2_twin!(vertical => vertical_inner(
    rows: &[f32],
    at: &[usize],
    w: &[f32],
    acc: &mut [f32],
    alpha: &[u32],
    line: &mut [u32],
));

/// One output row: the horizontal pass's rows `at[k]` of `rows` (tap k's
/// row) blurred along y, a block at a time, with the alpha of the input
/// row `alpha`.
#[inline(always)]
fn vertical_inner(
    rows: &[f32],
    at: &[usize],
    w: &[f32],
    acc: &mut [f32],
    alpha: &[u32],
    line: &mut [u32],
) {
    let (width, len) = (line.len(), acc.len());
    symmetric_sum(acc, w, |k| &rows[at[k] * len..][..len]);
    let (red, rest) = acc.split_at(width);
    let (green, blue) = rest.split_at(width);
    let rgb = red.iter().zip(green).zip(blue);
    for ((o, &p), ((&r, &g), &b)) in line.iter_mut().zip(alpha).zip(rgb) {
        *o = pack_rgba([r, g, b, (p >> 24) as f32]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::unpack_rgba;

    #[test]
    fn weights_follow_scipy_radius_and_sum_to_one() {
        assert_eq!(weights(0.0), [1.0]);
        assert_eq!(weights(1.0).len(), 9);
        assert_eq!(weights(3.0).len(), 25);
        let sum: f32 = weights(2.5).iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
    }

    #[test]
    fn flat_image_stays_flat_and_alpha_is_kept() {
        let size = Size::new(7, 5);
        let mut src = Frame::new(size);
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            *p = pack_rgba([90.0, 40.0, 200.0, i as f32]);
        }
        let mut out = Frame::new(size);
        let ctx = FrameCtx {
            key: Default::default(),
        };
        BlurGaussian { sigma: 2.0 }.run_cpu(&ctx, &[&src], &mut out);
        assert_eq!(out, src);
    }

    #[test]
    fn avx2_and_plain_paths_agree() {
        let w = weights(2.3);
        let r = w.len() / 2;
        let row: Vec<u32> = (0..61u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
        let (mut simd, mut plain) = (vec![0f32; 3 * 61], vec![0f32; 3 * 61]);
        horizontal(&row, &w, &mut vec![0.0; 3 * (61 + 2 * r)], &mut simd);
        horizontal_inner(&row, &w, &mut vec![0.0; 3 * (61 + 2 * r)], &mut plain);
        assert_eq!(simd, plain);

        let ring: Vec<f32> = (0..3 * 61 * w.len())
            .map(|i| [i as f32 * 0.7, 3.0, 250.0][i % 3])
            .collect();
        let (mut a, mut b) = (vec![0u32; 61], vec![0u32; 61]);
        let at: Vec<usize> = (0..w.len()).map(|k| (2 + k) % w.len()).collect();
        vertical(&ring, &at, &w, &mut vec![0.0; 3 * 61], &row, &mut a);
        vertical_inner(&ring, &at, &w, &mut vec![0.0; 3 * 61], &row, &mut b);
        assert_eq!(a, b);
    }

    /// The two passes over the whole frame, written plainly: a frame of f32
    /// rows, then columns, each sum the centre term and then the mirrored
    /// pairs, nearest first, edges reflected.
    fn whole_frame(src: &Frame, sigma: f64) -> Frame {
        let w = weights(sigma);
        let (width, height, r) = (src.width() as i32, src.height() as i32, w.len() / 2);
        // Channel c of the kernel over the values `v(d)` at offsets d.
        let blur = |v: &dyn Fn(i32) -> [f32; 3]| -> [f32; 3] {
            std::array::from_fn(|c| {
                let mut acc = w[r] * v(0)[c];
                for k in 1..=r {
                    acc += w[r + k] * (v(-(k as i32))[c] + v(k as i32)[c]);
                }
                acc
            })
        };
        let at = |x: i32, y: i32| unpack_rgba(src.get(x as u32, y as u32));
        let rows: Vec<[f32; 3]> = (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                let p = |d: i32| at(reflect(x + d, width), y);
                blur(&|d| [p(d)[0], p(d)[1], p(d)[2]])
            })
            .collect();
        let mut out = Frame::new(src.size());
        for (i, o) in out.pixels_mut().iter_mut().enumerate() {
            let (x, y) = (i as i32 % width, i as i32 / width);
            let acc = blur(&|d| rows[(reflect(y + d, height) * width + x) as usize]);
            *o = pack_rgba([acc[0], acc[1], acc[2], at(x, y)[3]]);
        }
        out
    }

    #[test]
    fn bands_give_the_whole_frame_passes_bytes_at_any_thread_count() {
        let ctx = FrameCtx {
            key: Default::default(),
        };
        for (width, height, sigma) in [
            (1, 1, 3.0),
            (7, 3, 3.0),
            (61, 200, 3.0),
            (33, 97, 1.2),
            (40, 9, 0.0),
            (20, 25, 3.0),
            (20, 26, 3.0),
            // Wider than two blocks of outputs, the last one partial.
            (150, 120, 3.0),
        ] {
            let mut src = Frame::new(Size::new(width, height));
            for (i, p) in src.pixels_mut().iter_mut().enumerate() {
                *p = (i as u32).wrapping_mul(2_654_435_761);
            }
            let want = whole_frame(&src, sigma);
            for threads in [1, 3, 7] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut out = Frame::new(src.size());
                pool.install(|| BlurGaussian { sigma }.run_cpu(&ctx, &[&src], &mut out));
                assert!(
                    out == want,
                    "{width}x{height} sigma {sigma}, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn a_point_spreads_symmetrically() {
        let size = Size::new(9, 9);
        let mut src = Frame::new(size);
        src.pixels_mut()[4 * 9 + 4] = pack_rgba([255.0, 0.0, 0.0, 255.0]);
        let mut out = Frame::new(size);
        let ctx = FrameCtx {
            key: Default::default(),
        };
        BlurGaussian { sigma: 1.0 }.run_cpu(&ctx, &[&src], &mut out);
        let r = |x, y| unpack_rgba(out.get(x, y))[0];
        assert_eq!(r(3, 4), r(5, 4));
        assert_eq!(r(4, 3), r(3, 4));
        assert!(r(4, 4) > r(3, 4) && r(3, 4) > r(2, 4));
    }
}

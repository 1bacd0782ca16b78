//! Resampling to any size with Pillow's filters: separable, antialiased when
//! shrinking (the filter's support grows with the reduction), edge taps
//! dropped and the rest renormalized, as Pillow's `resize` does. `downscale`
//! runs through the same kernels. Twin: `shaders/resize.wgsl`.
//!
//! All four channels are resampled alike (straight, not premultiplied alpha),
//! so colour under fully transparent pixels can bleed into visible ones.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, par_rows,
    weighted_sum,
};
use crate::frame::{Frame, Size, pack_rgba, unpack_rgba};

/// The largest width or height an op may produce.
pub const MAX_SIDE: u32 = 16384;

/// Resampling filters, as Pillow defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    Nearest,
    Box,
    Bilinear,
    Bicubic,
    Lanczos,
}

/// The filter names, for `stillgraph ops` and error messages.
pub const FILTERS: &[&str] = &["nearest", "box", "bilinear", "bicubic", "lanczos"];

impl Filter {
    fn support(self) -> f64 {
        match self {
            Filter::Nearest | Filter::Box => 0.5,
            Filter::Bilinear => 1.0,
            Filter::Bicubic => 2.0,
            Filter::Lanczos => 3.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        let sinc = |x: f64| {
            if x == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            }
        };
        match self {
            Filter::Nearest | Filter::Box => f64::from(u8::from((-0.5..0.5).contains(&x))),
            Filter::Bilinear => (1.0 - x.abs()).max(0.0),
            Filter::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Filter::Lanczos => {
                if x.abs() < 3.0 {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

/// The taps of one axis: output `i` reads inputs `starts[i] ..` with
/// `weights[i * taps ..][..taps]` (zero-padded; tap indices past the input
/// are clamped, their weight is 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub taps: u32,
    pub starts: Vec<u32>,
    pub weights: Vec<f32>,
}

/// Pillow's `precompute_coeffs`, in f64, handed to both backends as f32.
pub fn axis(input: u32, output: u32, filter: Filter) -> Axis {
    let scale = f64::from(input) / f64::from(output);
    if filter == Filter::Nearest {
        let starts = (0..output)
            .map(|i| (((f64::from(i) + 0.5) * scale) as u32).min(input - 1))
            .collect();
        return Axis {
            taps: 1,
            starts,
            weights: vec![1.0; output as usize],
        };
    }
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let taps = support.ceil() as u32 * 2 + 1;
    let mut starts = Vec::with_capacity(output as usize);
    let mut weights = vec![0f32; output as usize * taps as usize];
    for (i, row) in weights.chunks_mut(taps as usize).enumerate() {
        let center = (i as f64 + 0.5) * scale;
        let lo = ((center - support + 0.5) as i64).max(0);
        let hi = ((center + support + 0.5) as i64).min(i64::from(input));
        let raw: Vec<f64> = (lo..hi)
            .take(taps as usize)
            .map(|x| filter.weight((x as f64 - center + 0.5) / filterscale))
            .collect();
        let sum: f64 = raw.iter().sum();
        for (w, r) in row.iter_mut().zip(&raw) {
            *w = if sum == 0.0 { 0.0 } else { (r / sum) as f32 };
        }
        starts.push(lo as u32);
    }
    Axis {
        taps,
        starts,
        weights,
    }
}

/// Resamples `src` into `out` (already sized): rows into f32, then columns
/// back to 8 bits, as the two WGSL passes do.
impl Axis {
    /// The same sums without the tap columns that are 0 for every output:
    /// Pillow's bound on a window is one more than a halving's box (2) or
    /// bicubic (8) reads. The CPU's loops go a tap at a time, so a zero
    /// tap costs it a term; the GPU keeps the bound, as its tables were
    /// measured slower with the shorter count (BENCHMARKS.md, 2026-12-04).
    fn trimmed(self) -> Axis {
        let taps = self.taps as usize;
        let used = (0..taps)
            .rev()
            .find(|&t| self.weights.chunks(taps).any(|w| w[t] != 0.0))
            .map_or(1, |t| t + 1);
        if used == taps {
            return self;
        }
        let weights = self
            .weights
            .chunks(taps)
            .flat_map(|w| w[..used].to_vec())
            .collect();
        Axis {
            taps: used as u32,
            starts: self.starts,
            weights,
        }
    }
}

pub fn resample(src: &Frame, out: &mut Frame, filter: Filter) {
    let (iw, ih) = (src.width() as usize, src.height() as usize);
    let (ow, oh) = (out.width(), out.height());
    let ax = axis(iw as u32, ow, filter).trimmed();
    let ay = axis(ih as u32, oh, filter).trimmed();
    let ow = ow as usize;

    if ax.taps == 1 && ay.taps == 1 {
        // Nearest both ways: the float passes would multiply by exactly 1.0
        // and round back, so gathering the packed pixels is the same result.
        return par_rows(out, |y, line| {
            let row = &src.pixels()[ay.starts[y as usize] as usize * iw..][..iw];
            for (o, &sx) in line.iter_mut().zip(&ax.starts) {
                *o = row[sx as usize];
            }
        });
    }

    // Bands of output rows, one per thread. Each slides a ring of the
    // input rows its outputs reach (WGSL `horizontal`, each needed row
    // once) down its band and emits an output row (WGSL `vertical`) per
    // step: a few rows of f32 a thread, where a frame of them (out_w × in_h
    // × 16 bytes, twice a halving's input) was needed before.
    let (oh, taps) = (oh as usize, ay.taps as usize);
    let band_rows = oh.div_ceil(rayon::current_num_threads().clamp(1, oh.max(1)));
    out.pixels_mut()
        .par_chunks_mut(band_rows * ow)
        .enumerate()
        .for_each(|(b, lines)| {
            let mut ring = vec![[0f32; 4]; taps * ow];
            let mut unpacked = vec![[0f32; 4]; iw + ax.taps as usize];
            let mut acc = vec![[0f32; 4]; ow];
            let mut next = 0; // the first input row not yet in the ring
            for (k, line) in lines.chunks_mut(ow).enumerate() {
                let y = b * band_rows + k;
                let start = ay.starts[y] as usize;
                let end = (start + taps - 1).min(ih - 1);
                // Rows past the window's end are not computed yet, so none
                // of the window's rows has been written over (ring of taps).
                for sy in next.max(start)..=end {
                    let px = &src.pixels()[sy * iw..][..iw];
                    horizontal(px, &ax, &mut unpacked, &mut ring[sy % taps * ow..][..ow]);
                }
                next = next.max(end + 1);
                vertical(&ring, y, &ay, ih, &mut acc, line);
            }
        });
}

avx2_twin!(horizontal => horizontal_inner(
    px: &[u32],
    ax: &Axis,
    row: &mut [[f32; 4]],
    line: &mut [[f32; 4]],
));

/// One input row resampled along x into `line`; `row` is scratch for the
/// row unpacked, `taps` longer than it: the last pixel repeated, so that
/// every window is a plain slice (tap indices past the input are clamped,
/// and their weight is 0).
#[inline(always)]
fn horizontal_inner(px: &[u32], ax: &Axis, row: &mut [[f32; 4]], line: &mut [[f32; 4]]) {
    let (iw, taps) = (px.len(), ax.taps as usize);
    for (r, &p) in row.iter_mut().zip(px) {
        *r = unpack_rgba(p);
    }
    let last = row[iw - 1];
    row[iw..].fill(last);
    // The common tap counts with the count known to the compiler, so that
    // a window's loop unrolls; others with the count read at run time.
    match taps {
        2 => windows::<2>(row, ax, line),
        4 => windows::<4>(row, ax, line),
        6 => windows::<6>(row, ax, line),
        8 => windows::<8>(row, ax, line),
        _ => windows::<0>(row, ax, line),
    }
}

/// Each output of `line` summed over its window of `row`, `N` taps long
/// (`N == 0`: the axis's count).
#[inline(always)]
fn windows<const N: usize>(row: &[[f32; 4]], ax: &Axis, line: &mut [[f32; 4]]) {
    let taps = if N == 0 { ax.taps as usize } else { N };
    for ((o, weights), &start) in line.iter_mut().zip(ax.weights.chunks(taps)).zip(&ax.starts) {
        let mut acc = [0f32; 4];
        for (&w, p) in weights[..taps].iter().zip(&row[start as usize..][..taps]) {
            for c in 0..4 {
                acc[c] += w * p[c];
            }
        }
        *o = acc;
    }
}

avx2_twin!(vertical => vertical_inner(
    ring: &[[f32; 4]],
    y: usize,
    ay: &Axis,
    ih: usize,
    acc: &mut [[f32; 4]],
    line: &mut [u32],
));

/// Output row `y` from the horizontal pass's rows (input row `sy` in ring
/// row `sy % taps`), a whole row of one tap at a time.
#[inline(always)]
fn vertical_inner(
    ring: &[[f32; 4]],
    y: usize,
    ay: &Axis,
    ih: usize,
    acc: &mut [[f32; 4]],
    line: &mut [u32],
) {
    let ow = line.len();
    let n = ay.taps as usize;
    let taps = &ay.weights[y * n..][..n];
    weighted_sum(acc.as_flattened_mut(), taps, |t| {
        let sy = (ay.starts[y] as usize + t).min(ih - 1);
        ring[sy % n * ow..][..ow].as_flattened()
    });
    for (o, a) in line.iter_mut().zip(acc.iter()) {
        *o = pack_rgba(*a);
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    in_width: u32,
    in_height: u32,
    out_width: u32,
    out_height: u32,
    /// The rows pass: source pixels per column group, and how many groups.
    len: u32,
    groups: u32,
    pad: [u32; 2],
}

/// Bytes of f32 scratch that [`passes`] needs for a resize from `from` to
/// `to`: none for nearest, which gathers in one pass.
pub fn scratch_bytes(from: Size, to: Size, filter: Filter) -> u64 {
    match filter {
        Filter::Nearest => 0,
        _ => u64::from(to.width) * u64::from(from.height) * 16,
    }
}

/// An axis's outputs in fours, as the shader takes them: each group's first
/// source index and, for each source index from there to the group's last
/// tap, the weight of each of its four outputs, 0 where the index is not
/// one of that output's taps (or the output is past the end). A zero term
/// changes no sum, so each output still adds exactly its own taps in order.
fn groups_of_four(a: &Axis) -> Vec<(u32, Vec<[f32; 4]>)> {
    let (n, taps) = (a.starts.len(), a.taps as usize);
    (0..n)
        .step_by(4)
        .map(|g| {
            let starts = &a.starts[g..(g + 4).min(n)];
            let first = *starts.iter().min().expect("a group has an output") as usize;
            let end = *starts.iter().max().expect("a group has an output") as usize + taps;
            let weights = (first..end)
                .map(|s| {
                    std::array::from_fn(|j| match starts.get(j) {
                        Some(&start) if s.wrapping_sub(start as usize) < taps => {
                            a.weights[(g + j) * taps + s - start as usize]
                        }
                        _ => 0.0,
                    })
                })
                .collect();
            (first as u32, weights)
        })
        .collect()
}

/// The rows pass's tables: each column group's first source column, the
/// longest group's length, and the weights entry-major (entry `k` of group
/// `g` at `k * groups + g`, shorter groups padded with zeros).
fn column_tables(a: &Axis) -> (Vec<u32>, u32, Vec<[f32; 4]>) {
    let groups = groups_of_four(a);
    let len = groups.iter().map(|(_, w)| w.len()).max().unwrap_or(0);
    let firsts = groups.iter().map(|(f, _)| *f).collect();
    let weights = (0..len)
        .flat_map(|k| {
            groups
                .iter()
                .map(move |(_, w)| w.get(k).copied().unwrap_or([0.0; 4]))
        })
        .collect();
    (firsts, len as u32, weights)
}

/// The columns pass's tables: per row group `[first, at, len, 0]` (its
/// first source row, where its weights start, how many rows), and the
/// weights group after group.
fn row_tables(a: &Axis) -> (Vec<[u32; 4]>, Vec<[f32; 4]>) {
    let mut table = Vec::new();
    let groups = groups_of_four(a)
        .into_iter()
        .map(|(first, w)| {
            let entry = [first, table.len() as u32, w.len() as u32, 0];
            table.extend(w);
            entry
        })
        .collect();
    (groups, table)
}

/// The passes resampling `src` (of size `from`) into `dst` (of size `to`):
/// one gather for nearest, else two through the f32 scratch buffer `rows`.
pub fn passes(
    src: Binding,
    dst: Binding,
    rows: Binding,
    from: Size,
    to: Size,
    filter: Filter,
) -> Vec<GpuPass> {
    let ax = axis(from.width, to.width, filter);
    let ay = axis(from.height, to.height, filter);
    let uniforms = |len, groups| {
        Binding::uniform(&Uniforms {
            in_width: from.width,
            in_height: from.height,
            out_width: to.width,
            out_height: to.height,
            len,
            groups,
            pad: [0; 2],
        })
    };
    let pass = |entry, workgroups, bindings| GpuPass {
        shader: "resize",
        entry,
        bindings,
        workgroups,
    };
    if ax.taps == 1 && ay.taps == 1 {
        return vec![pass(
            "gather",
            [to.width.div_ceil(64), to.height.div_ceil(4), 1],
            vec![
                (0, uniforms(0, 0)),
                (1, Binding::data(&ax.starts)),
                (6, Binding::data(&ay.starts)),
                (4, src),
                (5, dst),
            ],
        )];
    }
    let (firsts, len, col_weights) = column_tables(&ax);
    let groups = firsts.len() as u32;
    let (row_groups, row_weights) = row_tables(&ay);
    vec![
        // 64x4 threads, each four columns in four rows.
        pass(
            "horizontal",
            [groups.div_ceil(64), from.height.div_ceil(16), 1],
            vec![
                (0, uniforms(len, groups)),
                (1, Binding::data(&firsts)),
                (2, Binding::data(&col_weights)),
                (3, rows.clone()),
                (4, src),
            ],
        ),
        // 64x4 threads, each four rows of one column.
        pass(
            "vertical",
            [to.width.div_ceil(64), to.height.div_ceil(16), 1],
            vec![
                (0, uniforms(0, 0)),
                (3, rows),
                (5, dst),
                (7, Binding::data(&row_groups)),
                (8, Binding::data(&row_weights)),
            ],
        ),
    ]
}

/// `resize(scale: 2.0)`, `resize(width: 640)` (height keeps the aspect
/// ratio) or `resize(width: 640, height: 480)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resize {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    #[serde(default = "bicubic")]
    pub method: Filter,
}

fn bicubic() -> Filter {
    Filter::Bicubic
}

const WIDTH: Param = Param {
    name: "width",
    ty: "integer",
    default: Some("from height or scale"),
    allowed: Allowed::Range(1.0, MAX_SIDE as f64),
    doc: "output width; alone, the height keeps the aspect ratio",
};
const HEIGHT: Param = Param {
    name: "height",
    ty: "integer",
    default: Some("from width or scale"),
    allowed: Allowed::Range(1.0, MAX_SIDE as f64),
    doc: "output height; alone, the width keeps the aspect ratio",
};
const SCALE: Param = Param {
    name: "scale",
    ty: "number",
    default: Some("none"),
    allowed: Allowed::Range(0.001, 64.0),
    doc: "factor for both sides (instead of width/height); sides are truncated, at least 1",
};
const METHOD: Param = Param {
    name: "method",
    ty: "word",
    default: Some("bicubic"),
    allowed: Allowed::OneOf(FILTERS),
    doc: "resampling filter (Pillow's)",
};

impl OpParams for Resize {
    const NAME: &'static str = "resize";
    const SUMMARY: &'static str = "resample to any size or factor with Pillow's filters";
    const PARAMS: &'static [Param] = &[WIDTH, HEIGHT, SCALE, METHOD];

    fn validate(&self) -> Result<(), ParamError> {
        match (self.scale, self.width, self.height) {
            (Some(s), None, None) => SCALE.check(s),
            (None, None, None) => Err(SCALE.missing("give scale, or width and/or height")),
            (Some(s), _, _) => Err(ParamError {
                allowed: "scale alone, or width and/or height".into(),
                ..SCALE.error(s)
            }),
            (None, w, h) => {
                w.map_or(Ok(()), |w| WIDTH.check(f64::from(w)))?;
                h.map_or(Ok(()), |h| HEIGHT.check(f64::from(h)))
            }
        }
    }
}

/// `max(1, trunc(side · scale))`, the reference's rounding for scaled sizes.
pub fn scaled(size: Size, scale: f64) -> Size {
    let side = |s: u32| ((f64::from(s) * scale) as u32).max(1);
    Size::new(side(size.width), side(size.height))
}

impl Op for Resize {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        let input = inputs[0];
        let keep = |from: u32, to: u32, other: u32| {
            ((f64::from(other) * f64::from(to) / f64::from(from)).round() as u32).max(1)
        };
        let (size, param) = match (self.scale, self.width, self.height) {
            (Some(s), _, _) => (scaled(input, s), SCALE),
            (None, Some(w), Some(h)) => (Size::new(w, h), WIDTH),
            (None, Some(w), None) => (Size::new(w, keep(input.width, w, input.height)), WIDTH),
            (None, None, Some(h)) => (Size::new(keep(input.height, h, input.width), h), HEIGHT),
            (None, None, None) => (input, SCALE),
        };
        if size.width > MAX_SIDE || size.height > MAX_SIDE {
            return Err(ParamError {
                allowed: format!(
                    "an output of at most {MAX_SIDE}x{MAX_SIDE} (this input is {input})"
                ),
                ..param.error(format!(
                    "{:?} giving {size}",
                    self.scale.unwrap_or(f64::NAN)
                ))
            });
        }
        Ok(size)
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        resample(inputs[0], out, self.method);
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        GpuWork {
            scratch: vec![scratch_bytes(inputs[0], out, self.method)],
            passes: passes(
                Binding::Input(0),
                Binding::Output,
                Binding::Scratch(0),
                inputs[0],
                out,
                self.method,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two passes over the whole frame, as the shader does them: every
    /// input row resampled into a frame of f32 rows, then the columns.
    fn whole_frame(src: &Frame, out: Size, filter: Filter) -> Frame {
        let (iw, ih, ow) = (
            src.width() as usize,
            src.height() as usize,
            out.width as usize,
        );
        let (ax, ay) = (
            axis(iw as u32, out.width, filter),
            axis(ih as u32, out.height, filter),
        );
        let mut rows = vec![[0f32; 4]; ow * ih];
        for (line, px) in rows.chunks_mut(ow).zip(src.pixels().chunks(iw)) {
            horizontal_inner(px, &ax, &mut vec![[0f32; 4]; iw + ax.taps as usize], line);
        }
        let mut frame = Frame::new(out);
        let n = ay.taps as usize;
        for (y, line) in frame.pixels_mut().chunks_mut(ow).enumerate() {
            for (x, o) in line.iter_mut().enumerate() {
                let mut a = [0f32; 4];
                for t in 0..n {
                    let sy = (ay.starts[y] as usize + t).min(ih - 1);
                    for c in 0..4 {
                        a[c] += ay.weights[y * n + t] * rows[sy * ow + x][c];
                    }
                }
                *o = pack_rgba(a);
            }
        }
        frame
    }

    #[test]
    fn bands_give_the_whole_frame_passes_bytes_at_any_thread_count() {
        let mut src = Frame::new(Size::new(37, 53));
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            *p = (i as u32).wrapping_mul(0x9E37_79B9);
        }
        for (out, filter) in [
            (Size::new(18, 26), Filter::Bicubic),
            (Size::new(74, 106), Filter::Lanczos),
            (Size::new(5, 3), Filter::Box),
            (Size::new(37, 1), Filter::Bilinear),
            (Size::new(40, 200), Filter::Nearest),
        ] {
            let want = whole_frame(&src, out, filter);
            for threads in [1, 3, 7] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut got = Frame::new(out);
                pool.install(|| resample(&src, &mut got, filter));
                assert!(got == want, "{out} {filter:?}, {threads} threads");
            }
        }
    }

    #[test]
    fn same_size_is_the_identity_for_every_filter() {
        let size = Size::new(5, 4);
        let mut src = Frame::new(size);
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            *p = (i as u32).wrapping_mul(0x9E37_79B9);
        }
        for filter in [
            Filter::Nearest,
            Filter::Box,
            Filter::Bilinear,
            Filter::Bicubic,
            Filter::Lanczos,
        ] {
            let mut out = Frame::new(size);
            resample(&src, &mut out, filter);
            assert_eq!(out, src, "{filter:?}");
        }
    }

    #[test]
    fn halving_with_box_averages_pairs() {
        let a = axis(4, 2, Filter::Box);
        assert_eq!(a.starts, [0, 2]);
        assert_eq!(&a.weights[..2], [0.5, 0.5]);
    }

    #[test]
    fn grouped_weights_sum_each_output_exactly_as_its_own_taps_do() {
        // The shader's loops over a group's source pixels, through both
        // tables' layouts, against each output's taps in order, on
        // scrambled values: the same floats, bit for bit.
        let values: Vec<f32> = (0..40u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as f32)
            .collect();
        for (input, output, filter) in [
            (40, 81, Filter::Lanczos),
            (40, 19, Filter::Bicubic),
            (40, 3, Filter::Box),
            (40, 40, Filter::Bilinear),
        ] {
            let a = axis(input, output, filter);
            let pixel = |s: usize| values[s.min(input as usize - 1)];
            let (groups, table) = row_tables(&a);
            let (firsts, len, columns) = column_tables(&a);
            let taps = a.taps as usize;
            for y in 0..output as usize {
                let (g, j) = (y / 4, y % 4);
                let mut own = 0f32;
                for t in 0..taps {
                    own += a.weights[y * taps + t] * pixel(a.starts[y] as usize + t);
                }
                let [first, at, n, _] = groups[g];
                let mut by_rows = 0f32;
                for k in 0..n as usize {
                    by_rows += table[at as usize + k][j] * pixel(first as usize + k);
                }
                let mut by_columns = 0f32;
                for k in 0..len as usize {
                    by_columns += columns[k * firsts.len() + g][j] * pixel(firsts[g] as usize + k);
                }
                let what = format!("{filter:?} {input}->{output} output {y}");
                assert_eq!(own.to_bits(), by_rows.to_bits(), "{what}, rows");
                assert_eq!(own.to_bits(), by_columns.to_bits(), "{what}, columns");
            }
        }
    }

    #[test]
    fn nearest_upscale_repeats_pixels() {
        let a = axis(2, 6, Filter::Nearest);
        assert_eq!(a.starts, [0, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn weights_are_normalized() {
        for filter in [Filter::Bilinear, Filter::Bicubic, Filter::Lanczos] {
            let a = axis(100, 37, filter);
            for row in a.weights.chunks(a.taps as usize) {
                let sum: f32 = row.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{filter:?}: {sum}");
            }
        }
    }

    #[test]
    fn sizes_follow_the_parameters() {
        let input = [Size::new(640, 480)];
        let r = |width, height, scale| Resize {
            width,
            height,
            scale,
            method: Filter::Bicubic,
        };
        assert_eq!(
            r(None, None, Some(0.5)).output_size(&input),
            Ok(Size::new(320, 240))
        );
        assert_eq!(
            r(Some(320), None, None).output_size(&input),
            Ok(Size::new(320, 240))
        );
        assert_eq!(
            r(None, Some(96), None).output_size(&input),
            Ok(Size::new(128, 96))
        );
        assert!(r(None, None, Some(64.0)).output_size(&input).is_err());
        assert!(r(Some(1), None, Some(2.0)).validate().is_err());
    }
}

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

/// `n / d` for every `n < 2^bits` as a multiply and a shift, which
/// vectorize where integer division does not: with `l = ⌈log₂ d⌉` and
/// `m = ⌈2^(bits+l) / d⌉`, `n·m / 2^(bits+l)` exceeds `n/d` by less than
/// `1/d`, so its floor is `n / d` exactly (Granlund and Montgomery).
#[derive(Clone, Copy, Debug)]
struct Divider {
    m: u64,
    shift: u32,
}

impl Divider {
    /// `bits ≤ 30` and `d < 2^22` keep `m < 2^32` and `n·m < 2^62`.
    fn new(d: u32, bits: u32) -> Self {
        debug_assert!(d > 0 && bits <= 30 && d < 1 << 22);
        let l = 32 - (d - 1).leading_zeros();
        let shift = bits + l;
        let m = (1u64 << shift).div_ceil(u64::from(d));
        Self { m, shift }
    }

    #[inline(always)]
    fn div(self, n: u32) -> u32 {
        ((u64::from(n) * self.m) >> self.shift) as u32
    }
}

/// Disks at most this many rows tall keep their rows' sums in a ring per
/// task; taller ones (far past the frame, most rows reflections of others)
/// share one set of sums for the whole frame.
const MAX_RING: usize = 129;

/// Output rows per parallel task, at least: each task with a ring sums its
/// rows plus `2r` more, so larger disks get taller bands.
const BAND: usize = 32;

/// A row's prefix sums over the row padded by `r` reflected pixels each
/// side, as three planes (R, G, B) of `stride = width + 2r + 1` entries:
/// entry `i` sums padded pixels `0..i`.
#[inline(always)]
fn prefix_row(row: &[u32], r: usize, dst: &mut [u32]) {
    let (w, stride) = (row.len(), row.len() + 2 * r + 1);
    let (pr, gb) = dst.split_at_mut(stride);
    let (pg, pb) = gb.split_at_mut(stride);
    (pr[0], pg[0], pb[0]) = (0, 0, 0);
    let mut planes = [&mut pr[1..], &mut pg[1..], &mut pb[1..]];
    let mut sum = [0u32; 3];
    // Only the pads pay for `reflect`.
    let pad = |i: usize| row[reflect(i as i32 - r as i32, w as i32) as usize];
    prefix_run(&mut planes, &mut sum, (0..r).map(pad));
    prefix_run(&mut planes, &mut sum, row.iter().copied());
    prefix_run(&mut planes, &mut sum, (r + w..2 * r + w).map(pad));
}

/// Running sums of `pixels` from `sum` on, written to the front of the
/// three planes, which then move past them.
#[inline(always)]
fn prefix_run(
    planes: &mut [&mut [u32]; 3],
    sum: &mut [u32; 3],
    pixels: impl ExactSizeIterator<Item = u32>,
) {
    let n = pixels.len();
    let [pr, pg, pb] = std::mem::take(planes).map(|p| p.split_at_mut(n));
    for (((r, g), b), p) in
        pr.0.iter_mut()
            .zip(pg.0.iter_mut())
            .zip(pb.0.iter_mut())
            .zip(pixels)
    {
        sum[0] += p & 0xff;
        sum[1] += (p >> 8) & 0xff;
        sum[2] += (p >> 16) & 0xff;
        (*r, *g, *b) = (sum[0], sum[1], sum[2]);
    }
    *planes = [pr.1, pg.1, pb.1];
}

/// One plane's span sums, `N` disk rows per pass over `acc`: each row adds
/// `hi[i] - lo[i]`, its span's sum ending at and starting from pixel `i`.
/// `fresh` starts from 0 instead of `acc`.
#[inline(always)]
fn add_spans<const N: usize>(acc: &mut [u32], spans: &[(&[u32], &[u32])], fresh: bool) {
    let n = acc.len();
    let hi: [&[u32]; N] = std::array::from_fn(|k| &spans[k].0[..n]);
    let lo: [&[u32]; N] = std::array::from_fn(|k| &spans[k].1[..n]);
    for (i, a) in acc.iter_mut().enumerate() {
        let mut s = if fresh { 0 } else { *a };
        for k in 0..N {
            s += hi[k][i] - lo[k][i];
        }
        *a = s;
    }
}

avx2_twin!(disk_row => disk_row_inner(
    rows: &[(&[u32], usize)],
    stride: usize,
    div: Divider,
    half_count: u32,
    acc: &mut [u32],
    alpha: &[u32],
    row: &mut [u32],
));

/// One output row from the prefix sums of the source rows under each disk
/// row, with that row's span half-width: every plane's span sums, eight
/// disk rows per pass, then the rounded mean of each pixel.
#[inline(always)]
fn disk_row_inner(
    rows: &[(&[u32], usize)],
    stride: usize,
    div: Divider,
    half_count: u32,
    acc: &mut [u32],
    alpha: &[u32],
    row: &mut [u32],
) {
    let width = row.len();
    let r = (stride - 1 - width) / 2;
    for (c, acc) in acc.chunks_exact_mut(width).enumerate() {
        for (g, group) in rows.chunks(8).enumerate() {
            let mut spans = [(&[][..], &[][..]); 8];
            for (s, &(sums, h)) in spans.iter_mut().zip(group) {
                let plane = &sums[c * stride..][..stride];
                *s = (&plane[r + h + 1..], &plane[r - h..]);
            }
            let fresh = g == 0;
            match group.len() {
                8 => add_spans::<8>(acc, &spans, fresh),
                7 => add_spans::<7>(acc, &spans, fresh),
                6 => add_spans::<6>(acc, &spans, fresh),
                5 => add_spans::<5>(acc, &spans, fresh),
                4 => add_spans::<4>(acc, &spans, fresh),
                3 => add_spans::<3>(acc, &spans, fresh),
                2 => add_spans::<2>(acc, &spans, fresh),
                _ => add_spans::<1>(acc, &spans, fresh),
            }
        }
    }
    let (r, gb) = acc.split_at(width);
    let (g, b) = gb.split_at(width);
    let rgb = r.iter().zip(g).zip(b);
    for ((o, &p), ((&r, &g), &b)) in row.iter_mut().zip(alpha).zip(rgb) {
        let mean = |s: u32| div.div(s + half_count);
        *o = mean(r) | (mean(g) << 8) | (mean(b) << 16) | (p & 0xff00_0000);
    }
}

/// What every task reads: the frame, the disk, and the frame's sums when
/// the disk is too tall for a ring.
struct Disk<'a> {
    src: &'a Frame,
    r: usize,
    half: &'a [u32],
    stride: usize,
    div: Divider,
    count: u32,
    shared: Option<Vec<u32>>,
}

impl Disk<'_> {
    /// Output rows `y0..` of `band`; `ring` holds `2r + 1` rows of sums
    /// (unless they are shared), slot `(v - y0 + r) % (2r + 1)` for source
    /// row `v` counted before reflection.
    fn band(&self, y0: usize, ring: &mut [u32], acc: &mut [u32], band: &mut [u32]) {
        let (width, height) = (self.src.width() as usize, self.src.height() as usize);
        let (r, size) = (self.r, 3 * self.stride);
        let slots = 2 * r + 1;
        let source = |v: isize| reflect(v as i32, height as i32) as usize;
        let slot = |v: isize| (v + r as isize - y0 as isize) as usize % slots;
        let line = |y: usize| &self.src.pixels()[y * width..][..width];
        if self.shared.is_none() {
            for v in y0 as isize - r as isize..(y0 + r) as isize {
                prefix_row(line(source(v)), r, &mut ring[slot(v) * size..][..size]);
            }
        }
        for (i, row) in band.chunks_exact_mut(width).enumerate() {
            let y = (y0 + i) as isize;
            let sums: &[u32] = match &self.shared {
                Some(sums) => sums,
                None => {
                    let v = y + r as isize;
                    prefix_row(line(source(v)), r, &mut ring[slot(v) * size..][..size]);
                    ring
                }
            };
            let rows: Vec<(&[u32], usize)> = (self.half.iter().enumerate().map(|(d, &h)| {
                let v = y + d as isize - r as isize;
                let at = match self.shared {
                    Some(_) => source(v),
                    None => slot(v),
                };
                (&sums[at * size..][..size], h as usize)
            }))
            .collect();
            let alpha = line(y as usize);
            disk_row(
                &rows,
                self.stride,
                self.div,
                self.count / 2,
                acc,
                alpha,
                row,
            );
        }
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
        let count: u32 = half.iter().map(|h| 2 * h + 1).sum();
        // The largest numerator: every pixel 255, plus the rounding half.
        let bits = 32 - (255 * count + count / 2).leading_zeros();
        let stride = width + 2 * r + 1;
        let size = 3 * stride;
        let slots = 2 * r + 1;
        let shared = (slots > MAX_RING).then(|| {
            let mut sums = vec![0u32; size * height];
            sums.par_chunks_mut(size)
                .zip(src.pixels().par_chunks(width))
                .for_each(|(dst, row)| prefix_row(row, r, dst));
            sums
        });
        let ring_len = if shared.is_some() { 0 } else { size * slots };
        let disk = Disk {
            src,
            r,
            half: &half,
            stride,
            div: Divider::new(count, bits),
            count,
            shared,
        };
        let rows = BAND.max(4 * r);
        let bufs = || (vec![0u32; ring_len], vec![0u32; 3 * width]);
        out.pixels_mut()
            .par_chunks_mut((width * rows).max(1))
            .enumerate()
            .for_each_init(bufs, |(ring, acc), (b, band)| {
                disk.band(b * rows, ring, acc, band)
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
        if self.radius <= TILE_RADIUS {
            return GpuWork {
                scratch: vec![],
                passes: vec![GpuPass {
                    shader: "blur_circular",
                    entry: "tile",
                    bindings: vec![
                        (0, Binding::uniform(&u)),
                        (1, Binding::Input(0)),
                        (4, Binding::data(&half)),
                        (5, Binding::Output),
                    ],
                    // Blocks of 32x32 outputs.
                    workgroups: [out.width.div_ceil(32), out.height.div_ceil(32), 1],
                }],
            };
        }
        // Two words an entry while a span's sum fits 15 bits, else three
        // (the CPU keeps three).
        let narrow = self.radius <= NARROW_RADIUS;
        let (prefix, disk, words) = match narrow {
            true => (("prefix", 2), ("disk", 3), 2),
            false => (("prefix_wide", 6), ("disk_wide", 7), 3),
        };
        let stride = u64::from(size.width) + 2 * u64::from(self.radius) + 1;
        GpuWork {
            scratch: vec![stride * u64::from(size.height) * 4 * words],
            passes: vec![
                GpuPass {
                    shader: "blur_circular",
                    entry: prefix.0,
                    bindings: vec![
                        (0, Binding::uniform(&u)),
                        (1, Binding::Input(0)),
                        (prefix.1, Binding::Scratch(0)),
                    ],
                    workgroups: [size.height, 1, 1],
                },
                GpuPass {
                    shader: "blur_circular",
                    entry: disk.0,
                    bindings: vec![
                        (0, Binding::uniform(&u)),
                        (1, Binding::Input(0)),
                        (disk.1, Binding::Scratch(0)),
                        (4, Binding::data(&half)),
                        (5, Binding::Output),
                    ],
                    // 64x4 threads, four rows each.
                    workgroups: [out.width.div_ceil(64), out.height.div_ceil(16), 1],
                },
            ],
        }
    }
}

/// The largest radius that the shader's one-pass `tile` entry takes: its
/// workgroup keeps a 44x44 block of row prefix sums in workgroup memory
/// (16 KB), and skips the scratch frame's round trip through memory.
const TILE_RADIUS: u32 = 6;

/// The largest radius whose spans (at most `2r + 1` pixels of 255) sum
/// below 2^15, so that the shader packs two channels in a word with a
/// guard bit each.
const NARROW_RADIUS: u32 = 63;

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

    #[test]
    fn divider_divides_exactly() {
        // Around every multiple of d, and at the ends of the range.
        for (d, bits) in [
            (1, 8),
            (3, 10),
            (5, 12),
            (13, 12),
            (113, 15),
            (5025, 21),
            (3_141_593, 30),
        ] {
            let div = Divider::new(d, bits);
            let top = (1u64 << bits) - 1;
            let mut ns: Vec<u64> = vec![0, 1, top - 1, top];
            for q in (0..=top / u64::from(d)).step_by(1 + (top / u64::from(d) / 5000) as usize) {
                let m = q * u64::from(d);
                ns.extend([m.saturating_sub(1), m, m + 1]);
            }
            for n in ns.into_iter().filter(|&n| n <= top) {
                let n = n as u32;
                assert_eq!(div.div(n), n / d, "{n} / {d}");
            }
        }
    }

    /// A frame of scrambled pixels, alpha included.
    fn scrambled(w: u32, h: u32) -> Frame {
        let mut src = Frame::new(Size::new(w, h));
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            *p = (i as u32).wrapping_mul(2_654_435_761);
        }
        src
    }

    /// The definition, one pixel at a time: every offset of the disk,
    /// edges reflected per read, the rounded integer mean.
    fn direct(src: &Frame, r: i32) -> Frame {
        let (w, h) = (src.width() as i32, src.height() as i32);
        let mut out = Frame::new(src.size());
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut count) = ([0u32; 3], 0u32);
                for dy in -r..=r {
                    for dx in -r..=r {
                        if dx * dx + dy * dy <= r * r {
                            let p = src.get(reflect(x + dx, w) as u32, reflect(y + dy, h) as u32);
                            for (c, s) in sum.iter_mut().enumerate() {
                                *s += (p >> (8 * c)) & 0xff;
                            }
                            count += 1;
                        }
                    }
                }
                let m = sum.map(|s| (s + count / 2) / count);
                let a = src.get(x as u32, y as u32) & 0xff00_0000;
                out.pixels_mut()[(y * w + x) as usize] = m[0] | (m[1] << 8) | (m[2] << 16) | a;
            }
        }
        out
    }

    #[test]
    fn rings_and_shared_sums_give_the_definition_exactly() {
        // Several bands, a radius past the frame, one past MAX_RING's
        // (shared sums), widths that fill no group of lanes.
        let ctx = FrameCtx {
            key: Default::default(),
        };
        for (w, h, r) in [
            (37, 75, 3),
            (20, 9, 12),
            (13, 150, 7),
            (9, 7, 70),
            (5, 80, 65),
        ] {
            let src = scrambled(w, h);
            let mut out = Frame::new(src.size());
            BlurCircular { radius: r }.run_cpu(&ctx, &[&src], &mut out);
            assert_eq!(out, direct(&src, r as i32), "{w}x{h} r {r}");
        }
    }

    #[test]
    fn avx2_and_plain_paths_agree() {
        let (w, r) = (37, 2);
        let src = scrambled(w as u32, 5);
        let stride = w + 2 * r + 1;
        let mut sums = vec![0u32; 3 * stride * 5];
        for (dst, row) in sums.chunks_mut(3 * stride).zip(src.pixels().chunks(w)) {
            prefix_row(row, r, dst);
        }
        let rows: Vec<(&[u32], usize)> = half_widths(r as u32)
            .iter()
            .enumerate()
            .map(|(d, &h)| (&sums[d * 3 * stride..][..3 * stride], h as usize))
            .collect();
        let div = Divider::new(13, 12);
        let (mut a, mut b) = (vec![0u32; w], vec![0u32; w]);
        let alpha = &src.pixels()[..w];
        disk_row(&rows, stride, div, 6, &mut vec![0; 3 * w], alpha, &mut a);
        disk_row_inner(&rows, stride, div, 6, &mut vec![0; 3 * w], alpha, &mut b);
        assert_eq!(a, b);
    }
}

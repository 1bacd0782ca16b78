//! The accurate integer DCT and IDCT (jfdctint.c, jidctint.c) on eight
//! lanes at once, and every block of a plane through them and quantization.
//! Twin: `shaders/compression/dct.wgsl`; `round_trip_block` is the body of
//! the `blocks` entry point in `kernels.wgsl`, a thread to a lane.

use rayon::prelude::*;

use super::quant::Quant;

/// DCT, quantization and back for every block of a plane, in place, strips
/// of 8 rows in parallel.
pub(super) fn transform_plane(plane: &mut [u8], blocks_across: u32, q: &Quant) {
    let width = blocks_across as usize * 8;
    plane
        .par_chunks_mut(width * 8)
        .for_each(|strip| transform_strip(strip, width, q));
}

avx2_twin!(transform_strip => transform_strip_inner(strip: &mut [u8], width: usize, q: &Quant));

#[inline(always)]
fn transform_strip_inner(strip: &mut [u8], width: usize, q: &Quant) {
    for bx in (0..width).step_by(8) {
        let mut rows = [Lanes::default(); 8];
        for (y, row) in rows.iter_mut().enumerate() {
            for (v, &p) in row.0.iter_mut().zip(&strip[y * width + bx..][..8]) {
                *v = i32::from(p) - 128;
            }
        }
        let out = round_trip_block(rows, q);
        for (y, row) in out.iter().enumerate() {
            for (o, &v) in strip[y * width + bx..][..8].iter_mut().zip(&row.0) {
                *o = v as u8;
            }
        }
    }
}

/// Eight i32 lanes with lane-wise arithmetic: the 1-D transforms below run
/// on eight rows or columns of a block at once, which compiles to SIMD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Lanes(pub(super) [i32; 8]);

impl Lanes {
    #[inline(always)]
    fn map2(self, o: Self, f: impl Fn(i32, i32) -> i32) -> Self {
        let mut r = [0; 8];
        for (i, v) in r.iter_mut().enumerate() {
            *v = f(self.0[i], o.0[i]);
        }
        Self(r)
    }

    #[inline(always)]
    fn map(self, f: impl Fn(i32) -> i32) -> Self {
        self.map2(self, |a, _| f(a))
    }
}

impl std::ops::Add for Lanes {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.map2(o, |a, b| a + b)
    }
}

impl std::ops::Sub for Lanes {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self.map2(o, |a, b| a - b)
    }
}

impl std::ops::Mul<i32> for Lanes {
    type Output = Self;
    #[inline(always)]
    fn mul(self, k: i32) -> Self {
        self.map(|a| a * k)
    }
}

#[inline(always)]
fn transpose(m: [Lanes; 8]) -> [Lanes; 8] {
    let mut t = [Lanes::default(); 8];
    for (i, row) in m.iter().enumerate() {
        for (j, &v) in row.0.iter().enumerate() {
            t[j].0[i] = v;
        }
    }
    t
}

const CONST_BITS: i32 = 13;
const PASS1_BITS: i32 = 2;

#[inline(always)]
fn descale(x: Lanes, n: i32) -> Lanes {
    x.map(|v| (v + (1 << (n - 1))) >> n)
}

/// One 8-point pass of jfdctint.c (WGSL `fdct8`): rows (`first`) then
/// columns; `d[k]` holds sample `k` of eight lines at once.
#[inline(always)]
fn fdct8(d: [Lanes; 8], first: bool) -> [Lanes; 8] {
    let (tmp0, tmp7) = (d[0] + d[7], d[0] - d[7]);
    let (tmp1, tmp6) = (d[1] + d[6], d[1] - d[6]);
    let (tmp2, tmp5) = (d[2] + d[5], d[2] - d[5]);
    let (tmp3, tmp4) = (d[3] + d[4], d[3] - d[4]);
    let (tmp10, tmp13) = (tmp0 + tmp3, tmp0 - tmp3);
    let (tmp11, tmp12) = (tmp1 + tmp2, tmp1 - tmp2);
    let mut o = [Lanes::default(); 8];
    let n = if first {
        o[0] = (tmp10 + tmp11).map(|v| v << PASS1_BITS);
        o[4] = (tmp10 - tmp11).map(|v| v << PASS1_BITS);
        CONST_BITS - PASS1_BITS
    } else {
        o[0] = descale(tmp10 + tmp11, PASS1_BITS);
        o[4] = descale(tmp10 - tmp11, PASS1_BITS);
        CONST_BITS + PASS1_BITS
    };
    let z1 = (tmp12 + tmp13) * 4433;
    o[2] = descale(z1 + tmp13 * 6270, n);
    o[6] = descale(z1 - tmp12 * 15137, n);

    let z5 = (tmp4 + tmp6 + tmp5 + tmp7) * 9633;
    let m1 = (tmp4 + tmp7) * -7373;
    let m2 = (tmp5 + tmp6) * -20995;
    let m3 = (tmp4 + tmp6) * -16069 + z5;
    let m4 = (tmp5 + tmp7) * -3196 + z5;
    o[7] = descale(tmp4 * 2446 + m1 + m3, n);
    o[5] = descale(tmp5 * 16819 + m2 + m4, n);
    o[3] = descale(tmp6 * 25172 + m2 + m3, n);
    o[1] = descale(tmp7 * 12299 + m1 + m4, n);
    o
}

/// One 8-point pass of jidctint.c on dequantized input, descaled by `n`
/// bits (WGSL `idct8`).
#[inline(always)]
fn idct8(d: [Lanes; 8], n: i32) -> [Lanes; 8] {
    let z1 = (d[2] + d[6]) * 4433;
    let tmp2 = z1 - d[6] * 15137;
    let tmp3 = z1 + d[2] * 6270;
    let tmp0 = (d[0] + d[4]).map(|v| v << CONST_BITS);
    let tmp1 = (d[0] - d[4]).map(|v| v << CONST_BITS);
    let (tmp10, tmp13) = (tmp0 + tmp3, tmp0 - tmp3);
    let (tmp11, tmp12) = (tmp1 + tmp2, tmp1 - tmp2);

    let (t0, t1, t2, t3) = (d[7], d[5], d[3], d[1]);
    let z5 = (t0 + t2 + t1 + t3) * 9633;
    let m1 = (t0 + t3) * -7373;
    let m2 = (t1 + t2) * -20995;
    let m3 = (t0 + t2) * -16069 + z5;
    let m4 = (t1 + t3) * -3196 + z5;
    let t0 = t0 * 2446 + m1 + m3;
    let t1 = t1 * 16819 + m2 + m4;
    let t2 = t2 * 25172 + m2 + m3;
    let t3 = t3 * 12299 + m1 + m4;
    [
        descale(tmp10 + t3, n),
        descale(tmp11 + t2, n),
        descale(tmp12 + t1, n),
        descale(tmp13 + t0, n),
        descale(tmp13 - t0, n),
        descale(tmp12 - t1, n),
        descale(tmp11 - t2, n),
        descale(tmp10 - t3, n),
    ]
}

/// libjpeg's post-IDCT range limit: recentre, clamp to 0..=255; values
/// outside -512..512 wrap as its 1024-entry table does.
#[inline(always)]
fn range_limit(x: i32) -> i32 {
    ((((x + 512) & 1023) - 512) + 128).clamp(0, 255)
}

/// Forward DCT, quantization, dequantization and inverse DCT of one block
/// of centred samples, `rows[y].0[x]`, back to samples in 0..=255 in the
/// same layout. Each pass works on eight lines at once; the transposes
/// between them put the lines in the lanes.
#[inline(always)]
fn round_trip_block(rows: [Lanes; 8], q: &Quant) -> [Lanes; 8] {
    let r = fdct8(transpose(rows), true); // r[u].0[y]
    let c = fdct8(transpose(r), false); // c[v].0[u]: coefficient (v, u)
    let mut d = [Lanes::default(); 8];
    for (v, dv) in d.iter_mut().enumerate() {
        *dv = q.requantize(c[v], v);
    }
    let w = idct8(d, CONST_BITS - PASS1_BITS); // w[y].0[u]
    let o = idct8(transpose(w), CONST_BITS + PASS1_BITS + 3); // o[x].0[y]
    let mut out = transpose(o);
    for row in out.iter_mut() {
        *row = row.map(range_limit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::quant::LUMA_BASE;
    use super::*;

    #[test]
    fn flat_block_survives_any_quality() {
        for q in [1, 5, 50, 100] {
            for v in [-128, -3, 0, 77, 127] {
                let out = round_trip_block([Lanes([v; 8]); 8], &Quant::new(&LUMA_BASE, q));
                // A flat block is pure DC: the DC step at q 1 is 255, so the
                // level may move by up to half of it (divided by the DCT's 8).
                let first = out[0].0[0];
                assert!(out.iter().all(|r| r.0 == [first; 8]), "q {q} v {v}");
                assert!((first - (v + 128)).abs() <= 16, "q {q} v {v}: {first}");
            }
        }
    }

    #[test]
    fn range_limit_clamps_and_wraps_like_libjpeg() {
        assert_eq!(range_limit(-128), 0);
        assert_eq!(range_limit(-129), 0);
        assert_eq!(range_limit(127), 255);
        assert_eq!(range_limit(500), 255);
        assert_eq!(range_limit(0), 128);
        // libjpeg's table wraps after 1024: 1024 reads as 0.
        assert_eq!(range_limit(1024), 128);
    }

    #[test]
    fn avx2_and_plain_paths_agree() {
        let q = Quant::new(&LUMA_BASE, 20);
        let mut simd: Vec<u8> = (0..24 * 8).map(|i| (i * 37 % 251) as u8).collect();
        let mut plain = simd.clone();
        transform_strip(&mut simd, 24, &q);
        transform_strip_inner(&mut plain, 24, &q);
        assert_eq!(simd, plain);
    }
}

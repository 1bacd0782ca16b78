//! From pixels to the planes the DCT works on, and back:
//! - partial blocks padded by repeating the last column and row (jcprepct.c);
//! - chroma downsampling: the mean of 2 or 4 samples with libjpeg's
//!   alternating rounding bias (jcsample.c);
//! - "fancy" triangular chroma upsampling on decode (jdsample.c).
//!
//! Twin: `shaders/compression/sampling.wgsl`.

use rayon::prelude::*;

use super::color::{chroma_of, luma_of, rgb_of};
use super::{Layout, Rect};
use crate::frame::Frame;

/// Chroma sampling factors: luma samples per chroma sample across and down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Sampling {
    pub(super) h: u32,
    pub(super) v: u32,
}

impl Sampling {
    /// From the `subsampling` parameter: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0.
    pub(super) fn from_param(s: u32) -> Self {
        match s {
            0 => Self { h: 1, v: 1 },
            1 => Self { h: 2, v: 1 },
            _ => Self { h: 2, v: 2 },
        }
    }
}

/// The encoder's input: luma and both chroma planes of `rect`, each padded
/// to whole blocks. Rows and columns past the image repeat its last ones
/// (jcprepct.c); chroma rows past the last one that holds image data repeat
/// it, and chroma columns past it average the repeated last pixel column
/// (jcsample.c's `expand_right_edge`). WGSL: `rgb_at`, `downsampled`.
pub(super) fn encode_planes(frame: &Frame, rect: Rect, s: Sampling, lay: &Layout) -> [Vec<u8>; 3] {
    let stride = frame.width() as usize;
    let w = rect.w as usize;
    let line = |y: usize| {
        let y = rect.y as usize + y.min(rect.h as usize - 1);
        &frame.pixels()[y * stride + rect.x as usize..][..w]
    };

    let yw = lay.yb.0 as usize * 8;
    let mut luma = vec![0u8; lay.luma_bytes()];
    luma.par_chunks_mut(yw)
        .enumerate()
        .for_each(|(y, row)| luma_row(row, line(y)));

    let (h, v) = (s.h as usize, s.v as usize);
    let cw = lay.cb.0 as usize * 8;
    let (bias, shift) = match h * v {
        4 => ([1, 2], 2),
        2 => ([0, 1], 1),
        _ => ([0, 0], 0),
    };
    let down = Downsample { h, bias, shift };
    let mut cb = vec![0u8; lay.chroma_bytes()];
    let mut cr = vec![0u8; lay.chroma_bytes()];
    // Per source column, Cb and Cr summed over the chroma row's source rows,
    // padded by the last column to whole chroma samples.
    let sums = || (vec![0i32; cw * h], vec![0i32; cw * h]);
    cb.par_chunks_mut(cw)
        .zip(cr.par_chunks_mut(cw))
        .enumerate()
        .for_each_init(sums, |(sb, sr), (cy, (row_b, row_r))| {
            let cy = cy.min(lay.ch as usize - 1);
            let lines = [line(cy * v), line(cy * v + 1)];
            chroma_row(row_b, row_r, sb, sr, &lines[..v], down);
        });
    [luma, cb, cr]
}

avx2_twin!(luma_row => luma_row_inner(row: &mut [u8], line: &[u32]));

/// One row of the luma plane, padded by its last sample.
#[inline(always)]
fn luma_row_inner(row: &mut [u8], line: &[u32]) {
    let (data, pad) = row.split_at_mut(line.len());
    for (o, &p) in data.iter_mut().zip(line) {
        *o = luma_of(rgb_of(p)) as u8;
    }
    pad.fill(data[line.len() - 1]);
}

/// How chroma samples are averaged: `h` columns, the rounding bias of even
/// and odd samples, and the shift that divides.
#[derive(Clone, Copy)]
struct Downsample {
    h: usize,
    bias: [i32; 2],
    shift: i32,
}

avx2_twin!(chroma_row => chroma_row_inner(
    row_b: &mut [u8],
    row_r: &mut [u8],
    sb: &mut [i32],
    sr: &mut [i32],
    lines: &[&[u32]],
    d: Downsample,
));

/// One row of both chroma planes from its source rows: per source column,
/// Cb and Cr summed over the rows (padded by the last column to whole
/// samples in `sb`, `sr`), then `h` columns averaged.
#[inline(always)]
fn chroma_row_inner(
    row_b: &mut [u8],
    row_r: &mut [u8],
    sb: &mut [i32],
    sr: &mut [i32],
    lines: &[&[u32]],
    d: Downsample,
) {
    let w = lines[0].len();
    sb.fill(0);
    sr.fill(0);
    for line in lines {
        for ((b, r), &p) in sb.iter_mut().zip(sr.iter_mut()).zip(*line) {
            let [pb, pr] = chroma_of(rgb_of(p));
            *b += pb;
            *r += pr;
        }
    }
    let (last_b, last_r) = (sb[w - 1], sr[w - 1]);
    sb[w..].fill(last_b);
    sr[w..].fill(last_r);
    for (cx, (ob, or)) in row_b.iter_mut().zip(row_r.iter_mut()).enumerate() {
        let i = cx * d.h;
        let (b, r) = (
            sb[i..i + d.h].iter().sum::<i32>(),
            sr[i..i + d.h].iter().sum::<i32>(),
        );
        *ob = ((b + d.bias[cx & 1]) >> d.shift) as u8;
        *or = ((r + d.bias[cx & 1]) >> d.shift) as u8;
    }
}

/// Chroma row `y` of the output by libjpeg's fancy upsampling: a triangle
/// filter weighting the nearer chroma samples 3:1 in each subsampled
/// direction, edges repeated (WGSL `upsampled`). `tmp` holds `cw + 2` values.
#[inline(always)]
pub(super) fn upsample_row(
    plane: &[u8],
    s: Sampling,
    lay: &Layout,
    y: usize,
    tmp: &mut [i32],
    out: &mut [i32],
) {
    let pw = lay.cb.0 as usize * 8;
    let (cw, ch) = (lay.cw as usize, lay.ch as usize);
    if s.h == 1 {
        for (o, &v) in out.iter_mut().zip(&plane[y * pw..]) {
            *o = i32::from(v);
        }
        return;
    }
    // tmp[1..=cw]: each chroma column, weighted vertically when subsampled
    // that way; tmp[0] and tmp[cw + 1] repeat the ends.
    let (shift, even_bias, odd_bias) = if s.v == 1 {
        let row = &plane[y * pw..][..cw];
        for (t, &v) in tmp[1..=cw].iter_mut().zip(row) {
            *t = i32::from(v);
        }
        (2, 1, 2)
    } else {
        let cy = y / 2;
        let ny = if y.is_multiple_of(2) {
            cy.saturating_sub(1)
        } else {
            (cy + 1).min(ch - 1)
        };
        let (near, far) = (&plane[cy * pw..][..cw], &plane[ny * pw..][..cw]);
        for ((t, &a), &b) in tmp[1..=cw].iter_mut().zip(near).zip(far) {
            *t = 3 * i32::from(a) + i32::from(b);
        }
        (4, 8, 7)
    };
    tmp[0] = tmp[1];
    tmp[cw + 1] = tmp[cw];
    for (cx, pair) in out.chunks_mut(2).enumerate() {
        let c = cx + 1;
        pair[0] = (3 * tmp[c] + tmp[c - 1] + even_bias) >> shift;
        if let Some(odd) = pair.get_mut(1) {
            *odd = (3 * tmp[c] + tmp[c + 1] + odd_bias) >> shift;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fancy_upsampling_weights_nearer_samples_three_to_one() {
        let s = Sampling::from_param(1);
        let lay = Layout::new(4, 2, s);
        let mut plane = vec![0u8; lay.chroma_bytes()];
        plane[1] = 100;
        let (mut tmp, mut got) = ([0; 4], [0; 4]);
        upsample_row(&plane, s, &lay, 0, &mut tmp, &mut got);
        assert_eq!(got, [0, 25, 75, 100]);
    }
}

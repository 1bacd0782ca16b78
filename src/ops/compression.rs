//! One JPEG round trip, pixel for pixel what libjpeg's defaults give (and so
//! what Pillow gives): every step is the integer arithmetic of libjpeg's
//! accurate paths, so the CPU and GPU kernels agree exactly and match
//! libjpeg-turbo bit for bit (`tests/jpeg.rs` checks both claims).
//!
//! - colour: JFIF RGB to YCbCr and back in 16-bit fixed point (jccolor.c, jdcolor.c);
//! - chroma downsampling: the mean of 2 or 4 samples with libjpeg's
//!   alternating rounding bias (jcsample.c);
//! - the accurate integer DCT and IDCT (jfdctint.c, jidctint.c);
//! - quantization: the Annex K tables scaled by quality (jcparam.c), the
//!   quotient rounded half away from zero as libjpeg-turbo's reciprocal
//!   division does (jcdctmgr.c);
//! - partial blocks padded by repeating the last column and row (jcprepct.c);
//! - "fancy" triangular chroma upsampling on decode (jdsample.c).
//!
//! Entropy coding is lossless, so it is skipped. `multi_compress` and
//! `compression_artifact` run the codec here. Twin: `shaders/compression/`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, par_rows,
};
use crate::frame::{Frame, Size};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compression {
    pub quality: u32,
    #[serde(default = "default_subsampling")]
    pub subsampling: u32,
    #[serde(default = "default_optimize")]
    pub optimize: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
}

pub(crate) fn default_subsampling() -> u32 {
    2
}

fn default_optimize() -> bool {
    true
}

pub(crate) const QUALITY: Param = Param {
    name: "quality",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 100.0),
    doc: "IJG quality: the Annex K tables scaled by 5000/q below 50, 200 - 2q above",
};
pub(crate) const SUBSAMPLING: Param = Param {
    name: "subsampling",
    ty: "integer",
    default: Some("2"),
    allowed: Allowed::Range(0.0, 2.0),
    doc: "chroma subsampling: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0",
};
const OPTIMIZE: Param = Param {
    name: "optimize",
    ty: "bool",
    default: Some("true"),
    allowed: Allowed::Any,
    doc: "optimized Huffman tables: accepted, no visual effect (entropy coding is lossless)",
};
const GAMMA: Param = Param {
    name: "gamma",
    ty: "number",
    default: Some("none"),
    allowed: Allowed::Above(0.0),
    doc: "apply x^gamma (x in 0..1, rounded to 8 bits) to RGB before compressing",
};

impl OpParams for Compression {
    const NAME: &'static str = "compression";
    const SUMMARY: &'static str =
        "one JPEG round trip (libjpeg's integer DCT, subsampling, fancy upsampling); alpha kept";
    const PARAMS: &'static [Param] = &[QUALITY, SUBSAMPLING, OPTIMIZE, GAMMA];

    fn validate(&self) -> Result<(), ParamError> {
        QUALITY.check(self.quality.into())?;
        SUBSAMPLING.check(self.subsampling.into())?;
        if let Some(g) = self.gamma {
            GAMMA.check(g)?;
        }
        Ok(())
    }
}

impl Compression {
    /// The 8-bit transfer curve of `gamma`, computed once on the CPU so
    /// both backends see the same table.
    fn gamma_lut(&self) -> Option<Vec<u32>> {
        let g = self.gamma?;
        Some(
            (0..256)
                .map(|i| ((i as f64 / 255.0).powf(g) * 255.0 + 0.5) as u32)
                .collect(),
        )
    }
}

impl Op for Compression {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let src = inputs[0];
        let jpeg = Jpeg::new(self.quality, self.subsampling);
        let rect = Rect::whole(src.size());
        match self.gamma_lut() {
            Some(lut) => {
                par_rows(out, |y, row| {
                    let line = &src.pixels()[y as usize * row.len()..][..row.len()];
                    for (o, &p) in row.iter_mut().zip(line) {
                        *o = apply_lut(&lut, p);
                    }
                });
                jpeg.round_trip(None, out, rect);
            }
            None => jpeg.round_trip(Some(src), out, rect),
        }
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let jpeg = Jpeg::new(self.quality, self.subsampling);
        let rects = [Rect::whole(inputs[0])];
        match self.gamma_lut() {
            Some(lut) => {
                let mut work = jpeg.prepare(out, Some(&lut));
                jpeg.push_round_trip(&mut work, out, &rects, Source::Output);
                work
            }
            None => {
                let mut work = GpuWork::default();
                jpeg.push_round_trip(&mut work, out, &rects, Source::Input);
                work
            }
        }
    }
}

fn apply_lut(lut: &[u32], p: u32) -> u32 {
    lut[(p & 0xff) as usize]
        | (lut[((p >> 8) & 0xff) as usize] << 8)
        | (lut[((p >> 16) & 0xff) as usize] << 16)
        | (p & 0xff00_0000)
}

/// A rectangle of a frame that is compressed as an image of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    pub fn whole(size: Size) -> Self {
        Self {
            x: 0,
            y: 0,
            w: size.width,
            h: size.height,
        }
    }

    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Annex K luminance table, natural (row-major) order.
const LUMA_BASE: [u32; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// Annex K chrominance table, natural order.
const CHROMA_BASE: [u32; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// One quantization table with libjpeg-turbo's reciprocals: per coefficient
/// (step, reciprocal, correction, shift) as the shader reads them, and the
/// same by table row for the CPU's eight lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quant {
    entries: [[u32; 4]; 64],
    rows: [[[u32; 8]; 4]; 8],
}

impl Quant {
    /// `base` scaled by `quality` as `jpeg_set_quality` does with
    /// `force_baseline` (steps clamped to 1..=255).
    fn new(base: &[u32; 64], quality: u32) -> Self {
        let q = quality.clamp(1, 100);
        let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
        Self::from_steps(base.map(|t| ((t * scale + 50) / 100).clamp(1, 255)))
    }

    fn from_steps(steps: [u32; 64]) -> Self {
        let entries = steps.map(reciprocal);
        let rows = std::array::from_fn(|v| {
            std::array::from_fn(|k| std::array::from_fn(|u| entries[v * 8 + u][k]))
        });
        Self { entries, rows }
    }

    /// Row `v` of coefficients, quantized then dequantized (WGSL `requantize`).
    #[inline(always)]
    fn requantize(&self, x: Lanes, v: usize) -> Lanes {
        let [step, recip, corr, shift] = &self.rows[v];
        // Branch-free, so that it vectorizes: `sign` is 0 or -1.
        let mut r = [0; 8];
        for (i, o) in r.iter_mut().enumerate() {
            let sign = x.0[i] >> 31;
            let magnitude = ((x.0[i] ^ sign) - sign) as u32;
            let n = ((magnitude + corr[i]).wrapping_mul(recip[i]) >> shift[i]) as i32;
            *o = ((n ^ sign) - sign) * step[i] as i32;
        }
        Lanes(r)
    }
}

/// libjpeg-turbo's `compute_reciprocal` for a 16-bit DCT element: the
/// divisor is the step times 8 (the DCT's output scale); `(x + corr) * recip
/// >> shift` equals `(x + d/2) / d` for every `0 <= x < 2^15`.
fn reciprocal(step: u32) -> [u32; 4] {
    let d = step * 8;
    let b = 31 - d.leading_zeros();
    let mut r = 16 + b;
    let mut fq = (1u32 << r) / d;
    let fr = (1u32 << r) % d;
    let mut c = d / 2;
    if fr == 0 {
        fq >>= 1;
        r -= 1;
    } else if fr <= d / 2 {
        c += 1;
    } else {
        fq += 1;
    }
    [step, fq, c, r]
}

/// Chroma sampling factors: luma samples per chroma sample across and down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampling {
    pub h: u32,
    pub v: u32,
}

impl Sampling {
    /// From the `subsampling` parameter: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0.
    pub fn from_param(s: u32) -> Self {
        match s {
            0 => Self { h: 1, v: 1 },
            1 => Self { h: 2, v: 1 },
            _ => Self { h: 2, v: 2 },
        }
    }
}

/// Everything one round trip needs: the tables for a quality and the sampling.
#[derive(Clone, Debug)]
pub struct Jpeg {
    luma: Quant,
    chroma: Quant,
    sampling: Sampling,
}

/// How an image of `w`x`h` is cut into blocks, per component.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Luma blocks across and down.
    yb: (u32, u32),
    /// Chroma blocks across and down, per chroma component.
    cb: (u32, u32),
    /// Chroma samples that hold image data (libjpeg's `downsampled_width/height`).
    cw: u32,
    ch: u32,
}

impl Layout {
    fn new(w: u32, h: u32, s: Sampling) -> Self {
        Self {
            yb: (w.div_ceil(8), h.div_ceil(8)),
            cb: (w.div_ceil(8 * s.h), h.div_ceil(8 * s.v)),
            cw: w.div_ceil(s.h),
            ch: h.div_ceil(s.v),
        }
    }

    fn luma_bytes(&self) -> usize {
        (self.yb.0 * self.yb.1 * 64) as usize
    }

    fn chroma_bytes(&self) -> usize {
        (self.cb.0 * self.cb.1 * 64) as usize
    }

    fn blocks(&self) -> u32 {
        self.yb.0 * self.yb.1 + 2 * self.cb.0 * self.cb.1
    }
}

/// Where a GPU round trip reads the image it compresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The op's input: the output is written fresh (alpha from the input).
    Input,
    /// The op's output, compressed in place.
    Output,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    hs: u32,
    vs: u32,
    blocks: u32,
    tiles: u32,
    pad: [u32; 2],
}

/// One rect as the shader sees it (`Tile` in kernels.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GpuTile {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    first_block: u32,
    ybw: u32,
    ybh: u32,
    cbw: u32,
    cbh: u32,
    cw: u32,
    ch: u32,
    offset: u32,
}

/// Blocks per workgroup of the `blocks` entry (one thread per block row).
const BLOCKS_PER_GROUP: u32 = 8;

impl Jpeg {
    pub fn new(quality: u32, subsampling: u32) -> Self {
        Self {
            luma: Quant::new(&LUMA_BASE, quality),
            chroma: Quant::new(&CHROMA_BASE, quality),
            sampling: Sampling::from_param(subsampling),
        }
    }

    /// One round trip of `rect`, read from `src` (or from `out` itself when
    /// `None`) and written into `out`; alpha is kept.
    pub fn round_trip(&self, src: Option<&Frame>, out: &mut Frame, rect: Rect) {
        let lay = Layout::new(rect.w, rect.h, self.sampling);
        let [mut luma, mut cb, mut cr] =
            encode_planes(src.unwrap_or(out), rect, self.sampling, &lay);
        transform_plane(&mut luma, lay.yb.0, &self.luma);
        transform_plane(&mut cb, lay.cb.0, &self.chroma);
        transform_plane(&mut cr, lay.cb.0, &self.chroma);
        let planes = Planes {
            luma: &luma,
            cb: &cb,
            cr: &cr,
            lay,
            s: self.sampling,
        };
        planes.decode(src, out, rect);
    }

    /// GPU work that starts with a copy of the input to the output through
    /// `lut` (identity when `None`), for in-place round trips to follow.
    pub fn prepare(&self, frame: Size, lut: Option<&[u32]>) -> GpuWork {
        let identity: Vec<u32> = (0..256).collect();
        let u = self.uniforms(frame, 0, 0);
        GpuWork {
            scratch: vec![],
            passes: vec![GpuPass::per_pixel(
                "compression",
                "prepare",
                frame,
                vec![
                    (0, Binding::uniform(&u)),
                    (6, Binding::data(lut.unwrap_or(&identity))),
                    (3, Binding::Input(0)),
                    (5, Binding::Output),
                ],
            )],
        }
    }

    /// Appends the passes of one round trip of every rect in `rects` (which
    /// must not overlap: they run side by side) to `work`, growing its
    /// scratch buffer 0 to hold their planes.
    pub fn push_round_trip(&self, work: &mut GpuWork, frame: Size, rects: &[Rect], from: Source) {
        let mut tiles = Vec::with_capacity(rects.len());
        let (mut blocks, mut words) = (0u32, 0u32);
        for r in rects {
            let lay = Layout::new(r.w, r.h, self.sampling);
            tiles.push(GpuTile {
                x: r.x,
                y: r.y,
                w: r.w,
                h: r.h,
                first_block: blocks,
                ybw: lay.yb.0,
                ybh: lay.yb.1,
                cbw: lay.cb.0,
                cbh: lay.cb.1,
                cw: lay.cw,
                ch: lay.ch,
                offset: words,
            });
            blocks += lay.blocks();
            words += ((lay.luma_bytes() + 2 * lay.chroma_bytes()) / 4) as u32;
        }
        let bytes = u64::from(words) * 4;
        match work.scratch.first_mut() {
            Some(s) => *s = (*s).max(bytes),
            None => work.scratch.push(bytes),
        }

        let u = self.uniforms(frame, blocks, rects.len() as u32);
        let quant: Vec<[u32; 4]> = self
            .luma
            .entries
            .iter()
            .chain(&self.chroma.entries)
            .copied()
            .collect();
        let groups = blocks.div_ceil(BLOCKS_PER_GROUP);
        let across = groups.min(32_768);
        let frame_in = match from {
            Source::Input => Binding::Input(0),
            Source::Output => Binding::Output,
        };
        work.passes.push(GpuPass {
            shader: "compression",
            entry: "blocks",
            bindings: vec![
                (0, Binding::uniform(&u)),
                (1, Binding::data(&tiles)),
                (2, Binding::data(&quant)),
                (3, frame_in),
                (4, Binding::Scratch(0)),
            ],
            workgroups: [across, groups.div_ceil(across), 1],
        });

        let widest = rects.iter().map(|r| r.w).max().unwrap_or(0);
        let tallest = rects.iter().map(|r| r.h).max().unwrap_or(0);
        let mut bindings = vec![
            (0, Binding::uniform(&u)),
            (1, Binding::data(&tiles)),
            (4, Binding::Scratch(0)),
            (5, Binding::Output),
        ];
        let entry = match from {
            Source::Input => {
                bindings.push((3, Binding::Input(0)));
                "decode"
            }
            Source::Output => "decode_in_place",
        };
        work.passes.push(GpuPass {
            shader: "compression",
            entry,
            bindings,
            workgroups: [
                widest.div_ceil(super::TILE),
                tallest.div_ceil(super::TILE),
                rects.len() as u32,
            ],
        });
    }

    fn uniforms(&self, frame: Size, blocks: u32, tiles: u32) -> Uniforms {
        Uniforms {
            width: frame.width,
            height: frame.height,
            hs: self.sampling.h,
            vs: self.sampling.v,
            blocks,
            tiles,
            pad: [0; 2],
        }
    }
}

/// Decoded planes of one image, for the decode side.
struct Planes<'a> {
    luma: &'a [u8],
    cb: &'a [u8],
    cr: &'a [u8],
    lay: Layout,
    s: Sampling,
}

impl Planes<'_> {
    /// Upsamples chroma and converts back to RGB into `rect` of `out`, row by
    /// row; alpha comes from `src`, or stays as it is in `out`.
    fn decode(&self, src: Option<&Frame>, out: &mut Frame, rect: Rect) {
        let stride = out.width() as usize;
        let (x0, w) = (rect.x as usize, rect.w as usize);
        let scratch = || {
            (
                vec![0i32; w],
                vec![0i32; w],
                vec![0i32; self.lay.cw as usize + 2],
            )
        };
        out.pixels_mut()
            .par_chunks_mut(stride)
            .enumerate()
            .skip(rect.y as usize)
            .take(rect.h as usize)
            .for_each_init(scratch, |(cb, cr, tmp), (fy, row)| {
                let alpha = src.map(|f| &f.pixels()[fy * stride + x0..][..w]);
                let y = fy - rect.y as usize;
                decode_row(self, y, &mut row[x0..][..w], alpha, cb, cr, tmp);
            });
    }
}

avx2_twin!(decode_row => decode_row_inner(
    planes: &Planes<'_>,
    y: usize,
    row: &mut [u32],
    alpha: Option<&[u32]>,
    cb: &mut [i32],
    cr: &mut [i32],
    tmp: &mut [i32],
));

/// Output row `y` of the decoded image: chroma upsampled, converted to RGB,
/// with alpha from `alpha`, or kept from `row` when that is `None`.
#[inline(always)]
fn decode_row_inner(
    planes: &Planes<'_>,
    y: usize,
    row: &mut [u32],
    alpha: Option<&[u32]>,
    cb: &mut [i32],
    cr: &mut [i32],
    tmp: &mut [i32],
) {
    upsample_row(planes.cb, planes.s, &planes.lay, y, tmp, cb);
    upsample_row(planes.cr, planes.s, &planes.lay, y, tmp, cr);
    let yw = planes.lay.yb.0 as usize * 8;
    let luma = &planes.luma[y * yw..][..row.len()];
    match alpha {
        Some(alpha) => {
            for (i, (o, a)) in row.iter_mut().zip(alpha).enumerate() {
                *o = ycc_to_rgb(i32::from(luma[i]), cb[i], cr[i]) | (a & 0xff00_0000);
            }
        }
        None => {
            for (i, o) in row.iter_mut().enumerate() {
                *o = ycc_to_rgb(i32::from(luma[i]), cb[i], cr[i]) | (*o & 0xff00_0000);
            }
        }
    }
}

/// The encoder's input: luma and both chroma planes of `rect`, each padded
/// to whole blocks. Rows and columns past the image repeat its last ones
/// (jcprepct.c); chroma rows past the last one that holds image data repeat
/// it, and chroma columns past it average the repeated last pixel column
/// (jcsample.c's `expand_right_edge`). WGSL: `rgb_at`, `downsampled`.
fn encode_planes(frame: &Frame, rect: Rect, s: Sampling, lay: &Layout) -> [Vec<u8>; 3] {
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
fn upsample_row(
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

/// R, G, B of a packed pixel.
#[inline]
fn rgb_of(p: u32) -> [i32; 3] {
    [
        (p & 0xff) as i32,
        ((p >> 8) & 0xff) as i32,
        ((p >> 16) & 0xff) as i32,
    ]
}

/// JFIF luma in libjpeg's 16-bit fixed point (jccolor.c).
#[inline]
fn luma_of([r, g, b]: [i32; 3]) -> i32 {
    (19595 * r + 38470 * g + 7471 * b + 32768) >> 16
}

/// JFIF Cb and Cr; the offset is 128 plus one half less one, as jccolor.c has it.
#[inline]
fn chroma_of([r, g, b]: [i32; 3]) -> [i32; 2] {
    const OFFSET: i32 = (128 << 16) + 32767;
    [
        (-11059 * r - 21709 * g + 32768 * b + OFFSET) >> 16,
        (32768 * r - 27439 * g - 5329 * b + OFFSET) >> 16,
    ]
}

/// YCbCr back to packed RGB (alpha zero) with jdcolor.c's fixed point.
#[inline]
fn ycc_to_rgb(y: i32, cb: i32, cr: i32) -> u32 {
    let (cb, cr) = (cb - 128, cr - 128);
    let r = y + ((91881 * cr + 32768) >> 16);
    let g = y + ((-22554 * cb - 46802 * cr + 32768) >> 16);
    let b = y + ((116130 * cb + 32768) >> 16);
    let c = |v: i32| v.clamp(0, 255) as u32;
    c(r) | (c(g) << 8) | (c(b) << 16)
}

/// DCT, quantization and back for every block of a plane, in place, strips
/// of 8 rows in parallel.
fn transform_plane(plane: &mut [u8], blocks_across: u32, q: &Quant) {
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
struct Lanes([i32; 8]);

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
    use super::*;

    #[test]
    fn reciprocal_division_rounds_like_integer_division() {
        for step in 1..=255 {
            let q = Quant::from_steps([step; 64]);
            let d = step as i32 * 8;
            for x in (0..32_768).step_by(7).chain([32_767]) {
                let want = (x + d / 2) / d * step as i32;
                let got = q.requantize(Lanes([x, -x, x, -x, x, -x, x, -x]), 3);
                assert_eq!(got.0[..2], [want, -want], "step {step}, x {x}");
            }
        }
    }

    #[test]
    fn quality_scaling_follows_ijg() {
        let steps = |q: u32, base| Quant::new(base, q).entries.map(|e| e[0]);
        assert_eq!(steps(50, &LUMA_BASE), LUMA_BASE);
        assert_eq!(steps(100, &LUMA_BASE), [1; 64]);
        // q 5: scale 1000%, clamped to the baseline 255.
        assert_eq!(steps(5, &LUMA_BASE)[0], 160);
        assert_eq!(steps(5, &CHROMA_BASE)[63], 255);
        assert_eq!(steps(75, &CHROMA_BASE)[0], 9);
    }

    #[test]
    fn gray_stays_gray_through_colour_conversion() {
        for v in 0..=255 {
            let c = [v; 3];
            assert_eq!(luma_of(c), v);
            assert_eq!(chroma_of(c), [128, 128]);
            assert_eq!(ycc_to_rgb(v, 128, 128), (v as u32) * 0x01_01_01);
        }
    }

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

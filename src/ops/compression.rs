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
//! `compression_artifact` run the codec here. Twin: `shaders/compression.wgsl`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, par_rows,
};
use crate::frame::{Frame, Size};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compression {
    pub quality: u8,
    #[serde(default = "default_subsampling")]
    pub subsampling: u8,
    #[serde(default = "default_optimize")]
    pub optimize: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
}

pub(crate) fn default_subsampling() -> u8 {
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
        match self.gamma_lut() {
            Some(lut) => par_rows(out, |y, row| {
                let line = &src.pixels()[y as usize * row.len()..][..row.len()];
                for (o, &p) in row.iter_mut().zip(line) {
                    *o = apply_lut(&lut, p);
                }
            }),
            None => out.pixels_mut().copy_from_slice(src.pixels()),
        }
        let rect = Rect::whole(src.size());
        Jpeg::new(self.quality, self.subsampling).round_trip(out, rect);
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
/// (step, reciprocal, correction, shift), the layout the shader reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quant([[u32; 4]; 64]);

impl Quant {
    /// `base` scaled by `quality` as `jpeg_set_quality` does with
    /// `force_baseline` (steps clamped to 1..=255).
    fn new(base: &[u32; 64], quality: u8) -> Self {
        let q = u32::from(quality.clamp(1, 100));
        let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
        Self(base.map(|t| {
            let step = ((t * scale + 50) / 100).clamp(1, 255);
            reciprocal(step)
        }))
    }

    /// The quantized-then-dequantized value of DCT output `x` at index `i`.
    #[inline]
    fn requantize(&self, x: i32, i: usize) -> i32 {
        let [step, recip, corr, shift] = self.0[i];
        let n = ((x.unsigned_abs() + corr) * recip) >> shift;
        let n = if x < 0 { -(n as i32) } else { n as i32 };
        n * step as i32
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
    pub fn from_param(s: u8) -> Self {
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

/// One rect as the shader sees it (`Tile` in compression.wgsl).
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
    pub fn new(quality: u8, subsampling: u8) -> Self {
        Self {
            luma: Quant::new(&LUMA_BASE, quality),
            chroma: Quant::new(&CHROMA_BASE, quality),
            sampling: Sampling::from_param(subsampling),
        }
    }

    /// One round trip of `rect` of `frame`, in place; alpha is kept.
    pub fn round_trip(&self, frame: &mut Frame, rect: Rect) {
        let s = self.sampling;
        let lay = Layout::new(rect.w, rect.h, s);
        let stride = frame.width() as usize;

        // Encode side: each component's samples, padded to whole blocks.
        let (mut luma, mut cb, mut cr) = {
            let px = frame.pixels();
            let rgb = |x: u32, y: u32| {
                let (x, y) = (rect.x + x.min(rect.w - 1), rect.y + y.min(rect.h - 1));
                rgb_of(px[y as usize * stride + x as usize])
            };
            let yw = (lay.yb.0 * 8) as usize;
            let mut luma = vec![0u8; lay.luma_bytes()];
            luma.par_chunks_mut(yw).enumerate().for_each(|(y, row)| {
                for (x, o) in row.iter_mut().enumerate() {
                    *o = luma_of(rgb(x as u32, y as u32)) as u8;
                }
            });
            let cw = (lay.cb.0 * 8) as usize;
            let mut cb = vec![0u8; lay.chroma_bytes()];
            let mut cr = vec![0u8; lay.chroma_bytes()];
            cb.par_chunks_mut(cw)
                .zip(cr.par_chunks_mut(cw))
                .enumerate()
                .for_each(|(y, (row_b, row_r))| {
                    for (x, (ob, or)) in row_b.iter_mut().zip(row_r).enumerate() {
                        let [b, r] = downsampled(&rgb, s, &lay, x as u32, y as u32);
                        (*ob, *or) = (b as u8, r as u8);
                    }
                });
            (luma, cb, cr)
        };

        // DCT, quantization and back, block by block, in place.
        for (plane, blocks_across, quant) in [
            (&mut luma, lay.yb.0, &self.luma),
            (&mut cb, lay.cb.0, &self.chroma),
            (&mut cr, lay.cb.0, &self.chroma),
        ] {
            let width = blocks_across as usize * 8;
            plane.par_chunks_mut(width * 8).for_each(|strip| {
                for bx in 0..blocks_across as usize {
                    let mut block = [0i32; 64];
                    for (i, v) in block.iter_mut().enumerate() {
                        *v = i32::from(strip[(i / 8) * width + bx * 8 + i % 8]) - 128;
                    }
                    let out = round_trip_block(&block, quant);
                    for (i, v) in out.iter().enumerate() {
                        strip[(i / 8) * width + bx * 8 + i % 8] = *v;
                    }
                }
            });
        }

        // Decode side: upsample chroma and convert back.
        let planes = Planes {
            luma: &luma,
            cb: &cb,
            cr: &cr,
            lay,
            s,
        };
        frame
            .pixels_mut()
            .par_chunks_mut(stride)
            .skip(rect.y as usize)
            .take(rect.h as usize)
            .enumerate()
            .for_each(|(y, row)| {
                let row = &mut row[rect.x as usize..][..rect.w as usize];
                for (x, p) in row.iter_mut().enumerate() {
                    *p = planes.rgb(x as u32, y as u32) | (*p & 0xff00_0000);
                }
            });
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
        let quant: Vec<[u32; 4]> = self.luma.0.iter().chain(&self.chroma.0).copied().collect();
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
    /// The decoded RGB of pixel (x, y), alpha zero (WGSL `decoded_rgb`).
    #[inline]
    fn rgb(&self, x: u32, y: u32) -> u32 {
        let l = i32::from(self.luma[(y * self.lay.yb.0 * 8 + x) as usize]);
        let width = self.lay.cb.0 * 8;
        let cb = upsampled(
            |cx, cy| self.cb[(cy * width + cx) as usize],
            self.s,
            &self.lay,
            x,
            y,
        );
        let cr = upsampled(
            |cx, cy| self.cr[(cy * width + cx) as usize],
            self.s,
            &self.lay,
            x,
            y,
        );
        ycc_to_rgb(l, cb, cr)
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

/// Chroma sample (cx, cy) as jcsample.c makes it: the mean of the `h`x`v`
/// source pixels with a bias alternating along the row; rows past the image
/// repeat its last chroma row, columns past it average the repeated last
/// pixel column (WGSL `downsampled`).
#[inline]
fn downsampled(
    rgb: &impl Fn(u32, u32) -> [i32; 3],
    s: Sampling,
    lay: &Layout,
    cx: u32,
    cy: u32,
) -> [i32; 2] {
    let cy = cy.min(lay.ch - 1);
    let mut sum = [0i32; 2];
    for dy in 0..s.v {
        for dx in 0..s.h {
            let [b, r] = chroma_of(rgb(cx * s.h + dx, cy * s.v + dy));
            sum = [sum[0] + b, sum[1] + r];
        }
    }
    let odd = (cx & 1) as i32;
    let (bias, shift) = match s.h * s.v {
        4 => (1 + odd, 2),
        2 => (odd, 1),
        _ => (0, 0),
    };
    sum.map(|v| (v + bias) >> shift)
}

/// Chroma at pixel (x, y) by libjpeg's fancy upsampling: a triangle filter
/// weighting the nearer chroma samples 3:1 in each subsampled direction,
/// edges repeated (WGSL `upsampled`).
#[inline]
fn upsampled(sample: impl Fn(u32, u32) -> u8, s: Sampling, lay: &Layout, x: u32, y: u32) -> i32 {
    let at = |cx: i64, cy: i64| {
        i32::from(sample(
            cx.clamp(0, i64::from(lay.cw) - 1) as u32,
            cy.clamp(0, i64::from(lay.ch) - 1) as u32,
        ))
    };
    let (x, y) = (i64::from(x), i64::from(y));
    match (s.h, s.v) {
        (1, 1) => at(x, y),
        (2, 1) => {
            let cx = x >> 1;
            let (n, bias) = if x & 1 == 0 { (cx - 1, 1) } else { (cx + 1, 2) };
            (3 * at(cx, y) + at(n, y) + bias) >> 2
        }
        _ => {
            let (cx, cy) = (x >> 1, y >> 1);
            let ny = if y & 1 == 0 { cy - 1 } else { cy + 1 };
            let col = |c| 3 * at(c, cy) + at(c, ny);
            let (n, bias) = if x & 1 == 0 { (cx - 1, 8) } else { (cx + 1, 7) };
            (3 * col(cx) + col(n) + bias) >> 4
        }
    }
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

const CONST_BITS: i32 = 13;
const PASS1_BITS: i32 = 2;

#[inline]
fn descale(x: i32, n: i32) -> i32 {
    (x + (1 << (n - 1))) >> n
}

/// One 8-point pass of jfdctint.c: rows (`first`) then columns.
#[inline]
fn fdct8(d: [i32; 8], first: bool) -> [i32; 8] {
    let (tmp0, tmp7) = (d[0] + d[7], d[0] - d[7]);
    let (tmp1, tmp6) = (d[1] + d[6], d[1] - d[6]);
    let (tmp2, tmp5) = (d[2] + d[5], d[2] - d[5]);
    let (tmp3, tmp4) = (d[3] + d[4], d[3] - d[4]);
    let (tmp10, tmp13) = (tmp0 + tmp3, tmp0 - tmp3);
    let (tmp11, tmp12) = (tmp1 + tmp2, tmp1 - tmp2);
    let mut o = [0i32; 8];
    let n = if first {
        o[0] = (tmp10 + tmp11) << PASS1_BITS;
        o[4] = (tmp10 - tmp11) << PASS1_BITS;
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

/// One 8-point pass of jidctint.c on dequantized input, descaled by `n` bits.
#[inline]
fn idct8(d: [i32; 8], n: i32) -> [i32; 8] {
    let z1 = (d[2] + d[6]) * 4433;
    let tmp2 = z1 - d[6] * 15137;
    let tmp3 = z1 + d[2] * 6270;
    let tmp0 = (d[0] + d[4]) << CONST_BITS;
    let tmp1 = (d[0] - d[4]) << CONST_BITS;
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
#[inline]
fn range_limit(x: i32) -> u8 {
    ((((x + 512) & 1023) - 512) + 128).clamp(0, 255) as u8
}

/// Forward DCT, quantization, dequantization and inverse DCT of one block of
/// centred samples (row-major), back to 8-bit samples.
fn round_trip_block(block: &[i32; 64], q: &Quant) -> [u8; 64] {
    let mut ws = [0i32; 64];
    for r in 0..8 {
        let row: [i32; 8] = block[r * 8..r * 8 + 8].try_into().expect("8 samples");
        ws[r * 8..r * 8 + 8].copy_from_slice(&fdct8(row, true));
    }
    for c in 0..8 {
        let coef = fdct8(std::array::from_fn(|k| ws[k * 8 + c]), false);
        let deq = std::array::from_fn(|k| q.requantize(coef[k], k * 8 + c));
        for (k, v) in idct8(deq, CONST_BITS - PASS1_BITS).into_iter().enumerate() {
            ws[k * 8 + c] = v;
        }
    }
    let mut out = [0u8; 64];
    for r in 0..8 {
        let row: [i32; 8] = ws[r * 8..r * 8 + 8].try_into().expect("8 values");
        for (k, v) in idct8(row, CONST_BITS + PASS1_BITS + 3)
            .into_iter()
            .enumerate()
        {
            out[r * 8 + k] = range_limit(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocal_division_rounds_like_integer_division() {
        for step in 1..=255 {
            let q = Quant([reciprocal(step); 64]);
            let d = step as i32 * 8;
            for x in (0..32_768).step_by(7).chain([32_767]) {
                let want = (x + d / 2) / d * step as i32;
                assert_eq!(q.requantize(x, 0), want, "step {step}, x {x}");
                assert_eq!(q.requantize(-x, 0), -want, "step {step}, x -{x}");
            }
        }
    }

    #[test]
    fn quality_scaling_follows_ijg() {
        let steps = |q: u8, base| Quant::new(base, q).0.map(|e| e[0]);
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
                let out = round_trip_block(&[v; 64], &Quant::new(&LUMA_BASE, q));
                // A flat block is pure DC: the DC step at q 1 is 255, so the
                // level may move by up to half of it (divided by the DCT's 8).
                let err = (i32::from(out[0]) - (v + 128)).abs();
                assert!(out.iter().all(|&o| o == out[0]), "q {q} v {v}");
                assert!(err <= 16, "q {q} v {v}: {}", out[0]);
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
    fn fancy_upsampling_weights_nearer_samples_three_to_one() {
        let lay = Layout::new(4, 2, Sampling::from_param(1));
        let plane = [0u8, 100];
        let at = |cx: u32, _: u32| plane[cx as usize];
        let got: Vec<i32> = (0..4)
            .map(|x| upsampled(at, Sampling::from_param(1), &lay, x, 0))
            .collect();
        assert_eq!(got, [0, 25, 75, 100]);
    }
}

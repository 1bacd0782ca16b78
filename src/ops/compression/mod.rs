//! One JPEG round trip, pixel for pixel what libjpeg's defaults give (and so
//! what Pillow gives): every step is the integer arithmetic of libjpeg's
//! accurate paths, so the CPU and GPU kernels agree exactly and match
//! libjpeg-turbo bit for bit (`tests/jpeg.rs` checks both claims).
//!
//! Each stage has a file of its own, named as its WGSL twin in
//! `shaders/compression/` and naming the libjpeg file it follows: `color`,
//! `sampling`, `dct`, `quant`. This file holds the op, the [`Jpeg`] driver
//! that runs the stages on the CPU or describes them as GPU passes, and the
//! layout of their planes; its twin is `shaders/compression/kernels.wgsl`,
//! the bindings and entry points.
//!
//! Entropy coding is lossless, so it is skipped. `multi_compress` and
//! `compression_artifact` run the codec here.

mod color;
mod dct;
mod quant;
mod sampling;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use color::ycc_to_rgb;
use dct::transform_plane;
use quant::{CHROMA_BASE, LUMA_BASE, Quant};
use sampling::{Sampling, encode_planes, upsample_row};

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

//! Memory upsets in random tiles: XOR noise, a partial inversion or a
//! channel shuffle per tile, tiles applied in order (a pixel under two tiles
//! is corrupted twice). Tiles and each tile's shuffle are drawn on the CPU
//! from the step's seed and handed to both backends; XOR values are
//! per-pixel counter-based draws. Every step is integer arithmetic, so the
//! backends agree exactly. Twin: `shaders/buffer_corruption.wgsl`.

use serde::{Deserialize, Serialize};

use super::band_swap::permute;
use super::compression::Rect;
use super::compression_artifact::{
    TILE_SIZE_RANGE, check_tile_size_range, default_tile_size_range, draw_tiles,
};
use super::salt_pepper::random4_lanes;
use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError, par_rows};
use crate::frame::{Frame, Size};
use crate::rng::RngKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    Xor,
    Invert,
    ChannelShuffle,
}

impl Corruption {
    fn code(self) -> u32 {
        match self {
            Corruption::Xor => 0,
            Corruption::Invert => 1,
            Corruption::ChannelShuffle => 2,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BufferCorruption {
    pub tile_count: u32,
    pub corruption_type: Corruption,
    pub severity: f64,
    #[serde(default = "default_tile_size_range")]
    pub tile_size_range: (f64, f64),
}

const TILE_COUNT: Param = Param {
    name: "tile_count",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 20.0),
    doc: "number of tiles",
};
const CORRUPTION_TYPE: Param = Param {
    name: "corruption_type",
    ty: "word",
    default: None,
    allowed: Allowed::OneOf(&["xor", "invert", "channel_shuffle"]),
    doc: "xor random bits, blend towards the inverse, or permute R, G, B per tile",
};
const SEVERITY: Param = Param {
    name: "severity",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1.0),
    doc: "xor: values up to 255·severity; invert: blend weight; shuffle: chance per tile",
};

impl OpParams for BufferCorruption {
    const NAME: &'static str = "buffer_corruption";
    const SUMMARY: &'static str =
        "xor, invert or channel-shuffle random tiles, applied in order; alpha kept";
    const PARAMS: &'static [Param] = &[TILE_COUNT, CORRUPTION_TYPE, SEVERITY, TILE_SIZE_RANGE];

    fn validate(&self) -> Result<(), ParamError> {
        TILE_COUNT.check(self.tile_count.into())?;
        SEVERITY.check(self.severity)?;
        check_tile_size_range(self.tile_size_range)
    }
}

/// The six orders of R, G, B (source channel of each new one).
const ORDERS: [[u32; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// Per-frame constants, integers so both backends compute the same pixels.
#[derive(Debug, Clone, Copy)]
struct Consts {
    key: RngKey,
    code: u32,
    /// xor values are uniform in `0..xor_span`, i.e. `0..=trunc(255·severity)`.
    xor_span: u32,
    /// The severity in 1/65536ths, the invert blend weight.
    weight: u32,
}

/// One tile as the shader reads it: the rectangle and the packed sources
/// of its channel shuffle (identity when the tile is not shuffled).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
struct Tile {
    rect: [u32; 4],
    sources: u32,
    pad: [u32; 3],
}

fn pack([r, g, b]: [u32; 3]) -> u32 {
    r | (g << 8) | (b << 16)
}

fn unpack(s: u32) -> [u32; 3] {
    [s & 0xff, (s >> 8) & 0xff, s >> 16]
}

impl BufferCorruption {
    fn consts(&self, ctx: &FrameCtx) -> Consts {
        Consts {
            key: ctx.key,
            code: self.corruption_type.code(),
            xor_span: (255.0 * self.severity) as u32 + 1,
            weight: (self.severity * 65536.0).round() as u32,
        }
    }

    /// The tiles, each with its shuffle: with probability `severity`, one of
    /// the six orders (the identity among them, as a random permutation may
    /// be). Decided from counters of their own, apart from the tile stream.
    fn tiles(&self, ctx: &FrameCtx, size: Size) -> Vec<Tile> {
        let chance = (self.severity * (1u64 << 31) as f64).round() as u32;
        draw_tiles(ctx, size, self.tile_count, self.tile_size_range)
            .into_iter()
            .enumerate()
            .map(|(i, Rect { x, y, w, h })| {
                let r = ctx.key.random4(i as u32, 0, u32::MAX - 1);
                let shuffled =
                    self.corruption_type == Corruption::ChannelShuffle && (r[0] >> 1) < chance;
                let order = ORDERS[((u64::from(r[1]) * 6) >> 32) as usize];
                Tile {
                    rect: [x, y, w, h],
                    sources: pack(if shuffled { order } else { ORDERS[0] }),
                    pad: [0; 3],
                }
            })
            .collect()
    }
}

/// `v·(1 − s) + (255 − v)·s` rounded half up, with `s = weight / 65536`.
#[inline(always)]
fn invert_channel(v: u32, weight: u32) -> u32 {
    (v * (65536 - weight) + (255 - v) * weight + 32768) >> 16
}

/// `p` XORed with values in `0..span` from the random words `r`; a gray
/// pixel gets one value for all three, so gray stays gray. Alpha kept.
#[inline(always)]
fn xor_pixel(p: u32, r: [u32; 4], span: u32) -> u32 {
    let v = |w: u32| ((w >> 8) * span) >> 24;
    let gray = (p & 0xff) * 0x01_01_01 == p & 0xff_ff_ff;
    let (g, b) = if gray { (r[0], r[0]) } else { (r[1], r[2]) };
    p ^ (v(r[0]) | (v(g) << 8) | (v(b) << 16))
}

#[inline(always)]
fn invert_pixel(p: u32, weight: u32) -> u32 {
    let ch = |i: u32| invert_channel((p >> (8 * i)) & 0xff, weight) << (8 * i);
    ch(0) | ch(1) | ch(2) | (p & 0xff00_0000)
}

/// Up to eight pixels from column `x` XORed; word k of lane l's random
/// words in v[k][l], so the XOR runs across the lanes too.
#[inline(always)]
fn xor_lanes(c: &Consts, x: u32, y: u32, t: u32, px: &mut [u32]) {
    let v = random4_lanes(c.key, x, y, t);
    for (l, p) in px.iter_mut().enumerate() {
        let r = [v[0][l], v[1][l], v[2][l], v[3][l]];
        *p = xor_pixel(*p, r, c.xor_span);
    }
}

avx2_twin!(corrupt_span => corrupt_span_inner(row: &mut [u32], c: &Consts, tile: &Tile, t: u32, y: u32, xs: [u32; 2]));

/// Tile `t` (`tile`) applied to `row[x0..x1]`, the row `y`.
#[inline(always)]
fn corrupt_span_inner(row: &mut [u32], c: &Consts, tile: &Tile, t: u32, y: u32, xs: [u32; 2]) {
    let [x0, x1] = xs;
    let span = &mut row[x0 as usize..x1 as usize];
    match c.code {
        0 => {
            // Eight pixels' random words at a time: the hash runs in SIMD.
            let mut chunks = span.chunks_exact_mut(8);
            let mut x = x0;
            for px in &mut chunks {
                // Whole chunks as arrays, so the lane loop has a fixed length.
                let px: &mut [u32; 8] = px.try_into().expect("chunks of eight");
                xor_lanes(c, x, y, t, px);
                x += 8;
            }
            xor_lanes(c, x, y, t, chunks.into_remainder());
        }
        1 => span
            .iter_mut()
            .for_each(|p| *p = invert_pixel(*p, c.weight)),
        _ => {
            let src = unpack(tile.sources);
            span.iter_mut().for_each(|p| *p = permute(*p, src));
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    key: [u32; 4],
    width: u32,
    height: u32,
    tile_count: u32,
    code: u32,
    xor_span: u32,
    weight: u32,
    pad: [u32; 2],
}

impl Op for BufferCorruption {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let c = self.consts(ctx);
        let tiles = self.tiles(ctx, out.size());
        let frame = inputs[0];
        let width = frame.width() as usize;
        par_rows(out, |y, row| {
            row.copy_from_slice(&frame.pixels()[y as usize * width..][..width]);
            for (t, tile) in tiles.iter().enumerate() {
                let [tx, ty, tw, th] = tile.rect;
                if (ty..ty + th).contains(&y) {
                    corrupt_span(row, &c, tile, t as u32, y, [tx, tx + tw]);
                }
            }
        });
    }

    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let c = self.consts(ctx);
        let tiles = self.tiles(ctx, inputs[0]);
        let u = Uniforms {
            key: c.key.0,
            width: out.width,
            height: out.height,
            tile_count: tiles.len() as u32,
            code: c.code,
            xor_span: c.xor_span,
            weight: c.weight,
            pad: [0; 2],
        };
        GpuWork::per_pixel(
            "buffer_corruption",
            out,
            vec![
                (0, Binding::uniform(&u)),
                (1, Binding::data(&tiles)),
                (2, Binding::Input(0)),
                (3, Binding::Output),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(corruption_type: Corruption, severity: f64) -> BufferCorruption {
        BufferCorruption {
            tile_count: 20,
            corruption_type,
            severity,
            tile_size_range: (0.05, 0.2),
        }
    }

    fn ctx() -> FrameCtx {
        FrameCtx {
            key: RngKey::new(4, 0, 0),
        }
    }

    #[test]
    fn invert_at_severity_zero_half_and_one() {
        let at =
            |s: f64, v: u32| invert_channel(v, op(Corruption::Invert, s).consts(&ctx()).weight);
        for v in [0, 1, 77, 128, 254, 255] {
            assert_eq!(at(0.0, v), v);
            assert_eq!(at(1.0, v), 255 - v);
            // v/2 + (255 − v)/2 = 127.5 for every v: rounded half up.
            assert_eq!(at(0.5, v), 128);
        }
        // 100·0.75 + 155·0.25 = 113.75.
        assert_eq!(at(0.25, 100), 114);
    }

    #[test]
    fn invert_keeps_alpha() {
        let c = op(Corruption::Invert, 1.0).consts(&ctx());
        assert_eq!(invert_pixel(0x42_00_10_ff, c.weight), 0x42_ff_ef_00);
    }

    #[test]
    fn xor_values_stay_in_range_and_gray_stays_gray() {
        let c = op(Corruption::Xor, 0.1).consts(&ctx());
        assert_eq!(c.xor_span, 26); // 0..=trunc(25.5)
        let mut seen = 0u32;
        for x in 0..300 {
            let r = c.key.random4(x, 7, 3);
            let q = xor_pixel(0x80_00_00_00, r, c.xor_span);
            assert!(q & 0xff <= 25 && (q >> 8) & 0xff <= 25 && (q >> 16) & 0xff <= 25);
            seen |= 1 << (q & 0xff);
            let g = xor_pixel(0x80_63_63_63, r, c.xor_span);
            assert_eq!(g & 0xff_ff, (g >> 8) & 0xff_ff, "{g:x}");
            assert_eq!(g >> 24, 0x80);
        }
        assert_eq!(seen, (1 << 26) - 1, "every value 0..=25 drawn");
        let none = op(Corruption::Xor, 0.0).consts(&ctx());
        assert_eq!(
            xor_pixel(0x12_34_56_78, [u32::MAX; 4], none.xor_span),
            0x12_34_56_78
        );
    }

    #[test]
    fn shuffles_come_with_the_severity() {
        let count = |s: f64| {
            (0..50u64)
                .flat_map(|seed| {
                    let ctx = FrameCtx {
                        key: RngKey::new(seed, 0, 0),
                    };
                    op(Corruption::ChannelShuffle, s).tiles(&ctx, Size::new(64, 64))
                })
                .filter(|t| t.sources != pack(ORDERS[0]))
                .count()
        };
        assert_eq!(count(0.0), 0);
        // Shuffled tiles get the identity one time in six: 1000·5/6 expected.
        let all = count(1.0);
        assert!((790..875).contains(&all), "{all}");
        let half = count(0.5);
        assert!((362..472).contains(&half), "{half}");
        // Tiles of xor and invert are never shuffled.
        assert!(
            op(Corruption::Xor, 1.0)
                .tiles(&ctx(), Size::new(64, 64))
                .iter()
                .all(|t| t.sources == pack(ORDERS[0]))
        );
    }
}

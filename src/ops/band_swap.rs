//! Colour band permutation in random tiles: each tile's R, G, B are
//! reordered, in order, so a pixel under two tiles is permuted twice.
//! Tiles are drawn on the CPU from the step's seed and handed to both
//! backends; each pixel walks the tile list in order (no races).
//! Twin: `shaders/band_swap.wgsl`.
//!
//! A gray frame comes back as it was (its channels are equal), where the
//! reference refuses gray input.

use serde::{Deserialize, Serialize};

use super::compression_artifact::{
    TILE_SIZE_RANGE, check_tile_size_range, default_tile_size_range, draw_tiles,
};
use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError, par_rows};
use crate::frame::{Frame, Size};

/// Which old band each new band takes, named by the new R, G, B: `grb`
/// means new R = old G, new G = old R, B stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permutation {
    Grb,
    Bgr,
    Brg,
    Gbr,
    Rbg,
}

impl Permutation {
    /// Source channel of each new channel.
    fn sources(self) -> [u32; 3] {
        match self {
            Permutation::Grb => [1, 0, 2],
            Permutation::Bgr => [2, 1, 0],
            Permutation::Brg => [2, 0, 1],
            Permutation::Gbr => [1, 2, 0],
            Permutation::Rbg => [0, 2, 1],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSwap {
    pub tile_count: u32,
    pub permutation: Permutation,
    #[serde(default = "default_tile_size_range")]
    pub tile_size_range: (f64, f64),
}

const TILE_COUNT: Param = Param {
    name: "tile_count",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 50.0),
    doc: "number of tiles",
};
const PERMUTATION: Param = Param {
    name: "permutation",
    ty: "word",
    default: None,
    allowed: Allowed::OneOf(&["grb", "bgr", "brg", "gbr", "rbg"]),
    doc: "old bands that become the new R, G, B (grb: swap R and G)",
};

impl OpParams for BandSwap {
    const NAME: &'static str = "band_swap";
    const SUMMARY: &'static str =
        "permute R, G, B in random tiles, applied in order; alpha kept, gray unchanged";
    const PARAMS: &'static [Param] = &[TILE_COUNT, PERMUTATION, TILE_SIZE_RANGE];

    fn validate(&self) -> Result<(), ParamError> {
        TILE_COUNT.check(self.tile_count.into())?;
        check_tile_size_range(self.tile_size_range)
    }
}

/// `p` with its colour bytes reordered by `src`; alpha kept.
#[inline(always)]
pub(crate) fn permute(p: u32, src: [u32; 3]) -> u32 {
    let c = |i: u32| (p >> (8 * src[i as usize])) & 0xff;
    c(0) | (c(1) << 8) | (c(2) << 16) | (p & 0xff00_0000)
}

/// The tiles as the shader reads them: `vec4<u32>(x, y, w, h)`.
pub(crate) fn tile_words(tiles: &[super::compression::Rect]) -> Vec<[u32; 4]> {
    tiles.iter().map(|t| [t.x, t.y, t.w, t.h]).collect()
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    tile_count: u32,
    /// Source channel of new R, G, B in bytes 0, 1, 2.
    sources: u32,
}

impl Op for BandSwap {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let tiles = draw_tiles(ctx, out.size(), self.tile_count, self.tile_size_range);
        let src = self.permutation.sources();
        let frame = inputs[0];
        let width = frame.width() as usize;
        par_rows(out, |y, row| {
            row.copy_from_slice(&frame.pixels()[y as usize * width..][..width]);
            for t in tiles.iter().filter(|t| (t.y..t.y + t.h).contains(&y)) {
                for p in &mut row[t.x as usize..(t.x + t.w) as usize] {
                    *p = permute(*p, src);
                }
            }
        });
    }

    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let tiles = draw_tiles(ctx, inputs[0], self.tile_count, self.tile_size_range);
        let [r, g, b] = self.permutation.sources();
        let u = Uniforms {
            width: out.width,
            height: out.height,
            tile_count: tiles.len() as u32,
            sources: r | (g << 8) | (b << 16),
        };
        GpuWork::per_pixel(
            "band_swap",
            out,
            vec![
                (0, Binding::uniform(&u)),
                (1, Binding::data(&tile_words(&tiles))),
                (2, Binding::Input(0)),
                (3, Binding::Output),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u32 = 0x80_30_20_10; // R 0x10, G 0x20, B 0x30, A 0x80

    #[test]
    fn permutations_move_the_named_bands() {
        let cases = [
            (Permutation::Grb, 0x80_30_10_20),
            (Permutation::Bgr, 0x80_10_20_30),
            (Permutation::Brg, 0x80_20_10_30),
            (Permutation::Gbr, 0x80_10_30_20),
            (Permutation::Rbg, 0x80_20_30_10),
        ];
        for (perm, want) in cases {
            assert_eq!(permute(P, perm.sources()), want, "{perm:?}");
        }
    }

    #[test]
    fn swaps_undo_themselves_and_cycles_take_three_steps() {
        let twice = |perm: Permutation| permute(permute(P, perm.sources()), perm.sources());
        assert_eq!(twice(Permutation::Grb), P);
        assert_eq!(twice(Permutation::Bgr), P);
        assert_eq!(twice(Permutation::Rbg), P);
        let brg = Permutation::Brg.sources();
        assert_ne!(twice(Permutation::Brg), P);
        assert_eq!(permute(twice(Permutation::Brg), brg), P);
    }

    #[test]
    fn gray_stays_as_it_was() {
        let gray = 0x40_77_77_77;
        assert_eq!(permute(gray, Permutation::Brg.sources()), gray);
    }

    #[test]
    fn tile_count_is_checked() {
        let op = BandSwap {
            tile_count: 51,
            permutation: Permutation::Grb,
            tile_size_range: (0.05, 0.2),
        };
        assert_eq!(op.validate().unwrap_err().param, "tile_count");
    }
}

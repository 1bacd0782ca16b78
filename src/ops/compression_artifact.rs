//! JPEG failure in random tiles: each tile is cut out, compressed as an image
//! of its own (its own 8x8 grid from its corner, 4:2:0, edges padded as a
//! codec pads them) and pasted back, in order, so later tiles see earlier
//! tiles' output. Tiles are drawn on the CPU from the step's seed and handed
//! to both backends. No shader of its own: it dispatches
//! `shaders/compression/`.
//!
//! On the GPU, tiles that overlap no earlier tile of theirs run together:
//! all tiles go in one dispatch pair when none overlap, and each chain of
//! overlaps adds a pair, which keeps the reference's order exactly.

use serde::{Deserialize, Serialize};

use super::compression::{Jpeg, Rect, Source};
use super::{Allowed, FrameCtx, GpuWork, Op, OpParams, Param, ParamError};
use crate::frame::{Frame, Size};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressionArtifact {
    pub tile_count: u32,
    pub quality: u32,
    #[serde(default = "default_tile_size_range")]
    pub tile_size_range: (f64, f64),
}

/// The reference's tile sizes, a fraction of the frame's sides: shared by
/// every tile op.
pub(crate) fn default_tile_size_range() -> (f64, f64) {
    (0.05, 0.2)
}

const TILE_COUNT: Param = Param {
    name: "tile_count",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 30.0),
    doc: "number of tiles",
};
const QUALITY: Param = Param {
    name: "quality",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(1.0, 20.0),
    doc: "JPEG quality inside the tiles (4:2:0)",
};
pub(crate) const TILE_SIZE_RANGE: Param = Param {
    name: "tile_size_range",
    ty: "(min, max)",
    default: Some("(0.05, 0.2)"),
    allowed: Allowed::Range(0.01, 1.0),
    doc: "tile side as a fraction of the frame's, drawn per tile; min <= max",
};

/// The codec's default subsampling, which the reference's tiles got: 4:2:0.
const SUBSAMPLING: u32 = 2;

impl OpParams for CompressionArtifact {
    const NAME: &'static str = "compression_artifact";
    const SUMMARY: &'static str =
        "JPEG round trips of random tiles, each its own image, applied in order";
    const PARAMS: &'static [Param] = &[TILE_COUNT, QUALITY, TILE_SIZE_RANGE];

    fn validate(&self) -> Result<(), ParamError> {
        TILE_COUNT.check(self.tile_count.into())?;
        QUALITY.check(self.quality.into())?;
        check_tile_size_range(self.tile_size_range)
    }
}

/// Both ends in 0.01..=1, min <= max.
pub(crate) fn check_tile_size_range((lo, hi): (f64, f64)) -> Result<(), ParamError> {
    let shown = format!("({lo}, {hi})");
    TILE_SIZE_RANGE
        .check(lo)
        .and(TILE_SIZE_RANGE.check(hi))
        .map_err(|_| TILE_SIZE_RANGE.error(&shown))?;
    if lo > hi {
        return Err(ParamError {
            allowed: "min <= max".into(),
            ..TILE_SIZE_RANGE.error(shown)
        });
    }
    Ok(())
}

/// `count` tiles drawn as the reference draws them: a side fraction `f`
/// uniform in the range, a tile of `max(1, floor(H f))` by `max(1, floor(W f))`,
/// its corner uniform over the positions that keep it inside the frame.
pub(crate) fn draw_tiles(
    ctx: &FrameCtx,
    size: Size,
    count: u32,
    (lo, hi): (f64, f64),
) -> Vec<Rect> {
    let mut rng = ctx.key.stream();
    (0..count)
        .map(|_| {
            let f = rng.uniform(lo, hi);
            let h = ((f64::from(size.height) * f) as u32).clamp(1, size.height);
            let w = ((f64::from(size.width) * f) as u32).clamp(1, size.width);
            let y = rng.below(size.height - h + 1);
            let x = rng.below(size.width - w + 1);
            Rect { x, y, w, h }
        })
        .collect()
}

/// Groups tiles so that each tile comes after every earlier tile it
/// overlaps; tiles within a group never overlap, so they may run at once.
fn waves(tiles: &[Rect]) -> Vec<Vec<Rect>> {
    let mut wave_of: Vec<usize> = Vec::with_capacity(tiles.len());
    let mut waves: Vec<Vec<Rect>> = Vec::new();
    for (i, t) in tiles.iter().enumerate() {
        let w = tiles[..i]
            .iter()
            .zip(&wave_of)
            .filter(|(e, _)| e.overlaps(t))
            .map(|(_, w)| w + 1)
            .max()
            .unwrap_or(0);
        wave_of.push(w);
        if waves.len() <= w {
            waves.push(Vec::new());
        }
        waves[w].push(*t);
    }
    waves
}

impl CompressionArtifact {
    fn tiles(&self, ctx: &FrameCtx, size: Size) -> Vec<Rect> {
        draw_tiles(ctx, size, self.tile_count, self.tile_size_range)
    }
}

impl Op for CompressionArtifact {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        out.pixels_mut().copy_from_slice(inputs[0].pixels());
        let jpeg = Jpeg::new(self.quality, SUBSAMPLING);
        for tile in self.tiles(ctx, out.size()) {
            jpeg.round_trip(None, out, tile);
        }
    }

    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let jpeg = Jpeg::new(self.quality, SUBSAMPLING);
        let mut work = jpeg.prepare(out, None);
        for wave in waves(&self.tiles(ctx, inputs[0])) {
            jpeg.push_round_trip(&mut work, out, &wave, Source::Output);
        }
        work
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RngKey;

    #[test]
    fn tiles_stay_inside_and_follow_the_size_range() {
        let size = Size::new(200, 100);
        let ctx = FrameCtx {
            key: RngKey::new(3, 0, 0),
        };
        let tiles = draw_tiles(&ctx, size, 30, (0.05, 0.2));
        assert_eq!(tiles.len(), 30);
        for t in &tiles {
            assert!(t.x + t.w <= 200 && t.y + t.h <= 100, "{t:?}");
            assert!((10..=40).contains(&t.w) && (5..=20).contains(&t.h), "{t:?}");
        }
        let full = draw_tiles(&ctx, size, 2, (1.0, 1.0));
        assert!(full.iter().all(|t| *t == Rect::whole(size)));
    }

    #[test]
    fn waves_keep_overlapping_tiles_in_order() {
        let r = |x, y, w, h| Rect { x, y, w, h };
        let tiles = [
            r(0, 0, 10, 10),
            r(20, 0, 10, 10),
            r(5, 5, 10, 10),
            r(40, 40, 5, 5),
            r(8, 8, 2, 2),
        ];
        let w = waves(&tiles);
        assert_eq!(w[0], [tiles[0], tiles[1], tiles[3]]);
        assert_eq!(w[1], [tiles[2]]);
        assert_eq!(w[2], [tiles[4]]);
    }

    #[test]
    fn tile_size_range_is_checked() {
        assert!(check_tile_size_range((0.05, 0.2)).is_ok());
        assert_eq!(
            check_tile_size_range((0.3, 0.2)).unwrap_err().allowed,
            "min <= max"
        );
        assert_eq!(
            check_tile_size_range((0.0, 0.2)).unwrap_err().value,
            "(0, 0.2)"
        );
    }
}

//! Landsat 7's scan-line-corrector failure, as the reference draws it: one
//! bow-tie band centred on the middle column, no gap on the middle row and
//! `gap_width·W` wide at the top and bottom, with a saw-tooth edge (the gap
//! centre shifts `trunc(0.3·o)` px along a scan of `scan_period` rows, to
//! one side then the other, flipping at each scan whose first row has a
//! gap). About 11% of a 1080p frame at `gap_width: 0.22`. The band's span
//! per row is computed on the CPU and handed to both backends; the mean fill
//! is each row's integer mean over its pixels outside the gap (on the GPU,
//! one workgroup per row) plus a per-pixel offset in −5..=5 per channel,
//! one offset for all three where the mean is gray, so gray stays gray.
//!
//! `pattern: landsat7` draws instead what the failed instrument really
//! lost: in every scan of `scan_period` rows, the rows nearest the scan's
//! edges lose their left and right parts, nothing at the middle column and
//! `gap_width` of the scan's rows at the frame's left and right edges: a
//! wedge-shaped stripe, repeating down the frame, widening from the centre,
//! that loses about `gap_width / 2` of the frame (0.44: about 22%, what
//! Landsat 7's SLC-off scenes lose). Each row then has two gaps, handed to
//! both backends as for the band.
//!
//! Twin: `shaders/slc_off.wgsl`.

use serde::{Deserialize, Serialize};

use super::salt_pepper::random4_lanes;
use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, par_rows,
};
use crate::frame::{Frame, Size};
use crate::rng::RngKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillMode {
    Black,
    White,
    Mean,
}

/// Which gaps: the reference's band, or the real instrument's wedges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    #[default]
    Bowtie,
    Landsat7,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlcOff {
    pub gap_width: f64,
    pub scan_period: u32,
    pub fill_mode: FillMode,
    #[serde(default)]
    pub pattern: Pattern,
}

const GAP_WIDTH: Param = Param {
    name: "gap_width",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 0.5),
    doc: "width of the band at the top and bottom rows, as a fraction of the frame's",
};
const SCAN_PERIOD: Param = Param {
    name: "scan_period",
    ty: "integer",
    default: None,
    allowed: Allowed::Range(2.0, 100.0),
    doc: "rows per scan: the band's edge shifts along a scan and flips side each scan",
};
const PATTERN: Param = Param {
    name: "pattern",
    ty: "word",
    default: Some("bowtie"),
    allowed: Allowed::OneOf(&["bowtie", "landsat7"]),
    doc: "bowtie: the reference's one band; landsat7: the real wedge stripes in every scan (see the docs)",
};
const FILL_MODE: Param = Param {
    name: "fill_mode",
    ty: "word",
    default: None,
    allowed: Allowed::OneOf(&["black", "white", "mean"]),
    doc: "what fills the gap; mean: the row's mean outside it, ±5 per pixel",
};

impl OpParams for SlcOff {
    const NAME: &'static str = "slc_off";
    const SUMMARY: &'static str =
        "Landsat 7 SLC-off: a bow-tie gap band with a saw-tooth edge, filled; alpha kept";
    const PARAMS: &'static [Param] = &[GAP_WIDTH, SCAN_PERIOD, FILL_MODE, PATTERN];

    fn validate(&self) -> Result<(), ParamError> {
        GAP_WIDTH.check(self.gap_width)?;
        SCAN_PERIOD.check(self.scan_period.into())
    }
}

/// A row's gaps as `[lo, hi)` columns, in order and apart (empty where
/// `lo == hi`).
type Gaps = [[u32; 2]; 2];

impl SlcOff {
    /// The gaps of every row.
    fn gaps(&self, size: Size) -> Vec<Gaps> {
        let w = size.width;
        match self.pattern {
            Pattern::Bowtie => self.spans(size).into_iter().map(|s| [s, [w, w]]).collect(),
            Pattern::Landsat7 => (0..size.height).map(|y| self.wedge(size, y)).collect(),
        }
    }

    /// Row `y`'s gaps in the landsat7 pattern: pixel (x, y) is lost where
    /// the row's distance to its scan's nearest edge, δ (half a row at the
    /// edge rows), is under half of `gap_width · scan_period · e`, e the
    /// column's distance from the centre as a fraction of half the width.
    /// So a row keeps the middle `[c - d, c + d)`, d = (W/2) · 2δ / (g·P).
    fn wedge(&self, size: Size, y: u32) -> Gaps {
        let (w, period) = (f64::from(size.width), f64::from(self.scan_period));
        let none = [[0, 0], [size.width, size.width]];
        if self.gap_width <= 0.0 {
            return none;
        }
        let phase = f64::from(y % self.scan_period) + 0.5;
        let delta = phase.min(period - phase);
        let d = w / 2.0 * 2.0 * delta / (self.gap_width * period);
        let lo = (w / 2.0 - d).round().clamp(0.0, w) as u32;
        let hi = (w / 2.0 + d).round().clamp(0.0, w) as u32;
        if lo == 0 && hi == size.width {
            return none;
        }
        [[0, lo], [hi, size.width]]
    }

    /// The band of every row as `[lo, hi)` columns (empty where `lo == hi`).
    fn spans(&self, size: Size) -> Vec<[u32; 2]> {
        let (w, h) = (f64::from(size.width), f64::from(size.height));
        let half = h / 2.0;
        let gap = |y: u32| ((f64::from(y) - half).abs() / half * self.gap_width * w) as u32;
        let centre = f64::from(size.width / 2);
        let mut spans = vec![[0, 0]; size.height as usize];
        let mut dir = -1.0;
        for first in (0..size.height).step_by(self.scan_period as usize) {
            // The reference turns only at scans whose first row has a gap.
            if gap(first) > 0 {
                dir = -dir;
            }
            for y in first..(first + self.scan_period).min(size.height) {
                let g = f64::from(gap(y));
                if g > 0.0 {
                    let o = f64::from(y - first);
                    let c = centre + (0.3 * o * dir).trunc();
                    let lo = ((c - g / 2.0).trunc()).clamp(0.0, w);
                    let hi = ((c + g / 2.0).trunc()).clamp(0.0, w);
                    spans[y as usize] = [lo as u32, hi as u32];
                }
            }
        }
        spans
    }
}

/// The fill in mean mode from a pixel's random words `r`: `mean` (packed
/// RGB) plus an offset in −5..=5 per channel, clipped; one offset for all
/// three where the mean is gray.
#[inline(always)]
fn mean_fill(mean: u32, r: [u32; 4]) -> u32 {
    let gray = (mean & 0xff) * 0x01_01_01 == mean;
    let (g, b) = if gray { (r[0], r[0]) } else { (r[1], r[2]) };
    let ch = |i: u32, w: u32| {
        let v = ((mean >> (8 * i)) & 0xff) as i32 + (((w >> 8) * 11) >> 24) as i32 - 5;
        (v.clamp(0, 255) as u32) << (8 * i)
    };
    ch(0, r[0]) | ch(1, g) | ch(2, b)
}

avx2_twin!(add_channels => add_channels_inner(sum: &mut [u32; 3], px: &[u32]));

#[inline(always)]
fn add_channels_inner(sum: &mut [u32; 3], px: &[u32]) {
    let [mut r, mut g, mut b] = *sum;
    for &p in px {
        r += p & 0xff;
        g += (p >> 8) & 0xff;
        b += (p >> 16) & 0xff;
    }
    *sum = [r, g, b];
}

/// The parts of a row of `width` outside its gaps, as `[lo, hi)`.
fn kept([[a0, a1], [b0, b1]]: Gaps, width: u32) -> [[usize; 2]; 3] {
    [[0, a0], [a1, b0], [b1, width]].map(|s| s.map(|x| x as usize))
}

/// Per-channel means of `row` outside its gaps, rounded half up, packed.
fn row_mean(row: &[u32], gaps: Gaps) -> u32 {
    let mut sum = [0u32; 3];
    for [lo, hi] in kept(gaps, row.len() as u32) {
        add_channels(&mut sum, &row[lo..hi]);
    }
    let lost: u32 = gaps.iter().map(|[lo, hi]| hi - lo).sum();
    let n = (row.len() as u32 - lost).max(1);
    let m = sum.map(|s| (s + n / 2) / n);
    m[0] | (m[1] << 8) | (m[2] << 16)
}

avx2_twin!(fill_flat => fill_flat_inner(line: &[u32], fill: u32, gap: &mut [u32]));

#[inline(always)]
fn fill_flat_inner(line: &[u32], fill: u32, gap: &mut [u32]) {
    for (o, &p) in gap.iter_mut().zip(line) {
        *o = (p & 0xff00_0000) | fill;
    }
}

/// Up to eight pixels of the gap from column `x`; word k of lane l's
/// random words in v[k][l], so the fill runs across the lanes too.
#[inline(always)]
fn fill_mean_lanes(key: RngKey, x: u32, y: u32, mean: u32, o: &mut [u32], src: &[u32]) {
    let v = random4_lanes(key, x, y, 0);
    for (l, (o, &p)) in o.iter_mut().zip(src).enumerate() {
        let r = [v[0][l], v[1][l], v[2][l], v[3][l]];
        *o = (p & 0xff00_0000) | mean_fill(mean, r);
    }
}

avx2_twin!(fill_mean => fill_mean_inner(key: RngKey, y: u32, lo: u32, mean: u32, line: &[u32], gap: &mut [u32]));

/// The gap of row `y` from column `lo` in mean mode, eight pixels' random
/// words at a time so that the hash runs in SIMD.
#[inline(always)]
fn fill_mean_inner(key: RngKey, y: u32, lo: u32, mean: u32, line: &[u32], gap: &mut [u32]) {
    let mut gap = gap.chunks_exact_mut(8);
    let mut line = line.chunks_exact(8);
    let mut x = lo;
    for (o, src) in (&mut gap).zip(&mut line) {
        // Whole chunks as arrays, so the lane loop has a fixed length.
        let o: &mut [u32; 8] = o.try_into().expect("chunks of eight");
        fill_mean_lanes(key, x, y, mean, o, src);
        x += 8;
    }
    fill_mean_lanes(key, x, y, mean, gap.into_remainder(), line.remainder());
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    key: [u32; 4],
    width: u32,
    height: u32,
    /// Packed RGB of a black or white fill.
    flat: u32,
    pad: u32,
}

impl Op for SlcOff {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let gaps = self.gaps(out.size());
        let src = inputs[0];
        let width = src.width();
        let mode = self.fill_mode;
        par_rows(out, |y, row| {
            let line = &src.pixels()[y as usize * width as usize..][..width as usize];
            let row_gaps = gaps[y as usize];
            // The gaps are written from the source, so only the rest is copied.
            for [lo, hi] in kept(row_gaps, width) {
                row[lo..hi].copy_from_slice(&line[lo..hi]);
            }
            let mean = match mode {
                FillMode::Mean => row_mean(line, row_gaps),
                _ => 0,
            };
            for [lo, hi] in row_gaps.map(|g| g.map(|x| x as usize)) {
                let (line_gap, gap) = (&line[lo..hi], &mut row[lo..hi]);
                match mode {
                    FillMode::Black => fill_flat(line_gap, 0, gap),
                    FillMode::White => fill_flat(line_gap, 0xff_ff_ff, gap),
                    FillMode::Mean => fill_mean(ctx.key, y, lo as u32, mean, line_gap, gap),
                }
            }
        });
    }

    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let u = Uniforms {
            key: ctx.key.0,
            width: out.width,
            height: out.height,
            flat: if self.fill_mode == FillMode::White {
                0xff_ff_ff
            } else {
                0
            },
            pad: 0,
        };
        let spans = Binding::data(&self.gaps(inputs[0]));
        let bindings = |extra: Vec<(u32, Binding)>| {
            let mut b = vec![(0, Binding::uniform(&u)), (1, spans.clone())];
            b.extend(extra);
            b
        };
        if self.fill_mode != FillMode::Mean {
            let pass = GpuPass::per_pixel(
                "slc_off",
                "fill_flat",
                out,
                bindings(vec![(2, Binding::Input(0)), (3, Binding::Output)]),
            );
            return GpuWork {
                scratch: vec![],
                passes: vec![pass],
            };
        }
        // One workgroup per row: the row's mean, then the row (see the shader).
        GpuWork {
            scratch: vec![],
            passes: vec![GpuPass {
                shader: "slc_off",
                entry: "fill_mean",
                bindings: bindings(vec![(2, Binding::Input(0)), (3, Binding::Output)]),
                workgroups: [1, out.height, 1],
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(gap_width: f64, scan_period: u32) -> SlcOff {
        SlcOff {
            gap_width,
            scan_period,
            fill_mode: FillMode::Black,
            pattern: Pattern::Bowtie,
        }
    }

    fn wedges(gap_width: f64, scan_period: u32) -> SlcOff {
        SlcOff {
            pattern: Pattern::Landsat7,
            ..op(gap_width, scan_period)
        }
    }

    /// Whether column x of a row with `gaps` is lost.
    fn lost(gaps: Gaps, x: u32) -> bool {
        gaps.iter().any(|&[lo, hi]| (lo..hi).contains(&x))
    }

    #[test]
    fn landsat7_wedges_lose_half_the_gap_width_and_nothing_at_the_centre() {
        let size = Size::new(1920, 1080);
        let gaps = wedges(0.44, 16).gaps(size);
        let lost_px: u32 = gaps.iter().flatten().map(|[lo, hi]| hi - lo).sum();
        let fraction = f64::from(lost_px) / size.pixels() as f64;
        assert!((0.215..0.225).contains(&fraction), "{fraction}");
        // The middle columns are never lost; the edge columns lose
        // gap_width of every scan's rows, at its two edges.
        for (y, &row) in gaps.iter().enumerate() {
            assert!(!lost(row, 959) && !lost(row, 960), "row {y}");
        }
        let edge: Vec<u32> = (0..16).filter(|&y| lost(gaps[y as usize], 0)).collect();
        // g·P = 7.04 rows: δ = 0.5, 1.5, 2.5 and 3.5 (< 3.52) on each side.
        assert_eq!(edge, [0, 1, 2, 3, 12, 13, 14, 15]);
        // A wedge: a row nearer the scan's edge loses more of itself.
        let width = |y: usize| gaps[y][0][1] + (1920 - gaps[y][1][0]);
        assert!(width(0) > width(1) && width(1) > width(2) && width(2) > width(3));
        assert_eq!(gaps[16], gaps[0], "the pattern repeats every scan");
        // Mirror images left and right.
        assert_eq!(gaps[1][0][1], 1920 - gaps[1][1][0]);
        assert!(
            wedges(0.0, 16)
                .gaps(Size::new(64, 64))
                .iter()
                .flatten()
                .all(|s| s[0] == s[1])
        );
    }

    #[test]
    fn the_band_masks_about_eleven_percent_of_1080p_at_0_22() {
        let size = Size::new(1920, 1080);
        let masked: u32 = op(0.22, 14)
            .spans(size)
            .iter()
            .map(|[lo, hi]| hi - lo)
            .sum();
        // Mean of trunc(d·422.4) over rows, d uniform in 0..1: about 210.7 px
        // of 1920, 10.97% of the frame.
        let fraction = f64::from(masked) / size.pixels() as f64;
        assert!((0.107..0.112).contains(&fraction), "{fraction}");
    }

    #[test]
    fn spans_by_hand() {
        let spans = op(0.22, 14).spans(Size::new(1920, 1080));
        // Row 0: d = 1, g = trunc(422.4) = 422 around 960, no shift.
        assert_eq!(spans[0], [749, 1171]);
        // Row 5: d = 535/540, g = trunc(418.49) = 418; shift trunc(1.5) = +1.
        assert_eq!(spans[5], [752, 1170]);
        // Row 20, second scan, offset 6: shift trunc(-1.8) = -1; d = 520/540,
        // g = trunc(406.76) = 406.
        assert_eq!(spans[20], [756, 1162]);
        // Rows 539..=541: d·422.4 < 1, no gap; the middle is narrowest.
        assert_eq!(spans[540], [0, 0]);
        assert_eq!(spans[539], [0, 0]);
        // Bottom row: d = 539/540, g = trunc(421.62) = 421; scan 77 starts at
        // 1078, offset 1: shift trunc(0.3) = 0; trunc(749.5) .. trunc(1170.5).
        assert_eq!(spans[1079], [749, 1170]);
        // No band at all at gap_width 0.
        assert!(
            op(0.0, 14)
                .spans(Size::new(64, 64))
                .iter()
                .all(|s| s[0] == s[1])
        );
    }

    #[test]
    fn the_saw_tooth_flips_side_every_scan() {
        let spans = op(0.3, 10).spans(Size::new(400, 300));
        // Offset 9 rows into a scan the centre is trunc(±2.7) = ±2 px off 200.
        let centre = |y: usize| (spans[y][0] + spans[y][1]) / 2;
        assert_eq!(centre(9) as i32 - 200, 2);
        assert_eq!(centre(19) as i32 - 200, -2);
        assert_eq!(centre(29) as i32 - 200, 2);
    }

    #[test]
    fn mean_fill_offsets_stay_within_five_and_gray_stays_gray() {
        let key = crate::rng::RngKey::new(2, 0, 0);
        let mut seen = 0u32;
        for x in 0..400 {
            let words = key.random4(x, 3, 0);
            let f = mean_fill(0x64_c8_02, words);
            let r = (f & 0xff) as i32;
            let g = ((f >> 8) & 0xff) as i32;
            let b = (f >> 16) as i32;
            assert!(
                r <= 7 && (195..=205).contains(&g) && (95..=105).contains(&b),
                "{f:x}"
            );
            seen |= 1 << (b - 95);
            let gray = mean_fill(0x50_50_50, words);
            assert_eq!(gray & 0xffff, gray >> 8, "{gray:x}");
        }
        assert_eq!(seen, (1 << 11) - 1, "every offset −5..=5 drawn");
    }

    #[test]
    fn row_mean_skips_the_gap_and_rounds_half_up() {
        let row = [10, 20, 0xff, 0xff, 0x01_00_1f];
        // Outside [2, 4): R (10 + 20 + 31)/3 = 20.33, G 0, B 1/3.
        assert_eq!(row_mean(&row, [[2, 4], [5, 5]]), 20);
        // R (10 + 20)/2 = 15; G 0; B 0.5 -> 1.
        assert_eq!(row_mean(&[10, 0x01_00_14], [[0, 0], [2, 2]]), 0x01_00_0f);
        // Two gaps: only the 20 between them is kept.
        assert_eq!(row_mean(&row, [[0, 1], [2, 5]]), 20);
    }
}

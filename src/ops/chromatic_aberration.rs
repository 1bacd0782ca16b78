//! Lateral colour fringing: red moved by (+shift_x, +shift_y), blue by the
//! opposite, green and alpha kept, uncovered pixels 0. Integer moves, so
//! both backends give exactly the same bytes. A gray frame comes back
//! unchanged, as the reference leaves its gray images. Twin:
//! `shaders/chromatic_aberration.wgsl`.

use serde::{Deserialize, Serialize};

use super::gray_frame::{gray_guarded, is_gray};
use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError, par_rows};
use crate::frame::{Frame, Size};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChromaticAberration {
    pub shift_x: i64,
    pub shift_y: i64,
}

const SHIFT_X: Param = Param {
    name: "shift_x",
    ty: "integer",
    default: None,
    allowed: Allowed::Any,
    doc: "columns red moves right (blue moves left); negative moves the other way",
};
const SHIFT_Y: Param = Param {
    name: "shift_y",
    ty: "integer",
    default: None,
    allowed: Allowed::Any,
    doc: "rows red moves down (blue moves up); negative moves the other way",
};

impl OpParams for ChromaticAberration {
    const NAME: &'static str = "chromatic_aberration";
    const SUMMARY: &'static str = "colour fringing: red and blue moved opposite ways by whole pixels, uncovered 0; gray frames kept";
    const PARAMS: &'static [Param] = &[SHIFT_X, SHIFT_Y];

    fn validate(&self) -> Result<(), ParamError> {
        Ok(())
    }
}

/// Frames are at most 16384 pixels a side, so any larger move uncovers all
/// of them; clamping keeps the index arithmetic inside i32 on both sides.
const MAX_SHIFT: i64 = 1 << 15;

impl ChromaticAberration {
    fn shifts(&self) -> (i32, i32) {
        let c = |s: i64| s.clamp(-MAX_SHIFT, MAX_SHIFT) as i32;
        (c(self.shift_x), c(self.shift_y))
    }
}

/// `row[x] |= line[x - shift] & mask` wherever `x - shift` is in the row:
/// a channel moved by whole pixels, as one run along memory.
#[inline(always)]
fn or_shifted(row: &mut [u32], line: &[u32], shift: i32, mask: u32) {
    let w = row.len();
    let s = shift.unsigned_abs() as usize;
    if s >= w {
        return;
    }
    let (dst, src) = if shift >= 0 {
        (&mut row[s..], &line[..w - s])
    } else {
        (&mut row[..w - s], &line[s..])
    };
    for (o, &p) in dst.iter_mut().zip(src) {
        *o |= p & mask;
    }
}

avx2_twin!(fringe_row => fringe_row_inner(
    src: &Frame,
    y: i32,
    shifts: (i32, i32),
    row: &mut [u32],
));

/// Output row `y`: green and alpha from row `y`, red from row `y - sy`
/// moved right by `sx`, blue from row `y + sy` moved left; 0 where uncovered.
#[inline(always)]
fn fringe_row_inner(src: &Frame, y: i32, shifts: (i32, i32), row: &mut [u32]) {
    let ((sx, sy), w, h) = (shifts, row.len(), src.height() as i32);
    let line = |y: i32| &src.pixels()[y as usize * w..][..w];
    for (o, &p) in row.iter_mut().zip(line(y)) {
        *o = p & 0xff00_ff00;
    }
    if (0..h).contains(&(y - sy)) {
        or_shifted(row, line(y - sy), sx, 0xff);
    }
    if (0..h).contains(&(y + sy)) {
        or_shifted(row, line(y + sy), -sx, 0xff_0000);
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    shift_x: i32,
    shift_y: i32,
}

impl Op for ChromaticAberration {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let src = inputs[0];
        if is_gray(src) {
            out.pixels_mut().copy_from_slice(src.pixels());
            return;
        }
        let shifts = self.shifts();
        par_rows(out, |y, row| fringe_row(src, y as i32, shifts, row));
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let (shift_x, shift_y) = self.shifts();
        let u = Uniforms {
            width: inputs[0].width,
            height: inputs[0].height,
            shift_x,
            shift_y,
        };
        gray_guarded("chromatic_aberration", inputs[0], out, Binding::uniform(&u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(op: &ChromaticAberration, src: &Frame) -> Frame {
        let mut out = Frame::new(src.size());
        let ctx = FrameCtx {
            key: Default::default(),
        };
        op.run_cpu(&ctx, &[src], &mut out);
        out
    }

    /// A 4x3 frame whose pixel (x, y) is R = 10 + x + 4y, G = 100, B = 200 - x - 4y, A = 7.
    fn ramp() -> Frame {
        let mut f = Frame::new(Size::new(4, 3));
        for (i, p) in f.pixels_mut().iter_mut().enumerate() {
            let i = i as u32;
            *p = (10 + i) | (100 << 8) | ((200 - i) << 16) | (7 << 24);
        }
        f
    }

    #[test]
    fn red_and_blue_move_apart_and_uncovered_pixels_are_zero() {
        let out = run(
            &ChromaticAberration {
                shift_x: 1,
                shift_y: 1,
            },
            &ramp(),
        );
        let ch = |x, y| out.get(x, y).to_le_bytes();
        // Top-left: red uncovered (its source is (-1, -1)), blue from (1, 1) = index 5.
        assert_eq!(ch(0, 0), [0, 100, 195, 7]);
        // Bottom-right: red from (2, 1) = index 6, blue uncovered.
        assert_eq!(ch(3, 2), [16, 100, 0, 7]);
        // Middle: red from (0, 0), blue from (2, 2) = index 10.
        assert_eq!(ch(1, 1), [10, 100, 190, 7]);
        // Top-right: red from (2, -1) and blue from (4, 1): both uncovered.
        assert_eq!(ch(3, 0), [0, 100, 0, 7]);
    }

    #[test]
    fn huge_shifts_uncover_everything_and_zero_is_identity() {
        let src = ramp();
        let out = run(
            &ChromaticAberration {
                shift_x: i64::MIN,
                shift_y: 0,
            },
            &src,
        );
        assert!(out.pixels().iter().all(|&p| p == 0x0700_6400));
        let same = ChromaticAberration {
            shift_x: 0,
            shift_y: 0,
        };
        assert_eq!(run(&same, &src), src);
    }

    #[test]
    fn gray_frames_are_unchanged() {
        let mut src = Frame::new(Size::new(4, 3));
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            let v = 20 * i as u32;
            *p = v | (v << 8) | (v << 16) | (0xff << 24);
        }
        let op = ChromaticAberration {
            shift_x: 2,
            shift_y: -1,
        };
        assert_eq!(run(&op, &src), src);
    }

    #[test]
    fn avx2_and_plain_paths_agree() {
        let mut src = Frame::new(Size::new(37, 9));
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            *p = (i as u32).wrapping_mul(2_654_435_761);
        }
        for shifts in [(3, -2), (-5, 4), (40, 0)] {
            for y in 0..9 {
                let (mut a, mut b) = (vec![0u32; 37], vec![0u32; 37]);
                fringe_row(&src, y, shifts, &mut a);
                fringe_row_inner(&src, y, shifts, &mut b);
                assert_eq!(a, b, "{shifts:?} row {y}");
            }
        }
    }
}

//! Whether a frame is gray (R = G = B everywhere): gray inputs are expanded
//! to RGBA on decode, and ops that treat channels apart (`noise`,
//! `chromatic_aberration`) must not turn them into colour. Twin:
//! `shaders/gray_frame.wgsl`, which leaves a flag in a scratch word (1 when
//! some pixel has colour) for the op's own pass to read; noise's shader
//! checks as it goes instead (`shaders/noise.wgsl`).

use rayon::prelude::*;

use super::{Binding, GpuPass, GpuWork};
use crate::frame::{Frame, Size};

#[inline(always)]
fn has_colour(p: u32) -> bool {
    let (r, g, b) = (p & 0xff, (p >> 8) & 0xff, (p >> 16) & 0xff);
    r != g || g != b
}

/// True when no pixel has colour.
pub fn is_gray(frame: &Frame) -> bool {
    !frame.pixels().par_iter().any(|&p| has_colour(p))
}

/// Bytes of the scratch word the passes of [`gray_passes`] write.
pub const FLAG_BYTES: u64 = 16;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    pad: [u32; 2],
}

/// Clears the flag in scratch buffer `scratch`, then sets it when some pixel
/// of input 0 has colour.
pub fn gray_passes(size: Size, scratch: usize) -> Vec<GpuPass> {
    let u = Uniforms {
        width: size.width,
        height: size.height,
        pad: [0; 2],
    };
    vec![
        GpuPass {
            shader: "gray_frame",
            entry: "clear",
            bindings: vec![(2, Binding::Scratch(scratch))],
            workgroups: [1, 1, 1],
        },
        GpuPass::per_pixel(
            "gray_frame",
            "detect",
            size,
            vec![
                (0, Binding::uniform(&u)),
                (1, Binding::Input(0)),
                (2, Binding::Scratch(scratch)),
            ],
        ),
    ]
}

/// The GPU work of an op that keeps gray frames gray: the check above, then
/// the entry point `main` of `shader` over `out`, which reads uniforms at
/// binding 0, the input at 1, writes the output at 2 and reads the flag at 3.
pub fn gray_guarded(shader: &'static str, input: Size, out: Size, uniforms: Binding) -> GpuWork {
    let mut passes = gray_passes(input, 0);
    passes.push(GpuPass::per_pixel(
        shader,
        "main",
        out,
        vec![
            (0, uniforms),
            (1, Binding::Input(0)),
            (2, Binding::Output),
            (3, Binding::Scratch(0)),
        ],
    ));
    GpuWork {
        scratch: vec![FLAG_BYTES],
        passes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_coloured_pixel_makes_a_frame_colour() {
        let mut f = Frame::new(Size::new(5, 3));
        for (i, p) in f.pixels_mut().iter_mut().enumerate() {
            let v = i as u32 * 17;
            *p = v | (v << 8) | (v << 16) | (0x40 << 24);
        }
        assert!(is_gray(&f));
        f.pixels_mut()[14] ^= 1 << 8;
        assert!(!is_gray(&f));
    }
}

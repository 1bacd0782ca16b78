//! Separable Gaussian blur, kernel cut at 4σ and edges reflected (scipy's
//! `gaussian_filter` defaults); alpha is not blurred. Two passes: rows into
//! an f32 scratch image, then columns back to 8 bits, so pixels are rounded
//! once. Twin: `shaders/blur_gaussian.wgsl`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Allowed, Binding, FrameCtx, GpuPass, GpuWork, Op, OpParams, Param, ParamError, reflect,
};
use crate::frame::{Frame, Size, pack_rgba, unpack_rgba};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlurGaussian {
    pub sigma: f64,
}

const SIGMA: Param = Param {
    name: "sigma",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1000.0),
    doc: "standard deviation in pixels; 0 is the identity",
};

impl OpParams for BlurGaussian {
    const NAME: &'static str = "blur_gaussian";
    const SUMMARY: &'static str =
        "separable Gaussian blur, cut at 4 sigma, edges reflect, alpha kept";
    const PARAMS: &'static [Param] = &[SIGMA];

    fn validate(&self) -> Result<(), ParamError> {
        SIGMA.check(self.sigma)
    }
}

/// Normalized taps for offsets `-r..=r`, `r = floor(4σ + 0.5)` as scipy does;
/// computed once in f64 and shared by both backends as f32.
pub fn weights(sigma: f64) -> Vec<f32> {
    if sigma <= 0.0 {
        return vec![1.0];
    }
    let r = (4.0 * sigma + 0.5) as i64;
    let raw: Vec<f64> = (-r..=r)
        .map(|i| (-0.5 * (i * i) as f64 / (sigma * sigma)).exp())
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|w| (w / sum) as f32).collect()
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    width: u32,
    height: u32,
    radius: i32,
    pad: u32,
}

impl Op for BlurGaussian {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, _ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let w = weights(self.sigma);
        let r = (w.len() / 2) as i32;
        let src = inputs[0];
        let (width, height) = (src.width() as usize, src.height() as usize);

        // Pass 1 (WGSL `horizontal`): each row, padded by reflection, into f32.
        let mut scratch = vec![[0f32; 4]; width * height];
        scratch
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(y, line)| {
                let row = &src.pixels()[y * width..][..width];
                let padded: Vec<[f32; 4]> = (-r..width as i32 + r)
                    .map(|x| unpack_rgba(row[reflect(x, width as i32) as usize]))
                    .collect();
                for (x, o) in line.iter_mut().enumerate() {
                    // Four lanes rather than the shader's three: the compiler
                    // then keeps `acc` in one SIMD register. Lane 3 is dropped.
                    let mut acc = [0f32; 4];
                    for (k, &wk) in w.iter().enumerate() {
                        let p = padded[x + k];
                        for c in 0..4 {
                            acc[c] += wk * p[c];
                        }
                    }
                    *o = [acc[0], acc[1], acc[2], padded[x + r as usize][3]];
                }
            });

        // Pass 2 (WGSL `vertical`): columns, a whole row of taps at a time so
        // the inner loop runs along memory.
        let width_out = width;
        out.pixels_mut()
            .par_chunks_mut(width_out)
            .enumerate()
            .for_each(|(y, line)| {
                let mut acc = vec![[0f32; 4]; width];
                for (k, &wk) in w.iter().enumerate() {
                    let sy = reflect(y as i32 + k as i32 - r, height as i32) as usize;
                    let taps = &scratch[sy * width..][..width];
                    for (a, t) in acc.iter_mut().zip(taps) {
                        for c in 0..4 {
                            a[c] += wk * t[c];
                        }
                    }
                }
                let alpha = &scratch[y * width..][..width];
                for ((o, a), s) in line.iter_mut().zip(&acc).zip(alpha) {
                    *o = pack_rgba([a[0], a[1], a[2], s[3]]);
                }
            });
    }

    fn gpu(&self, _ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork {
        let w = weights(self.sigma);
        let u = Uniforms {
            width: inputs[0].width,
            height: inputs[0].height,
            radius: (w.len() / 2) as i32,
            pad: 0,
        };
        let pass = |entry, frame| {
            GpuPass::per_pixel(
                "blur_gaussian",
                entry,
                out,
                vec![
                    (0, Binding::uniform(&u)),
                    (1, Binding::data(&w)),
                    (2, Binding::Scratch(0)),
                    frame,
                ],
            )
        };
        GpuWork {
            scratch: vec![out.pixels() as u64 * 16],
            passes: vec![
                pass("horizontal", (3, Binding::Input(0))),
                pass("vertical", (4, Binding::Output)),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_scipy_radius_and_sum_to_one() {
        assert_eq!(weights(0.0), [1.0]);
        assert_eq!(weights(1.0).len(), 9);
        assert_eq!(weights(3.0).len(), 25);
        let sum: f32 = weights(2.5).iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
    }

    #[test]
    fn flat_image_stays_flat_and_alpha_is_kept() {
        let size = Size::new(7, 5);
        let mut src = Frame::new(size);
        for (i, p) in src.pixels_mut().iter_mut().enumerate() {
            *p = pack_rgba([90.0, 40.0, 200.0, i as f32]);
        }
        let mut out = Frame::new(size);
        let ctx = FrameCtx {
            key: Default::default(),
        };
        BlurGaussian { sigma: 2.0 }.run_cpu(&ctx, &[&src], &mut out);
        assert_eq!(out, src);
    }

    #[test]
    fn a_point_spreads_symmetrically() {
        let size = Size::new(9, 9);
        let mut src = Frame::new(size);
        src.pixels_mut()[4 * 9 + 4] = pack_rgba([255.0, 0.0, 0.0, 255.0]);
        let mut out = Frame::new(size);
        let ctx = FrameCtx {
            key: Default::default(),
        };
        BlurGaussian { sigma: 1.0 }.run_cpu(&ctx, &[&src], &mut out);
        let r = |x, y| unpack_rgba(out.get(x, y))[0];
        assert_eq!(r(3, 4), r(5, 4));
        assert_eq!(r(4, 3), r(3, 4));
        assert!(r(4, 4) > r(3, 4) && r(3, 4) > r(2, 4));
    }
}

//! The tiled GPU kernels at sizes that stress their tiles: one pixel,
//! frames narrower or shorter than a workgroup, sides one past a block
//! (1024 columns for the Gaussian's rows, 288 for motion_blur, 32 for small
//! disks, 16 rows for most column work, groups of four rows or columns),
//! kernels larger than the frame and wider than one shared-memory chunk.
//! CPU and GPU on the same input.

mod common;

use common::{assert_close, max_diff, plan, test_frame};
use stillgraph::Engine;

const SIZES: &[(u32, u32)] = &[
    (1, 1),
    (17, 3),
    (300, 7),
    (257, 259),
    (1025, 5),
    (289, 9),
    (2100, 3),
    (3, 70),
];

/// (op, max difference allowed); the tolerances are tests/parity.rs's and
/// tests/lens.rs's for the same ops.
const CASES: &[(&str, u8)] = &[
    ("blur_gaussian(sigma: 0.6)", 1),
    ("blur_gaussian(sigma: 3.0)", 1),
    // Radius 129: the span of a segment no longer fits one chunk.
    ("blur_gaussian(sigma: 32.1)", 1),
    // Radius 400, past every frame here.
    ("blur_gaussian(sigma: 100.0)", 1),
    // Integer sums: exactly equal. Radius 63 is the last with two
    // channels to a word on the GPU, 64 the first with three.
    ("blur_circular(radius: 1)", 0),
    ("blur_circular(radius: 6)", 0),
    ("blur_circular(radius: 40)", 0),
    ("blur_circular(radius: 63)", 0),
    ("blur_circular(radius: 64)", 0),
    ("blur_circular(radius: 300)", 0),
    // Float taps in the CPU's order; fused multiply-adds: 1 level. Kernels
    // taller than the frame; k 100 at 0 degrees reaches 50 columns, the
    // most the shader's shared rows hold each side.
    ("motion_blur(kernel_size: 7)", 1),
    ("motion_blur(kernel_size: 31, angle: 30.0)", 1),
    ("motion_blur(kernel_size: 31, angle: 217.5)", 1),
    ("motion_blur(kernel_size: 60, angle: 45.0)", 1),
    ("motion_blur(kernel_size: 100, angle: 90.0)", 1),
    ("motion_blur(kernel_size: 100, angle: 0.0)", 1),
    ("motion_blur(kernel_size: 100, angle: 33.0)", 1),
    // Float taps in the CPU's order: 1 level. Both passes work in groups
    // of four outputs (sides that are not multiples of 4 leave a group
    // short); nearest both ways is a gather of packed pixels, exactly equal.
    ("downscale(scale: 0.5)", 1),
    ("downscale(scale: 0.01, downscale_method: box)", 1),
    ("resize(scale: 2.0, method: lanczos)", 1),
    ("resize(scale: 0.37, method: bicubic)", 1),
    ("resize(width: 40, height: 3, method: bilinear)", 1),
    ("resize(scale: 1.7, method: nearest)", 0),
    (
        "downscale(scale: 0.3, upscale_method: nearest, downscale_method: nearest)",
        0,
    ),
];

/// The GPU engine, failing a frame it cannot run rather than running it on
/// the CPU: a kernel that does not compile must not pass as the CPU's.
fn strict_gpu() -> Option<Engine> {
    let mut gpu = common::gpu_engine()?;
    gpu.set_cpu_fallback(false);
    Some(gpu)
}

#[test]
fn tiled_kernels_match_the_cpu_at_awkward_sizes() {
    let Some(mut gpu) = strict_gpu() else { return };
    let mut cpu = Engine::cpu();
    for &(op, tol) in CASES {
        let p = plan(&format!("(seed: 5, steps: [(name: \"s\", op: {op})])"));
        let mut changed = false;
        for &(w, h) in SIZES {
            let input = test_frame(w, h);
            let a = cpu.run_frame(&p, &input, 0).unwrap().remove(0);
            let b = gpu.run_frame(&p, &input, 0).unwrap().remove(0);
            assert_close(&format!("{op} on {w}x{h}"), &a, &b, tol);
            changed |= a.size() != input.size() || max_diff(&a, &input).0 > 0;
        }
        assert!(changed, "{op} changed no frame");
    }
}

#[test]
fn the_widest_packed_disk_sums_a_white_span_exactly() {
    // At radius 63 every span of a white frame sums to 255 * 127 = 32385,
    // the most that 15 bits hold; two more pixels per span (radius 64,
    // 32895) must take the three-word layout. Both stay white.
    let Some(mut gpu) = strict_gpu() else { return };
    let mut cpu = Engine::cpu();
    let mut input = test_frame(300, 40);
    for p in input.pixels_mut() {
        *p |= 0x00ff_ffff;
    }
    for r in [63, 64] {
        let p = plan(&format!(
            "(steps: [(name: \"s\", op: blur_circular(radius: {r}))])"
        ));
        let a = cpu.run_frame(&p, &input, 0).unwrap().remove(0);
        let b = gpu.run_frame(&p, &input, 0).unwrap().remove(0);
        assert_eq!(a, input, "radius {r} on the CPU");
        assert_close(&format!("radius {r}"), &a, &b, 0);
    }
}

#[test]
fn wide_gaussians_count_every_tap_once_on_stripes() {
    // Past radius 128 a row segment's span goes through shared memory in
    // chunks. A tap counted twice or dropped at a chunk's edge moves an
    // output by its weight (about 1/250 at sigma 100) times the pixel:
    // under a level on the test frame, but stripes one pixel wide in every
    // channel blur to mid-gray, where that pushes the rounding two levels
    // from the CPU's. Rows of 1025 and 2100 (the second chunk holds most of
    // some outputs' taps); columns striped the other way for the column pass.
    let Some(mut gpu) = strict_gpu() else { return };
    let mut cpu = Engine::cpu();
    let stripes = |w: u32, h: u32, across: bool| {
        let mut f = test_frame(w, h);
        for (i, p) in f.pixels_mut().iter_mut().enumerate() {
            let (x, y) = (i as u32 % w, i as u32 / w);
            let on = if across { x % 2 } else { y % 2 } == 1;
            *p = (*p & 0xff00_0000) | if on { 0x00ff_ffff } else { 0 };
        }
        f
    };
    for sigma in [40.0, 100.0] {
        let p = plan(&format!(
            "(steps: [(name: \"s\", op: blur_gaussian(sigma: {sigma}))])"
        ));
        for input in [
            stripes(1025, 3, true),
            stripes(2100, 2, true),
            stripes(3, 1100, false),
        ] {
            let a = cpu.run_frame(&p, &input, 0).unwrap().remove(0);
            let b = gpu.run_frame(&p, &input, 0).unwrap().remove(0);
            assert_close(&format!("sigma {sigma} on {}", input.size()), &a, &b, 1);
        }
    }
}

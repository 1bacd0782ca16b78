//! CPU and GPU backends on the same input and seed: at most one level apart
//! per channel (DESIGN.md), and exactly equal where no float arithmetic is
//! involved. Each case also checks that the op did something, so two
//! backends agreeing on a blank frame cannot pass.

mod common;

use common::{assert_close, gpu_engine, max_diff, plan, test_frame};
use stillgraph::Engine;

/// (op as written in a pipeline, max difference allowed, changes the input)
const CASES: &[(&str, u8, bool)] = &[
    ("saturation(mode: fixed, value: 1.5)", 1, true),
    ("saturation(mode: fixed, value: -1.0)", 1, true),
    ("saturation(mode: fixed, value: 0.0)", 0, false),
    ("saturation(mode: random, range: (-0.5, 0.5))", 1, true),
    ("blur_gaussian(sigma: 0.0)", 0, false),
    ("blur_gaussian(sigma: 0.6)", 1, true),
    ("blur_gaussian(sigma: 3.0)", 1, true),
    // Radius 80 on a 61-row frame: reflection folds more than once.
    ("blur_gaussian(sigma: 20.0)", 1, true),
    ("downscale(scale: 0.5)", 1, true),
    (
        "downscale(scale: 0.13, downscale_method: lanczos, upscale_method: bilinear)",
        1,
        true,
    ),
    ("downscale(scale: 0.01, downscale_method: box)", 1, true),
    (
        "downscale(scale: 0.3, upscale: false, downscale_method: nearest)",
        0,
        true,
    ),
    ("resize(scale: 2.5, method: lanczos)", 1, true),
    ("resize(width: 40, method: bilinear)", 1, true),
    ("resize(height: 150, method: bicubic)", 1, true),
    ("resize(width: 200, height: 7, method: nearest)", 0, true),
    ("resize(width: 97, height: 61, method: box)", 0, false),
    // The JPEG kernels are integer arithmetic throughout: exactly equal.
    ("compression(quality: 5, subsampling: 0)", 0, true),
    ("compression(quality: 50, subsampling: 1)", 0, true),
    ("compression(quality: 95)", 0, true),
    ("compression(quality: 30, gamma: 0.6)", 0, true),
    (
        "multi_compress(iterations: 6, quality_start: 60, quality_end: 5, decay: exponential)",
        0,
        true,
    ),
    // Large tiles on a small frame: overlaps chain several waves deep.
    (
        "compression_artifact(tile_count: 30, quality: 3, tile_size_range: (0.2, 0.6))",
        0,
        true,
    ),
    ("compression_artifact(tile_count: 5, quality: 20)", 0, true),
];

#[test]
fn every_op_matches_across_backends() {
    let Some(mut gpu) = gpu_engine() else { return };
    let mut cpu = Engine::cpu();
    let input = test_frame(97, 61);
    for &(op, tol, changes) in CASES {
        let p = plan(&format!("(seed: 5, steps: [(name: \"s\", op: {op})])"));
        let a = cpu.run_frame(&p, &input, 0).unwrap().remove(0);
        let b = gpu.run_frame(&p, &input, 0).unwrap().remove(0);
        assert_close(op, &a, &b, tol);
        if a.size() == input.size() {
            let (d, ..) = max_diff(&a, &input);
            assert_eq!(
                d > 0,
                changes,
                "{op}: changed the input? max difference {d}"
            );
        }
    }
}

#[test]
fn a_branching_graph_with_repeats_matches_across_backends() {
    let Some(mut gpu) = gpu_engine() else { return };
    let mut cpu = Engine::cpu();
    let p = plan(
        r#"(seed: 3, steps: [
            (name: "a", op: blur_gaussian(sigma: 1.2), repeat: 3),
            (name: "b", op: saturation(mode: random, range: (0.0, 2.0)), repeat: 2, output: true),
            (name: "c", op: downscale(scale: 0.2), inputs: ["a"]),
            (name: "d", op: resize(scale: 0.5), inputs: ["c"], output: true),
        ])"#,
    );
    let input = test_frame(64, 33);
    for frame in 0..2 {
        let a = cpu.run_frame(&p, &input, frame).unwrap();
        let b = gpu.run_frame(&p, &input, frame).unwrap();
        assert_eq!(a.len(), 2);
        for (x, y) in a.iter().zip(&b) {
            assert_close("branching graph", x, y, 1);
        }
    }
}

#[test]
fn frames_of_other_sizes_reuse_the_engine() {
    let Some(mut gpu) = gpu_engine() else { return };
    let mut cpu = Engine::cpu();
    let plans = [
        (
            plan(
                r#"(steps: [(name: "a", op: blur_gaussian(sigma: 2.0)), (name: "b", op: downscale(scale: 0.25))])"#,
            ),
            1,
        ),
        // Integer arithmetic throughout: exactly equal.
        (
            plan("(steps: [(name: \"s\", op: compression(quality: 40))])"),
            0,
        ),
    ];
    // Growing, shrinking and growing again: buffers are made, kept and
    // remade. One-pixel sides: a single partial block, chroma of one sample.
    let sizes = [
        (80, 80),
        (17, 200),
        (300, 9),
        (16, 16),
        (97, 61),
        (33, 7),
        (120, 90),
        (1, 1),
        (1, 9),
        (9, 1),
        (80, 80),
    ];
    for (p, tol) in &plans {
        for (w, h) in sizes {
            let input = test_frame(w, h);
            let a = cpu.run_frame(p, &input, 0).unwrap().remove(0);
            let b = gpu.run_frame(p, &input, 0).unwrap().remove(0);
            assert_close(&format!("{w}x{h}"), &a, &b, *tol);
        }
    }
}

//! The sensor and transmission failure ops (issue 12): CPU and GPU give
//! exactly the same pixels (tolerance 0: every decision is integer
//! arithmetic or a comparison of random bits against an integer threshold),
//! for several seeds, odd sizes down to one pixel, photographs and the
//! synthetic frame; and `animate` draws afresh per frame, only when asked.

mod common;

use std::path::Path;

use common::{assert_close, gpu_engine, max_diff, plan, test_frame};
use stillgraph::io::{decode_file, to_frame};
use stillgraph::{Engine, Frame, Plan};

/// (op as written in a pipeline, draws at random)
const CASES: &[(&str, bool)] = &[
    ("band_swap(tile_count: 8, permutation: bgr)", true),
    (
        "band_swap(tile_count: 50, permutation: brg, tile_size_range: (0.2, 0.7))",
        true,
    ),
    ("salt_pepper(amount: 0.05, salt_vs_pepper: 0.6)", true),
    ("salt_pepper(amount: 1.0, salt_vs_pepper: 0.3)", true),
    (
        "buffer_corruption(tile_count: 5, corruption_type: xor, severity: 0.6)",
        true,
    ),
    (
        "buffer_corruption(tile_count: 20, corruption_type: xor, severity: 1.0, tile_size_range: (0.3, 0.8))",
        true,
    ),
    (
        "buffer_corruption(tile_count: 12, corruption_type: invert, severity: 0.3, tile_size_range: (0.2, 0.6))",
        true,
    ),
    (
        "buffer_corruption(tile_count: 20, corruption_type: channel_shuffle, severity: 0.8, tile_size_range: (0.2, 0.6))",
        true,
    ),
    (
        "corduroy(strength: 0.7, orientation: vertical, density: 0.5)",
        true,
    ),
    (
        "corduroy(strength: 1.0, orientation: horizontal, density: 1.0)",
        true,
    ),
    (
        "slc_off(gap_width: 0.2, scan_period: 14, fill_mode: mean)",
        true,
    ),
    (
        "slc_off(gap_width: 0.5, scan_period: 3, fill_mode: white)",
        false,
    ),
    (
        "slc_off(gap_width: 0.35, scan_period: 100, fill_mode: black)",
        false,
    ),
    (
        "slc_off(gap_width: 0.44, scan_period: 16, fill_mode: mean, pattern: landsat7)",
        true,
    ),
    (
        "slc_off(gap_width: 0.5, scan_period: 5, fill_mode: white, pattern: landsat7)",
        false,
    ),
    ("bayer_filter(pattern: rggb)", false),
    ("bayer_filter(pattern: bggr)", false),
    ("bayer_filter(pattern: grbg)", false),
    ("bayer_filter(pattern: gbrg)", false),
];

const SEEDS: &[u64] = &[0, 7, 123_456_789_012];

fn step(op: &str, seed: u64, animate: bool) -> Plan {
    plan(&format!(
        "(steps: [(name: \"s\", op: {op}, seed: {seed}, animate: {animate})])"
    ))
}

/// Crops of the bundled photographs: real noise, skin, sky, JPEG blocks.
fn photos() -> Vec<Frame> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    ["astronaut.png", "coffee.png", "rocket.jpg"]
        .iter()
        .map(|f| {
            let image = decode_file(&root.join(f)).unwrap();
            to_frame(&image.crop_imm(40, 30, 161, 117)).0
        })
        .collect()
}

fn run(engine: &mut Engine, p: &Plan, input: &Frame, frame: u32) -> Frame {
    engine.run_frame(p, input, frame).unwrap().remove(0)
}

#[test]
fn cpu_and_gpu_agree_exactly_on_photos_and_the_test_frame() {
    let Some(mut gpu) = gpu_engine() else { return };
    let mut cpu = Engine::cpu();
    let inputs: Vec<Frame> = photos().into_iter().chain([test_frame(97, 61)]).collect();
    for &(op, _) in CASES {
        for &seed in SEEDS {
            let p = step(op, seed, false);
            for (k, input) in inputs.iter().enumerate() {
                let a = run(&mut cpu, &p, input, 0);
                let b = run(&mut gpu, &p, input, 0);
                assert_close(&format!("{op} seed {seed} input {k}"), &a, &b, 0);
                let (d, ..) = max_diff(&a, input);
                assert!(
                    d > 0,
                    "{op} seed {seed} input {k}: left the input as it was"
                );
            }
        }
    }
}

#[test]
fn cpu_and_gpu_agree_exactly_on_odd_sizes() {
    let Some(mut gpu) = gpu_engine() else { return };
    let mut cpu = Engine::cpu();
    let sizes = [
        (1, 1),
        (1, 9),
        (9, 1),
        (1, 40),
        (40, 1),
        (2, 2),
        (3, 5),
        (17, 33),
        (300, 7),
    ];
    for &(op, _) in CASES {
        let p = step(op, 11, false);
        for (w, h) in sizes {
            let input = test_frame(w, h);
            let a = run(&mut cpu, &p, &input, 0);
            let b = run(&mut gpu, &p, &input, 0);
            assert_close(&format!("{op} at {w}x{h}"), &a, &b, 0);
        }
    }
}

#[test]
fn frames_share_the_damage_unless_the_step_animates() {
    let Some(mut gpu) = gpu_engine() else { return };
    let mut cpu = Engine::cpu();
    let input = test_frame(97, 61);
    for &(op, random) in CASES {
        let still = step(op, 3, false);
        let moving = step(op, 3, true);
        for engine in [&mut cpu, &mut gpu] {
            let f0 = run(engine, &still, &input, 0);
            assert_eq!(
                f0,
                run(engine, &still, &input, 1),
                "{op}: still frames differ"
            );
            let m0 = run(engine, &moving, &input, 0);
            let m1 = run(engine, &moving, &input, 1);
            assert_eq!(
                m0 != m1,
                random,
                "{op}: animated frames differ? {}",
                m0 != m1
            );
        }
    }
}

#[test]
fn gray_stays_gray_and_alpha_is_kept() {
    let mut cpu = Engine::cpu();
    let mut gray = test_frame(64, 48);
    for p in gray.pixels_mut() {
        let v = *p & 0xff;
        *p = (*p & 0xff00_0000) | (v * 0x01_01_01);
    }
    for &(op, _) in CASES {
        let out = run(&mut cpu, &step(op, 5, false), &gray, 0);
        for (o, i) in out.pixels().iter().zip(gray.pixels()) {
            let [r, g, b, a] = o.to_le_bytes();
            assert!(r == g && g == b, "{op}: gray became {r}, {g}, {b}");
            assert_eq!(a, i.to_le_bytes()[3], "{op}: alpha changed");
        }
    }
}

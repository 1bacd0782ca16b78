//! The lens and sensor ops of issue 11 (`chromatic_aberration`, `noise`,
//! `motion_blur`, `blur_circular`): CPU and GPU on the synthetic test frame
//! and on photos, same seed; extreme parameters; gray frames; animation.

mod common;

use common::{assert_close, max_diff, plan, test_frame};
use stillgraph::{Engine, Frame, Size};

/// (op as written in a pipeline, max difference allowed, changes the input)
const CASES: &[(&str, u8, bool)] = &[
    // Integer moves, no arithmetic on values: exactly equal.
    ("chromatic_aberration(shift_x: 5, shift_y: -3)", 0, true),
    ("chromatic_aberration(shift_x: -40, shift_y: 70)", 0, true),
    ("chromatic_aberration(shift_x: 0, shift_y: 0)", 0, false),
    // The shaders' log, cos and sin are not the CPU's (a few ulps apart),
    // so a value can land on the other side of a rounding boundary: 1 level.
    ("noise(mode: gaussian, amount: 0.08)", 1, true),
    ("noise(mode: gaussian, amount: 1.0)", 1, true),
    // No transcendental functions, but the shader compiler may fuse the
    // multiply-add: 1 level.
    ("noise(mode: row, amount: 0.15)", 1, true),
    ("noise(mode: column, amount: 0.5)", 1, true),
    ("noise(mode: gaussian, amount: 0.0)", 0, false),
    // Float taps, the same ones in the same order on both sides; the
    // shader compiler may fuse multiply-adds: 1 level.
    ("motion_blur(kernel_size: 7)", 1, true),
    ("motion_blur(kernel_size: 15, angle: 30.0)", 1, true),
    ("motion_blur(kernel_size: 8, angle: 90.0)", 1, true),
    ("motion_blur(kernel_size: 31, angle: 217.5)", 1, true),
    ("motion_blur(kernel_size: 1, angle: 45.0)", 0, false),
    // Integer sums and one integer division: exactly equal.
    ("blur_circular(radius: 1)", 0, true),
    ("blur_circular(radius: 9)", 0, true),
    // Larger than the frame: reflection folds more than once.
    ("blur_circular(radius: 70)", 0, true),
    ("blur_circular(radius: 0)", 0, false),
];

/// Crops of every photo in assets/, at odd sizes.
fn photos() -> Vec<(String, Frame)> {
    common::photo_crops(|i| (131 + 6 * i, 89 + 5 * i))
}

fn one_step(op: &str) -> stillgraph::Plan {
    plan(&format!("(seed: 5, steps: [(name: \"s\", op: {op})])"))
}

/// The GPU engine, failing a frame it cannot run rather than running it on
/// the CPU: a kernel that does not compile must not pass as the CPU's.
fn strict_gpu() -> Option<Engine> {
    let mut gpu = common::gpu_engine()?;
    gpu.set_cpu_fallback(false);
    Some(gpu)
}

#[test]
fn lens_ops_match_across_backends() {
    let Some(mut gpu) = strict_gpu() else { return };
    let mut cpu = Engine::cpu();
    let inputs: Vec<(String, Frame)> = std::iter::once(("test frame".into(), test_frame(97, 61)))
        .chain(photos())
        .collect();
    for &(op, tol, changes) in CASES {
        let p = one_step(op);
        for (name, input) in &inputs {
            let what = format!("{op} on {name}");
            let a = cpu.run_frame(&p, input, 0).unwrap().remove(0);
            let b = gpu.run_frame(&p, input, 0).unwrap().remove(0);
            assert_close(&what, &a, &b, tol);
            let (d, ..) = max_diff(&a, input);
            assert_eq!(
                d > 0,
                changes,
                "{what}: changed the input? max difference {d}"
            );
        }
    }
}

/// A gray frame: R = G = B everywhere, with a varying alpha.
fn gray_frame(width: u32, height: u32) -> Frame {
    let mut f = test_frame(width, height);
    for p in f.pixels_mut() {
        let v = *p & 0xff;
        *p = (*p & 0xff00_0000) | v | (v << 8) | (v << 16);
    }
    f
}

fn is_gray(f: &Frame) -> bool {
    f.pixels().iter().all(|p| {
        let [r, g, b, _] = p.to_le_bytes();
        r == g && g == b
    })
}

#[test]
fn gray_frames_stay_gray_on_both_backends() {
    let gpu = strict_gpu();
    let mut engines: Vec<Engine> = std::iter::once(Engine::cpu()).chain(gpu).collect();
    let input = gray_frame(45, 38);
    for op in [
        "chromatic_aberration(shift_x: 4, shift_y: 2)",
        "noise(mode: gaussian, amount: 0.1)",
        "noise(mode: row, amount: 0.1)",
        "noise(mode: column, amount: 0.1)",
    ] {
        let p = one_step(op);
        for engine in &mut engines {
            let out = engine.run_frame(&p, &input, 0).unwrap().remove(0);
            assert!(is_gray(&out), "{op} on {}", engine.describe());
            if op.starts_with("chromatic") {
                assert_eq!(out, input, "{op}: a gray frame has no fringes");
            }
        }
    }
}

/// The GPU's colour check stops reading once a workgroup saw colour: a
/// frame whose only coloured pixel is the last one, in the last workgroup,
/// must still count as colour, and one coloured at the first pixel too.
#[test]
fn one_coloured_pixel_anywhere_makes_a_colour_frame_on_both_backends() {
    let gpu = strict_gpu();
    let mut engines: Vec<Engine> = std::iter::once(Engine::cpu()).chain(gpu).collect();
    let p = one_step("noise(mode: row, amount: 0.1)");
    for at in [0, 300 * 170 - 1] {
        let mut input = gray_frame(300, 170);
        input.pixels_mut()[at] ^= 0x40 << 8;
        let runs: Vec<Frame> = engines
            .iter_mut()
            .map(|e| e.run_frame(&p, &input, 0).unwrap().remove(0))
            .collect();
        assert!(!is_gray(&runs[0]), "pixel {at}: colour noise expected");
        for (engine, out) in engines.iter().zip(&runs) {
            assert_close(
                &format!("pixel {at} on {}", engine.describe()),
                out,
                &runs[0],
                1,
            );
        }
    }
}

#[test]
fn noise_changes_per_frame_only_when_animated() {
    let gpu = strict_gpu();
    let mut engines: Vec<Engine> = std::iter::once(Engine::cpu()).chain(gpu).collect();
    let input = test_frame(40, 30);
    for mode in ["gaussian", "row", "column"] {
        let still = one_step(&format!("noise(mode: {mode}, amount: 0.1)"));
        let animated = plan(&format!(
            "(seed: 5, steps: [(name: \"s\", op: noise(mode: {mode}, amount: 0.1), animate: true)])"
        ));
        for engine in &mut engines {
            let run = |e: &mut Engine, p, f| e.run_frame(p, &input, f).unwrap().remove(0);
            assert_eq!(run(engine, &still, 0), run(engine, &still, 3), "{mode}");
            assert_ne!(
                run(engine, &animated, 0),
                run(engine, &animated, 3),
                "{mode}"
            );
        }
    }
}

#[test]
fn extreme_parameters_run_and_give_sensible_frames() {
    let gpu = strict_gpu();
    let mut engines: Vec<Engine> = std::iter::once(Engine::cpu()).chain(gpu).collect();
    let input = test_frame(64, 64);
    for engine in &mut engines {
        // Full-scale noise: most channels clip to 0 or 255, alpha survives.
        let out = engine
            .run_frame(&one_step("noise(mode: gaussian, amount: 1.0)"), &input, 0)
            .unwrap()
            .remove(0);
        let clipped = out
            .to_rgba8()
            .chunks(4)
            .flat_map(|c| &c[..3])
            .filter(|&&v| v == 0 || v == 255)
            .count();
        assert!(clipped > 64 * 64 * 3 / 2, "{clipped}");
        let alpha = |f: &Frame| f.pixels().iter().map(|p| p >> 24).collect::<Vec<_>>();
        assert_eq!(alpha(&out), alpha(&input));
        // A shift larger than the frame: red and blue all uncovered.
        let out = engine
            .run_frame(
                &one_step("chromatic_aberration(shift_x: 1000000, shift_y: 3)"),
                &input,
                0,
            )
            .unwrap()
            .remove(0);
        assert!(out.pixels().iter().all(|p| p & 0x00ff_00ff == 0));
        assert_eq!(out.size(), Size::new(64, 64));
        // A disk far larger than the frame: close to the frame's mean
        // everywhere, and smooth (neighbours within a level or two).
        let out = engine
            .run_frame(&one_step("blur_circular(radius: 200)"), &input, 0)
            .unwrap()
            .remove(0);
        assert_eq!(alpha(&out), alpha(&input));
        assert_smooth(&out, 3);
    }
    // The longest streak on a tiny frame, both backends alike.
    let tiny = test_frame(4, 4);
    let p = one_step("motion_blur(kernel_size: 100, angle: 33.0)");
    let runs: Vec<Frame> = engines
        .iter_mut()
        .map(|e| e.run_frame(&p, &tiny, 0).unwrap().remove(0))
        .collect();
    assert_smooth(&runs[0], 40);
    for run in &runs[1..] {
        assert_close("motion_blur k 100 on 4x4", &runs[0], run, 1);
    }
}

/// Asserts no colour channel jumps by more than `tol` between neighbours.
fn assert_smooth(f: &Frame, tol: u8) {
    let (w, h) = (f.width(), f.height());
    for y in 0..h {
        for x in 0..w {
            let p = f.get(x, y).to_le_bytes();
            for (nx, ny) in [(x + 1, y), (x, y + 1)] {
                if nx < w && ny < h {
                    let q = f.get(nx, ny).to_le_bytes();
                    for c in 0..3 {
                        assert!(p[c].abs_diff(q[c]) <= tol, "({x}, {y}): {p:?} vs {q:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn disk_sums_agree_exactly_across_scan_tiles_and_folds() {
    let Some(mut gpu) = strict_gpu() else { return };
    let mut cpu = Engine::cpu();
    // The GPU scans a row 256 padded pixels at a time: rows of 618 and 464
    // padded pixels carry across tiles; radius 200 on 64 pixels folds the
    // reflection several times. Radii up to 6 take the one-pass kernel of
    // 32x32 blocks: 33 and 70 pixels end in partial blocks.
    for (w, h, r) in [
        (600, 23, 9),
        (64, 64, 200),
        (257, 5, 0),
        (1, 40, 3),
        (70, 33, 6),
        (33, 70, 5),
    ] {
        let p = one_step(&format!("blur_circular(radius: {r})"));
        let input = test_frame(w, h);
        let a = cpu.run_frame(&p, &input, 0).unwrap().remove(0);
        let b = gpu.run_frame(&p, &input, 0).unwrap().remove(0);
        assert_close(&format!("r {r} on {w}x{h}"), &a, &b, 0);
    }
}

/// The noise shader rounds with its own code, not pack_rgba: the backends
/// may differ by a level where fused multiply-adds or the shader's
/// polynomials put a value on the other side of a rounding boundary (a few
/// channels in a million), never where the rounding itself differs (half
/// of all channels, each by one level: within the tolerance above).
#[test]
fn noise_rounds_where_the_cpu_does() {
    let Some(mut gpu) = strict_gpu() else { return };
    let mut cpu = Engine::cpu();
    let input = test_frame(301, 203);
    for op in [
        "noise(mode: gaussian, amount: 0.08)",
        "noise(mode: row, amount: 0.15)",
        "noise(mode: column, amount: 0.5)",
    ] {
        let p = one_step(op);
        let a = cpu.run_frame(&p, &input, 0).unwrap().remove(0);
        let b = gpu.run_frame(&p, &input, 0).unwrap().remove(0);
        let differ = a
            .to_rgba8()
            .iter()
            .zip(b.to_rgba8())
            .filter(|(x, y)| *x != y)
            .count();
        assert!(
            differ <= 30,
            "{op}: {differ} of {} channels differ",
            4 * 301 * 203
        );
    }
}

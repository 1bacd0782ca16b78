//! Each op on each backend at 1920x1080 (and the JPEG issue's sizes), and
//! the three-op graph of the core issue, timed per frame as a user sees it:
//! for the GPU that includes the upload and the readback. Output frames are
//! reused across iterations (`Engine::run_frame_into`), as a tool that
//! streams frames would. GPU cases run only where `Backend::Auto` finds
//! a hardware adapter (never on llvmpipe, whose timings mean nothing).
//!
//! `cargo bench --bench ops`; figures go to BENCHMARKS.md with the machine named.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use stillgraph::{Backend, Engine};

const HD: (u32, u32) = (1920, 1080);

/// (name, op, frame size)
const CASES: &[(&str, &str, (u32, u32))] = &[
    ("saturation", "saturation(mode: fixed, value: 1.5)", HD),
    ("blur_gaussian_s3", "blur_gaussian(sigma: 3.0)", HD),
    // Beside the peer's sigma 2 case (`../shared/bench/peer_opencv.py`).
    ("blur_gaussian_s2", "blur_gaussian(sigma: 2.0)", HD),
    (
        "downscale_0.5",
        "downscale(scale: 0.5, downscale_method: bicubic)",
        HD,
    ),
    // Beside the peer's INTER_AREA and back nearest.
    (
        "downscale_0.5_box",
        "downscale(scale: 0.5, downscale_method: box)",
        HD,
    ),
    (
        "resize_2x_lanczos",
        "resize(scale: 2.0, method: lanczos)",
        HD,
    ),
    ("compression_q30_420", "compression(quality: 30)", HD),
    (
        "compression_q30_420_4k",
        "compression(quality: 30)",
        (3840, 2160),
    ),
    (
        "multi_compress_8",
        "multi_compress(iterations: 8, quality_start: 80, quality_end: 20, decay: linear)",
        HD,
    ),
    // Eight full-frame round trips at 4K in one submission: the cost of one
    // when the GPU is busy, apart from per-frame start-up.
    (
        "multi_compress_8_4k",
        "multi_compress(iterations: 8, quality_start: 30)",
        (3840, 2160),
    ),
    // Twenty dispatches of a per-pixel op in one submission, likewise.
    (
        "saturation_x20",
        "saturation(mode: fixed, value: 0.2), repeat: 20",
        HD,
    ),
    (
        "compression_artifact_30_1024",
        "compression_artifact(tile_count: 30, quality: 5, tile_size_range: (0.05, 0.2))",
        (1024, 1024),
    ),
    // Sensor and transmission failures (issue 12).
    (
        "band_swap_8",
        "band_swap(tile_count: 8, permutation: bgr)",
        HD,
    ),
    (
        "salt_pepper_0.01",
        "salt_pepper(amount: 0.01, salt_vs_pepper: 0.6)",
        HD,
    ),
    (
        "buffer_corruption_xor_5",
        "buffer_corruption(tile_count: 5, corruption_type: xor, severity: 0.6)",
        HD,
    ),
    (
        "corduroy_vertical",
        "corduroy(strength: 0.7, orientation: vertical, density: 0.5)",
        HD,
    ),
    (
        "slc_off_mean",
        "slc_off(gap_width: 0.2, scan_period: 14, fill_mode: mean)",
        HD,
    ),
    ("bayer_filter_rggb", "bayer_filter(pattern: rggb)", HD),
    // Issue 11: lens and sensor ops.
    ("blur_circular_r6", "blur_circular(radius: 6)", HD),
    ("blur_circular_r40", "blur_circular(radius: 40)", HD),
    ("motion_blur_k7", "motion_blur(kernel_size: 7)", HD),
    (
        "motion_blur_k31",
        "motion_blur(kernel_size: 31, angle: 30.0)",
        HD,
    ),
    (
        "chromatic_aberration",
        "chromatic_aberration(shift_x: 5, shift_y: -3)",
        HD,
    ),
    ("noise_gaussian", "noise(mode: gaussian, amount: 0.08)", HD),
    ("noise_row", "noise(mode: row, amount: 0.08)", HD),
    // The floor under the tile ops: a full-frame copy through the op
    // interface (band_swap with one 19x10 tile).
    (
        "floor_copy",
        "band_swap(tile_count: 1, permutation: bgr, tile_size_range: (0.01, 0.01))",
        HD,
    ),
];

const THREE_OPS: &str = r#"(steps: [
    (name: "vivid", op: saturation(mode: fixed, value: 1.5)),
    (name: "soft", op: blur_gaussian(sigma: 3.0)),
    (name: "pixelate", op: downscale(scale: 0.5, downscale_method: bicubic, upscale: true)),
])"#;

fn engines() -> Vec<(&'static str, Engine)> {
    let mut engines = vec![("cpu", Engine::cpu())];
    match Engine::new(Backend::Auto) {
        Ok(e) if e.is_gpu() => {
            eprintln!("GPU: {}", e.describe());
            engines.push(("gpu", e));
        }
        _ => eprintln!("no hardware GPU adapter: GPU benches skipped"),
    }
    engines
}

fn bench(c: &mut Criterion) {
    let mut engines = engines();
    let mut group = c.benchmark_group("ops");
    group.sample_size(20);
    let cases = CASES
        .iter()
        .map(|(name, op, size)| {
            let text = format!("(steps: [(name: \"s\", op: {op})])");
            // The op 100 times in one frame, for gpu-busy below; not for
            // resize, whose frame would grow each time, nor a case that
            // repeats already.
            let busy = !(name.starts_with("resize") || op.contains("repeat"));
            let busy = busy
                .then(|| common::plan(&format!("(steps: [(name: \"s\", op: {op}, repeat: 100)])")));
            (*name, text, *size, busy)
        })
        .chain([("three_ops", THREE_OPS.to_string(), HD, None)]);
    for (name, text, (width, height), busy) in cases {
        let plan = common::plan(&text);
        let frame = common::test_frame(width, height);
        for (backend, engine) in engines.iter_mut() {
            let mut out = Vec::new();
            group.bench_function(format!("{backend}/{name}"), |b| {
                b.iter(|| engine.run_frame_into(&plan, &frame, 0, &mut out).unwrap())
            });
            // One frame first, so that GPU timestamps exist to ask about
            // even when a filter skipped the case above.
            engine.run_frame_into(&plan, &frame, 0, &mut out).unwrap();
            if engine.last_gpu_time().is_none() {
                continue;
            }
            // The same frames, timed by GPU timestamps: kernels only.
            group.bench_function(format!("gpu-kernels/{name}"), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            engine.run_frame_into(&plan, &frame, 0, &mut out).unwrap();
                            engine.last_gpu_time().unwrap_or_default()
                        })
                        .sum()
                })
            });
            // One kernel with the GPU kept busy: 100 in one frame, timed by
            // GPU timestamps and divided by 100. Between single frames the
            // GPU idles and its clock falls towards 345 MHz; under this
            // sustained work it climbs, as it would in a long batch.
            if let Some(busy) = &busy {
                group.bench_function(format!("gpu-busy/{name}"), |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| {
                                engine.run_frame_into(busy, &frame, 0, &mut out).unwrap();
                                engine.last_gpu_time().unwrap_or_default() / 100
                            })
                            .sum()
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

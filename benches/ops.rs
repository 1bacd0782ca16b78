//! Each op on each backend at 1920x1080, and the three-op graph of the core
//! issue, timed per frame as a user sees it: for the GPU that includes the
//! upload and the readback. GPU cases run only where `Backend::Auto` finds
//! a hardware adapter (never on llvmpipe, whose timings mean nothing).
//!
//! `cargo bench --bench ops`; figures go to BENCHMARKS.md with the machine named.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use stillgraph::{Backend, Engine};

const CASES: &[(&str, &str)] = &[
    ("saturation", "saturation(mode: fixed, value: 1.5)"),
    ("blur_gaussian_s3", "blur_gaussian(sigma: 3.0)"),
    (
        "downscale_0.5",
        "downscale(scale: 0.5, downscale_method: bicubic)",
    ),
    ("resize_2x_lanczos", "resize(scale: 2.0, method: lanczos)"),
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
    let frame = common::test_frame(1920, 1080);
    let mut engines = engines();
    let mut group = c.benchmark_group("1080p");
    group.sample_size(20);
    let cases = CASES
        .iter()
        .map(|(name, op)| (*name, format!("(steps: [(name: \"s\", op: {op})])")))
        .chain([("three_ops", THREE_OPS.to_string())]);
    for (name, text) in cases {
        let plan = common::plan(&text);
        for (backend, engine) in engines.iter_mut() {
            group.bench_function(format!("{backend}/{name}"), |b| {
                b.iter(|| engine.run_frame(&plan, &frame, 0).unwrap())
            });
            if engine.last_gpu_time().is_some() {
                // The same frames, timed by GPU timestamps: kernels only.
                group.bench_function(format!("gpu-kernels/{name}"), |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| {
                                engine.run_frame(&plan, &frame, 0).unwrap();
                                engine.last_gpu_time().unwrap_or_default()
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

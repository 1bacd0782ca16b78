//! Every pipeline in graphs/ runs on both backends, the two agree, and the
//! outputs match the golden images in tests/golden/ (fixed seeds, a fixed
//! crop of assets/astronaut.png).
//!
//! The CPU backend makes the golden images and gives them exactly (see
//! `CPU_TOLERANCE`); the GPU within 1 level per channel, the parity bound.
//! Regenerate them only on purpose (an op's algorithm changed), with
//! `STILLGRAPH_BLESS=1 cargo test --test graphs`, and say why in the commit.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_close, gpu_engine};
use stillgraph::io::{decode_file, from_frame, to_frame};
use stillgraph::{Engine, Frame, Keep, Pipeline, compile};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The golden images are the CPU backend's output, blessed on x86_64
/// Linux, and web/'s browser tests take them for the native CPU backend's
/// pixels: there it must give them exactly. Elsewhere the platform's libm
/// (the blur weights' `exp`) may round a weight differently, so one level.
const CPU_TOLERANCE: u8 = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
    0
} else {
    1
};

fn graphs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("graphs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

/// A 128x96 crop around the astronaut's face: skin, fabric, flags, edges.
fn golden_input() -> Frame {
    let image = decode_file(&Path::new(ROOT).join("assets/astronaut.png")).unwrap();
    to_frame(&image.crop_imm(176, 40, 128, 96)).0
}

fn golden_path(graph: &Path, step: &str) -> PathBuf {
    let stem = graph.file_stem().unwrap().to_string_lossy();
    Path::new(ROOT).join(format!("tests/golden/{stem}.{step}.png"))
}

#[test]
fn every_graph_runs_on_both_backends_and_matches_its_golden_images() {
    let gpu = gpu_engine();
    let mut engines: Vec<Engine> = std::iter::once(Engine::cpu()).chain(gpu).collect();
    let input = golden_input();
    let bless = std::env::var("STILLGRAPH_BLESS").as_deref() == Ok("1");
    for graph in graphs() {
        let pipeline = Pipeline::from_file(&graph).unwrap_or_else(|e| panic!("{e}"));
        let plan = compile(&pipeline, Keep::Outputs).unwrap();
        let runs: Vec<Vec<Frame>> = engines
            .iter_mut()
            .map(|e| {
                e.run_frame(&plan, &input, 0)
                    .unwrap_or_else(|err| panic!("{}: {err}", graph.display()))
            })
            .collect();
        for (i, step) in plan.output_names().iter().enumerate() {
            let what = format!("{} output {step}", graph.display());
            let path = golden_path(&graph, step);
            if bless {
                let image = from_frame(&runs[0][i], stillgraph::io::ColorKind::Rgba);
                image.save(&path).unwrap();
            }
            let golden = decode_file(&path)
                .unwrap_or_else(|e| panic!("{what}: no golden image ({e}); bless on purpose"));
            for (engine, run) in engines.iter().zip(&runs) {
                assert_close(
                    &format!("{what} on {} vs golden", engine.describe()),
                    &run[i],
                    &to_frame(&golden).0,
                    if engine.is_gpu() { 1 } else { CPU_TOLERANCE },
                );
            }
        }
    }
}

#[test]
fn golden_images_all_belong_to_a_graph() {
    let expected: Vec<PathBuf> = graphs()
        .iter()
        .flat_map(|g| {
            let p = Pipeline::from_file(g).unwrap();
            let plan = compile(&p, Keep::Outputs).unwrap();
            plan.output_names()
                .iter()
                .map(|s| golden_path(g, s))
                .collect::<Vec<_>>()
        })
        .collect();
    for entry in std::fs::read_dir(Path::new(ROOT).join("tests/golden")).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            expected.contains(&path),
            "{} belongs to no graph output",
            path.display()
        );
    }
}

/// The web's entry points (`Engine::open`, `run_frame_async`) are the
/// native ones' core: natively they must give the same pixels.
#[test]
fn the_async_entry_points_give_the_blocking_ones_pixels() {
    let input = golden_input();
    let mut engines = vec![(
        Engine::cpu(),
        pollster::block_on(Engine::open(stillgraph::Backend::Cpu)).unwrap(),
    )];
    if let Some(gpu) = gpu_engine() {
        let opened = pollster::block_on(Engine::open(stillgraph::Backend::Gpu)).unwrap();
        engines.push((gpu, opened));
    }
    for graph in graphs() {
        let plan = compile(&Pipeline::from_file(&graph).unwrap(), Keep::Outputs).unwrap();
        for (blocking, opened) in &mut engines {
            assert_eq!(opened.is_gpu(), blocking.is_gpu());
            let a = blocking.run_frame(&plan, &input, 3).unwrap();
            let b = pollster::block_on(opened.run_frame_async(&plan, &input, 3)).unwrap();
            assert_eq!(a, b, "{} on {}", graph.display(), opened.describe());
        }
    }
}

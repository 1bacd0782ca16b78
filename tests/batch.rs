//! The batch runner: codecs on all threads, events in input order, a bad
//! frame costing only itself, and the same bytes whatever the thread count.

mod common;

use std::path::{Path, PathBuf};

use common::{gpu_engine, plan};
use stillgraph::Engine;
use stillgraph::engine::Gpus;
use stillgraph::io::batch::{BatchOptions, Event, Frames, Input, run_batch_on};
use stillgraph::io::{Encoding, Format};

/// Twelve frames of different sizes and content, the seventh a corrupt PNG.
fn frames(dir: &Path) -> Vec<Input> {
    (0..12u32)
        .map(|i| {
            let path = dir.join(format!("f{i:02}.png"));
            if i == 6 {
                std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really").unwrap();
            } else {
                image::RgbImage::from_fn(40 + i * 7, 30 + i * 3, |x, y| {
                    image::Rgb([(x * 5 + i) as u8, (y * 9) as u8, (x ^ y) as u8])
                })
                .save(&path)
                .unwrap();
            }
            Input::File(path)
        })
        .collect()
}

/// Runs the batch on a pool of `threads`; returns the inputs in the order
/// their events came, which failed, and the bytes of every output file.
fn run(
    engines: &mut [Engine],
    inputs: &[Input],
    out: &Path,
    format: Format,
    threads: usize,
) -> (Vec<PathBuf>, Vec<PathBuf>, Vec<Vec<u8>>) {
    let p = plan(
        "(steps: [(name: \"a\", op: saturation(mode: fixed, value: 0.8)), (name: \"b\", op: compression(quality: 20), output: true), (name: \"c\", op: blur_gaussian(sigma: 1.5), inputs: [\"a\"], output: true)])",
    );
    let opts = BatchOptions {
        out_dir: out.to_path_buf(),
        encoding: Encoding {
            format,
            ..Encoding::default()
        },
        ..BatchOptions::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut order = Vec::new();
    let report = pool
        .install(|| {
            run_batch_on(
                engines,
                &p,
                Frames::Images(inputs),
                &opts,
                |event| match event {
                    Event::Written { input, files } => {
                        assert_eq!(files.len(), 2);
                        order.push(input.to_path_buf());
                    }
                    Event::Failed { input, .. } => order.push(input.to_path_buf()),
                    Event::Skipped { .. } => panic!("nothing to skip"),
                    Event::Note { .. } => panic!("nothing to note"),
                },
            )
        })
        .unwrap();
    let failed = report.failed.iter().map(|(p, _)| p.clone()).collect();
    let mut written = Vec::new();
    for step in ["b", "c"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(out.join(step))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        written.extend(files.iter().map(|f| std::fs::read(f).unwrap()));
    }
    (order, failed, written)
}

#[test]
fn a_parallel_batch_reports_in_order_and_writes_what_one_thread_writes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = frames(dir.path());
    let names: Vec<PathBuf> = inputs.iter().map(|i| i.name().to_path_buf()).collect();
    for format in [Format::Png, Format::Jpeg] {
        let out = |threads: usize| dir.path().join(format!("{format:?}{threads}"));
        let one = run(&mut [Engine::cpu()], &inputs, &out(1), format, 1);
        let four = run(&mut [Engine::cpu()], &inputs, &out(4), format, 4);
        for (order, failed, written) in [&one, &four] {
            assert_eq!(order, &names, "events come in input order");
            assert_eq!(failed, &[names[6].clone()], "only the corrupt frame fails");
            assert_eq!(written.len(), 2 * 11);
        }
        assert!(
            one.2 == four.2,
            "{format:?}: outputs differ between 1 and 4 threads"
        );
    }
}

#[test]
fn the_gpu_backend_runs_a_parallel_batch_in_order() {
    let Some(mut gpu) = gpu_engine() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inputs = frames(dir.path());
    let names: Vec<PathBuf> = inputs.iter().map(|i| i.name().to_path_buf()).collect();
    let (order, failed, written) = run(
        std::slice::from_mut(&mut gpu),
        &inputs,
        &dir.path().join("gpu"),
        Format::Png,
        3,
    );
    assert_eq!(order, names);
    assert_eq!(failed, [names[6].clone()]);
    assert_eq!(written.len(), 2 * 11);

    // Three engines on the one adapter (as on three GPUs): frames go to
    // whichever is free, and the batch is the same, in the same order.
    let mut three = Engine::gpus(Gpus::First(1), 3, true).unwrap();
    assert_eq!(three.len(), 3);
    let (order3, failed3, written3) = run(
        &mut three,
        &inputs,
        &dir.path().join("gpu3"),
        Format::Png,
        3,
    );
    assert_eq!(order3, names);
    assert_eq!(failed3, [names[6].clone()]);
    assert!(written3 == written, "three engines write what one writes");
}

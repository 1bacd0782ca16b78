//! `stillgraph bench` (part of the command, not the library): a batch timed
//! end to end, then the same frames decoded and encoded with no pipeline by
//! the same threads, so the batch's share of what the codecs allow shows.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use stillgraph::io::batch::{BatchOptions, Frames, Input, output_file, run_batch_on, stem_of};
use stillgraph::io::{from_frame, write_atomic};
use stillgraph::{Engine, Keep, compile};

use super::{BenchArgs, load};

pub fn run(args: BenchArgs) -> Result<(), String> {
    args.codec.start_threads()?;
    let plan = compile(&load(&args.source.pipeline)?, Keep::Outputs).map_err(|e| e.to_string())?;
    let sources = args.source.inputs()?;
    // Every frame its own name (outputs are named by input), read into
    // memory once: the bench times decoding, not the disk.
    let mut encoded: Vec<(&'static [u8], String)> = Vec::new();
    for source in &sources {
        let bytes: &'static [u8] = match source {
            Input::Bytes { bytes, .. } => bytes,
            // Read once and kept for the life of the process.
            Input::File(path) => Box::leak(
                std::fs::read(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .into_boxed_slice(),
            ),
        };
        let ext = source.name().extension().unwrap_or_default();
        encoded.push((bytes, ext.to_string_lossy().into_owned()));
    }
    let frames: Vec<Input> = (0..args.frames as usize)
        .map(|i| {
            let (bytes, ext) = &encoded[i % encoded.len()];
            Input::Bytes {
                name: PathBuf::from(format!("frame_{i:05}.{ext}")),
                bytes,
            }
        })
        .collect();
    let scratch = std::env::temp_dir().join(format!("stillgraph-bench-{}", std::process::id()));
    let result = measure(&args, &plan, &frames, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// The engines in words: one, or how many of which.
fn describe(engines: &[Engine]) -> String {
    match engines {
        [one] => one.describe().to_string(),
        many => format!("{} engines ({})", many.len(), many[0].describe()),
    }
}

fn measure(
    args: &BenchArgs,
    plan: &stillgraph::Plan,
    frames: &[Input],
    scratch: &Path,
) -> Result<(), String> {
    let mut engines = args.source.engines()?;
    let opts = |dir: &str| BatchOptions {
        out_dir: scratch.join(dir),
        encoding: args.codec.encoding(),
        in_flight: args.codec.in_flight.map(|n| n as usize),
        ..BatchOptions::default()
    };
    // One warm-up pass over a few frames: pipelines compile, buffers grow.
    run_batch_on(
        &mut engines,
        plan,
        Frames::Images(&frames[..frames.len().min(4)]),
        &opts("warm"),
        |_| {},
    )
    .map_err(|e| e.to_string())?;

    let start = Instant::now();
    let report = run_batch_on(
        &mut engines,
        plan,
        Frames::Images(frames),
        &opts("run"),
        |_| {},
    )
    .map_err(|e| e.to_string())?;
    let wall = start.elapsed();
    let peak = peak_resident_mb();
    if let Some((input, error)) = report.failed.first() {
        return Err(format!("{}: {error}", input.display()));
    }

    let codec_dir = scratch.join("codec");
    let start = Instant::now();
    frames
        .par_iter()
        .try_for_each(|input| -> Result<(), String> {
            let (frame, kind, _) = input.decode().map_err(|e| e.to_string())?;
            // As many files as the pipeline writes a frame, so that graphs
            // of several outputs are held to their own codec limit.
            let file = output_file(stem_of(input.name()), args.codec.format);
            (0..plan.reads.len()).try_for_each(|k| {
                write_atomic(
                    &from_frame(&frame, kind),
                    &codec_dir.join(k.to_string()).join(&file),
                    &args.codec.encoding(),
                )
                .map_err(|e| e.to_string())
            })
        })?;
    let codec_wall = start.elapsed();

    let n = frames.len() as f64;
    let fps = n / wall.as_secs_f64();
    let codec_fps = n / codec_wall.as_secs_f64();
    let stages = [report.decode, report.compute, report.encode];
    let total: Duration = stages.iter().sum();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-9);
    println!(
        "{}, {} frames on {}, {} codec threads, {} out",
        args.source.pipeline.display(),
        frames.len(),
        describe(&engines),
        rayon::current_num_threads(),
        args.codec.format.extension()
    );
    println!(
        "pipeline:    {fps:.1} frames/s ({:.2} s)",
        wall.as_secs_f64()
    );
    println!(
        "stage time:  decode {:.0}% | compute {:.0}% | encode {:.0}% (summed over threads)",
        share(stages[0]),
        share(stages[1]),
        share(stages[2])
    );
    println!(
        "compute:     {:.2} ms per frame (summed over engines)",
        1e3 * stages[1].as_secs_f64() / n
    );
    println!(
        "codec only:  {codec_fps:.1} frames/s ({} files a frame): the pipeline runs at {:.0}% of it",
        plan.reads.len(),
        100.0 * fps / codec_fps
    );
    match peak {
        Some(mb) => println!("peak memory: {mb} MB resident (through the pipeline run)"),
        None => println!("peak memory: not available on this system"),
    }
    Ok(())
}

/// The process's peak resident memory (Linux's VmHWM), in MB.
fn peak_resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

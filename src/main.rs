//! The `stillgraph` command: argument parsing, messages and exit codes. The
//! work is all in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;

/// A batch frees and allocates frame-sized buffers on many threads, and
/// mimalloc serves that faster than glibc's malloc: 1080p batches ran
/// 30–50% faster on a 16-core machine, at 100–200 MB more peak memory
/// (BENCHMARKS.md has the figures, and why its purge options are off).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use stillgraph::engine::Gpus;
use stillgraph::io::batch::{BatchOptions, Event, Frames, Input, run_batch_on, shard_range};
use stillgraph::io::video::{self, Ffmpeg, Rate, Sampling, VideoOutput, VideoReader};
use stillgraph::io::{Encoding, Format, PngCompression, discover};
use stillgraph::ops::OPS;
use stillgraph::{Backend, Engine, Keep, Pipeline, Plan, Size, compile};

/// The image `run` uses when given no input: a public-domain photograph
/// (see assets/LICENSES.md), built into the binary so it works anywhere.
const BUNDLED: (&str, &[u8]) = ("coffee.png", include_bytes!("../assets/coffee.png"));

#[derive(Parser)]
#[command(
    version,
    about = "Degrade images on purpose: RON pipelines on the GPU or the CPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline over images (files, directories, glob patterns).
    Run(RunArgs),
    /// Time a batch: frames/s, time per stage, peak memory, and the same
    /// frames decoded and encoded without the pipeline (the codecs' limit).
    Bench(BenchArgs),
    /// Validate a pipeline without running it.
    Check { pipeline: PathBuf },
    /// Print the compiled graph: nodes, sizes and buffer slots.
    Plan {
        pipeline: PathBuf,
        /// Print Graphviz DOT instead.
        #[arg(long)]
        dot: bool,
        /// Input size for the sizes shown, WIDTHxHEIGHT.
        #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
        size: Size,
    },
    /// List every op with its parameters, types, defaults and allowed values.
    Ops,
    /// Convert a reference tool YAML pipeline to RON (printed, or written to -o).
    Import {
        yaml: PathBuf,
        /// Write the RON here instead of printing it.
        #[arg(short, long = "output")]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    source: Source,
    /// Output directory, or a video file (.mp4, .mov, .mkv, .webm, .avi)
    /// to encode the outputs into, in order.
    #[arg(short, long = "output", default_value = "out")]
    out: PathBuf,
    #[command(flatten)]
    codec: Codec,
    #[command(flatten)]
    video: VideoArgs,
    /// Also write every step's frame under OUT/<step>/.
    #[arg(long)]
    save_intermediate: bool,
    /// Run shard K of N (K from 0): a balanced, contiguous share of the
    /// sorted inputs. Without it, Slurm's array task or a Kubernetes
    /// Indexed Job's index is used where one is set.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// N for a Kubernetes Indexed Job (JOB_COMPLETION_INDEX is K);
    /// STILLGRAPH_SHARD_COUNT does the same.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    shard_count: Option<u32>,
    /// Leave inputs whose outputs all exist (finish an interrupted run).
    #[arg(long)]
    skip_existing: bool,
    /// Damage a decoder worked around (a truncated JPEG, written with gray
    /// rows): error (the default) writes the frame with a warning naming
    /// the file, warning fails the frame, none writes it without a word.
    #[arg(long, default_value = "error")]
    fail_on: FailOn,
}

/// `--fail-on`, as libvips and FFmpeg's -xerror offer it.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    None,
    Warning,
    Error,
}

/// Video in and out (through the ffmpeg program).
#[derive(clap::Args)]
struct VideoArgs {
    /// Video input: take frames from this time on (seconds, or
    /// [hh:]mm:ss[.ms]).
    #[arg(long, value_parser = parse_time)]
    start: Option<f64>,
    /// Video input: take frames before this time only.
    #[arg(long, value_parser = parse_time)]
    end: Option<f64>,
    /// Video input: take one frame every SECONDS (the first at or after
    /// each multiple from --start).
    #[arg(long, value_parser = parse_positive, conflicts_with = "fps")]
    every: Option<f64>,
    /// Video input: take N frames a second. Video output: its frame rate
    /// (default: the input video's, else 25).
    #[arg(long, value_parser = parse_rate)]
    fps: Option<Rate>,
    /// Video output: ffmpeg's output options in place of the default
    /// H.264 CRF 18 (VP9 for .webm), split at spaces, e.g.
    /// "-c:v libx265 -crf 24 -pix_fmt yuv420p".
    #[arg(long, allow_hyphen_values = true)]
    ffmpeg_args: Option<String>,
}

#[derive(clap::Args)]
struct BenchArgs {
    #[command(flatten)]
    source: Source,
    /// Frames to time (the inputs repeated as needed).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    frames: u32,
    #[command(flatten)]
    codec: Codec,
}

/// What `run` and `bench` read and which backend runs it.
#[derive(clap::Args)]
struct Source {
    /// A RON pipeline, or the reference tool's YAML (.yaml, .yml).
    pipeline: PathBuf,
    /// Input images; without any, a bundled photograph (coffee.png).
    #[arg(short, long = "input")]
    inputs: Vec<PathBuf>,
    /// auto: a hardware GPU if there is one, else the CPU; gpu: also a
    /// software adapter (llvmpipe); cpu: the CPU backend.
    #[arg(long, default_value = "auto")]
    backend: Backend,
    /// Run on several GPUs: all, or the first N (best first), frames spread
    /// among them; outputs are the same as on one.
    #[arg(long, value_parser = parse_gpus)]
    gpus: Option<Gpus>,
    /// Engines on each GPU, each with its own device and queue, so that one
    /// frame's transfers overlap another's compute.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    gpu_streams: u32,
}

/// How outputs are written, and by how many threads.
#[derive(clap::Args)]
struct Codec {
    /// png, jpeg, webp, bmp or tiff.
    #[arg(long, default_value = "png")]
    format: Format,
    /// JPEG quality of the outputs.
    #[arg(long, default_value_t = 95, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// PNG compression: fast (the default: several times faster, files a
    /// little larger), default or best.
    #[arg(long, default_value = "fast")]
    png_compression: PngCompression,
    /// Threads for decoding, encoding and the CPU backend (default: all cores).
    #[arg(short, long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Frames in memory at most, from decoding to writing (default threads
    /// + 2): fewer save memory, about 8 MB a 1080p frame.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    in_flight: Option<u32>,
}

impl Codec {
    /// Sizes rayon's global pool, which codecs and CPU kernels share.
    fn start_threads(&self) -> Result<(), String> {
        if let Some(jobs) = self.jobs {
            rayon::ThreadPoolBuilder::new()
                .num_threads(usize::from(jobs))
                .build_global()
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            format: self.format,
            quality: self.quality,
            png: self.png_compression,
        }
    }
}

impl Source {
    /// The engines to run on: one, or several with `--gpus`/`--gpu-streams`.
    fn engines(&self) -> Result<Vec<Engine>, String> {
        if self.gpus.is_none() && self.gpu_streams == 1 {
            return Ok(vec![Engine::new(self.backend).map_err(|e| e.to_string())?]);
        }
        if self.backend == Backend::Cpu {
            return Err("--gpus and --gpu-streams run the GPU backend: drop --backend cpu".into());
        }
        let which = self.gpus.unwrap_or(Gpus::First(1));
        let engines = Engine::gpus(which, self.gpu_streams, self.backend == Backend::Gpu)
            .map_err(|e| e.to_string())?;
        log::info!(
            "{} engines: {}",
            engines.len(),
            engines
                .iter()
                .map(Engine::describe)
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(engines)
    }

    /// The input files (or the bundled photograph), saying what was skipped.
    fn inputs(&self) -> Result<Vec<Input>, String> {
        if self.inputs.is_empty() {
            return Ok(vec![Input::Bytes {
                name: PathBuf::from(BUNDLED.0),
                bytes: BUNDLED.1,
            }]);
        }
        let found = discover(&self.inputs).map_err(|e| e.to_string())?;
        if !found.skipped.is_empty() {
            let names: Vec<String> = found
                .skipped
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            log::info!(
                "skipped {} files that are not images (by their ending): {}",
                names.len(),
                names.join(", ")
            );
        }
        Ok(found.images.into_iter().map(Input::File).collect())
    }
}

fn parse_gpus(s: &str) -> Result<Gpus, String> {
    match s {
        "all" => Ok(Gpus::All),
        n => n
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .map(Gpus::First)
            .ok_or(format!(
                "expected all or a number of GPUs above 0 (got {s:?})"
            )),
    }
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("expected K/N with 0 <= K < N, e.g. 2/8 (got {s:?})");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n) = (
        k.parse::<u32>().map_err(|_| bad())?,
        n.parse::<u32>().map_err(|_| bad())?,
    );
    if k < n { Ok((k, n)) } else { Err(bad()) }
}

/// Which shard this run is, (K, N): `--shard`, else Slurm's array task
/// (SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN in steps of
/// SLURM_ARRAY_TASK_STEP, N from SLURM_ARRAY_TASK_COUNT), else a Kubernetes
/// Indexed Job's JOB_COMPLETION_INDEX with N from `--shard-count` or
/// STILLGRAPH_SHARD_COUNT.
fn shard(args: &RunArgs) -> Result<Option<(u32, u32)>, String> {
    if args.shard.is_some() {
        return Ok(args.shard);
    }
    let var = |name: &str| -> Result<Option<u32>, String> {
        match std::env::var(name) {
            Err(_) => Ok(None),
            Ok(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}={v:?} is not a whole number")),
        }
    };
    let checked = |k: u32, n: u32, source: &str| {
        if k < n {
            Ok(Some((k, n)))
        } else {
            Err(format!(
                "{source}: shard {k} of {n} does not exist (K counts from 0)"
            ))
        }
    };
    if let Some(id) = var("SLURM_ARRAY_TASK_ID")? {
        let n = var("SLURM_ARRAY_TASK_COUNT")?
            .ok_or("SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT")?;
        let min = var("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = var("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let k = id
            .checked_sub(min)
            .ok_or("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?
            / step;
        return checked(k, n, "Slurm array");
    }
    if let Some(k) = var("JOB_COMPLETION_INDEX")? {
        let n = match args.shard_count {
            Some(n) => n,
            None => var("STILLGRAPH_SHARD_COUNT")?.ok_or(
                "JOB_COMPLETION_INDEX is set: give the number of shards with --shard-count N or STILLGRAPH_SHARD_COUNT (the Job's completions)",
            )?,
        };
        return checked(k, n, "Kubernetes Indexed Job");
    }
    Ok(None)
}

/// Seconds, `mm:ss(.ms)` or `hh:mm:ss(.ms)`.
fn parse_time(s: &str) -> Result<f64, String> {
    let bad =
        || format!("expected seconds or [hh:]mm:ss[.ms], e.g. 90, 1:30 or 00:01:30.5 (got {s:?})");
    let mut seconds = 0.0;
    for part in s.split(':') {
        let v: f64 = part.parse().map_err(|_| bad())?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad());
        }
        seconds = seconds * 60.0 + v;
    }
    if s.split(':').count() > 3 {
        return Err(bad());
    }
    Ok(seconds)
}

fn parse_positive(s: &str) -> Result<f64, String> {
    parse_time(s)
        .ok()
        .filter(|&v| v > 0.0)
        .ok_or_else(|| format!("expected a time above 0 in seconds, e.g. 0.5 (got {s:?})"))
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    Rate::parse(s).ok_or_else(|| {
        format!("expected frames a second above 0, e.g. 25, 12.5 or 30000/1001 (got {s:?})")
    })
}

fn parse_size(s: &str) -> Result<Size, String> {
    let (w, h) = s
        .split_once('x')
        .ok_or("expected WIDTHxHEIGHT, e.g. 1920x1080")?;
    let side = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|&v| v > 0)
            .ok_or(format!("bad side {v:?}"))
    };
    Ok(Size::new(side(w)?, side(h)?))
}

/// Exit codes: 0 all done, 1 some frames failed, 2 nothing could run.
const SOME_FAILED: u8 = 1;
const UNUSABLE: u8 = 2;

fn main() -> ExitCode {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("stillgraph=info,wgpu=error,naga=error"),
    )
    .format_timestamp(None)
    .format_target(false)
    .init();
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(UNUSABLE)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Check { pipeline } => {
            let p = load(&pipeline)?;
            println!("{}: ok ({} steps)", pipeline.display(), p.steps.len());
        }
        Command::Plan {
            pipeline,
            dot,
            size,
        } => {
            let p = load(&pipeline)?;
            let plan = compile(&p, Keep::Outputs).map_err(|e| e.to_string())?;
            if dot {
                print!("{}", plan.dot());
            } else {
                print!("{}", plan.describe(size));
            }
        }
        Command::Ops => print_ops(),
        Command::Import { yaml, out } => import(&yaml, out.as_deref())?,
        Command::Run(args) => return run_pipeline(args),
        Command::Bench(args) => bench::run(args)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn run_pipeline(args: RunArgs) -> Result<ExitCode, String> {
    args.codec.start_threads()?;
    let p = load(&args.source.pipeline)?;
    let keep = if args.save_intermediate {
        Keep::Steps
    } else {
        Keep::Outputs
    };
    let plan = compile(&p, keep).map_err(|e| e.to_string())?;
    let mut inputs = args.source.inputs()?;
    let video_in = match inputs.as_slice() {
        [Input::File(path)] if video::is_video(path) => Some(path.clone()),
        many if many.len() > 1 && args.source.inputs.iter().any(|p| video::is_video(p)) => {
            return Err(format!(
                "a video is read on its own: give one video per run (got {} inputs)",
                args.source.inputs.len()
            ));
        }
        _ => None,
    };
    let v = &args.video;
    if video_in.is_none() && (v.start.is_some() || v.end.is_some() || v.every.is_some()) {
        return Err(
            "--start, --end and --every choose frames of a video input (-i clip.mp4)".into(),
        );
    }
    if let (Some(start), Some(end)) = (v.start, v.end)
        && end <= start
    {
        return Err(format!("--end {end} s is not after --start {start} s"));
    }
    let shard = shard(&args)?;
    let writes_video = video::is_video(&args.out);
    if writes_video && (shard.is_some() || args.skip_existing) {
        return Err(format!(
            "{}: a video is written whole by one run: shards and --skip-existing write images (-o DIR)",
            args.out.display()
        ));
    }
    if !writes_video && v.ffmpeg_args.is_some() {
        return Err("--ffmpeg-args sets the codec of a video output (-o clip.mp4)".into());
    }
    let mut first_index = 0;
    if let (Some((k, n)), None) = (shard, &video_in) {
        let range = shard_range(inputs.len(), k, n);
        log::info!(
            "shard {k} of {n}: inputs {} to {} of {}",
            range.start + 1,
            range.end,
            inputs.len()
        );
        first_index = range.start as u32;
        inputs = inputs[range].to_vec();
        if inputs.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let mut reader = match &video_in {
        Some(path) => {
            let ffmpeg = Ffmpeg::find(path).map_err(|e| e.to_string())?;
            let sampling = Sampling {
                start: v.start.unwrap_or(0.0),
                end: v.end,
                every: v.every.or(v.fps.map(|r| 1.0 / r.per_second())),
            };
            Some(VideoReader::open(&ffmpeg, path, sampling).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let source_rate = reader.as_ref().map(|r| r.info().rate);
    let video_out = if writes_video {
        Some(video_output(&args, &plan, source_rate)?)
    } else {
        None
    };
    let opts = BatchOptions {
        out_dir: args.out.clone(),
        encoding: args.codec.encoding(),
        video: video_out,
        first_index,
        skip_existing: args.skip_existing,
        fail_on_damage: args.fail_on == FailOn::Warning,
        in_flight: args.codec.in_flight.map(|n| n as usize),
    };
    let mut engines = args.source.engines()?;

    let frames = match reader.take() {
        Some(reader) => Frames::Video {
            reader,
            shard: shard.unwrap_or((0, 1)),
        },
        None => Frames::Images(&inputs),
    };
    // A video's frame count is known only at its end: a counter, not a bar.
    let single = video_in.is_none() && inputs.len() == 1;
    let bar = if video_in.is_some() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} frames {elapsed} ({per_sec})")
                .map_err(|e| e.to_string())?,
        );
        bar
    } else if inputs.len() > 1 {
        let bar = ProgressBar::new(inputs.len() as u64);
        let style = ProgressStyle::with_template("{bar:40} {pos}/{len} frames {elapsed} eta {eta}")
            .map_err(|e| e.to_string())?;
        bar.set_style(style);
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut notes: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let start = std::time::Instant::now();
    let report = run_batch_on(&mut engines, &plan, frames, &opts, |event| {
        match event {
            Event::Written { files, .. } if single => {
                for f in files {
                    bar.suspend(|| println!("wrote {}", f.display()));
                }
            }
            Event::Written { .. } | Event::Skipped { .. } => {}
            Event::Failed { error, .. } => bar.suspend(|| eprintln!("error: {error}")),
            Event::Note { input, note } if note.is_damage() => {
                if args.fail_on != FailOn::None {
                    bar.suspend(|| log::warn!("{}: {note}", input.display()));
                }
                return;
            }
            Event::Note { input, note } => {
                notes
                    .entry(note.to_string())
                    .or_default()
                    .push(input.display().to_string());
                return;
            }
        }
        bar.inc(1);
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if !single && report.written > 0 {
        let wall = start.elapsed().as_secs_f64();
        let stages = [report.decode, report.compute, report.encode].map(|d| d.as_secs_f64());
        let total: f64 = stages.iter().sum::<f64>().max(1e-9);
        let share = |k: usize| 100.0 * stages[k] / total;
        log::info!(
            "{:.1} frames/s ({} in {wall:.2} s); stage time, summed over threads: decode {:.0}%, compute {:.0}%, encode {:.0}%",
            report.written as f64 / wall,
            report.written,
            share(0),
            share(1),
            share(2)
        );
    }
    // Conversions once a run, not once a frame.
    for (note, inputs) in &notes {
        let shown = inputs.len().min(3);
        let more = if inputs.len() > shown {
            format!(" and {} more", inputs.len() - shown)
        } else {
            String::new()
        };
        log::info!("{}{more}: {note}", inputs[..shown].join(", "));
    }
    if !single && (report.failed.is_empty() || video_in.is_some() || opts.video.is_some()) {
        eprintln!(
            "{} frames written to {}",
            report.written,
            opts.out_dir.display()
        );
    }
    if report.skipped > 0 {
        eprintln!("{} frames skipped: their outputs exist", report.skipped);
    }
    if report.failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        let failed = report.failed.len();
        if video_in.is_some() || opts.video.is_some() {
            // A damaged video counts once besides its frames: its error said so.
            eprintln!("{failed} failed");
        } else {
            eprintln!("{failed} of {} frames failed", inputs.len());
        }
        Ok(ExitCode::from(SOME_FAILED))
    }
}

/// How `-o clip.mp4` is written: refused first for what needs no ffmpeg
/// to say (the ending, a pipeline of several outputs); at `--fps`, else the
/// input video's rate, else 25.
fn video_output(
    args: &RunArgs,
    plan: &Plan,
    source_rate: Option<Rate>,
) -> Result<VideoOutput, String> {
    VideoOutput::check(&args.out, plan).map_err(|e| e.to_string())?;
    let ffmpeg = Ffmpeg::find(&args.out).map_err(|e| e.to_string())?;
    let v = &args.video;
    Ok(VideoOutput {
        path: args.out.clone(),
        ffmpeg,
        rate: v.fps.or(source_rate).unwrap_or(Rate { num: 25, den: 1 }),
        codec_args: v
            .ffmpeg_args
            .as_ref()
            .map(|a| a.split_whitespace().map(Into::into).collect()),
    })
}

/// Reads a pipeline (RON or reference YAML), printing the import's warnings.
fn load(path: &Path) -> Result<Pipeline, String> {
    let (pipeline, warnings) = Pipeline::load(path).map_err(|e| e.to_string())?;
    for w in warnings {
        log::warn!("{w}");
    }
    Ok(pipeline)
}

fn import(yaml: &Path, out: Option<&Path>) -> Result<(), String> {
    let text = std::fs::read_to_string(yaml).map_err(|e| format!("{}: {e}", yaml.display()))?;
    let imported = stillgraph::pipeline::yaml::import(&text, &yaml.display().to_string())
        .map_err(|e| e.to_string())?;
    for w in &imported.warnings {
        log::warn!("{w}");
    }
    match out {
        None => print!("{}", imported.ron),
        Some(path) if std::fs::canonicalize(path).ok() == std::fs::canonicalize(yaml).ok() => {
            return Err(format!(
                "{} would write over the YAML it imports: name another -o",
                path.display()
            ));
        }
        Some(path) => {
            stillgraph::io::write_file_atomic(path, imported.ron.as_bytes())
                .map_err(|e| e.to_string())?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

fn print_ops() {
    for op in OPS {
        println!("{:<20} {}", op.name, op.summary);
        for p in op.params {
            let default = p
                .default
                .map_or("required".to_string(), |d| format!("default {d}"));
            println!(
                "    {:<18} {:<11} {:<22} {:<18} {}",
                p.name,
                p.ty,
                default,
                p.allowed.to_string(),
                p.doc
            );
        }
    }
}

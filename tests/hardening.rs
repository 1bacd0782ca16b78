//! What the GPU cannot take costs no frame: frames too large for the
//! device's buffers run on the CPU, and a GPU lost mid-batch hands the
//! failed frame and the rest to the CPU. Outputs equal the CPU backend's.

mod common;

use std::path::Path;

use common::{assert_close, gpu_engine, plan, test_frame};
use stillgraph::io::batch::{BatchOptions, Input, run_batch};
use stillgraph::io::decode_file;
use stillgraph::ops::FrameCtx;
use stillgraph::{Engine, Frame, Plan, Size};

/// GPU tests share one software device (llvmpipe): one at a time keeps
/// their memory and time bounded on a small machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

const THREE: &str = r#"(steps: [
    (name: "vivid", op: saturation(mode: fixed, value: 1.5)),
    (name: "soft", op: blur_gaussian(sigma: 1.5)),
    (name: "chunky", op: downscale(scale: 0.5)),
])"#;

/// The largest GPU buffer `plan` needs for an input of `input`, as the
/// backend makes them (at least 16 bytes, a multiple of 16): every node's
/// frame and each of its ops' scratch buffers, from the ops themselves.
fn largest_buffer(plan: &Plan, input: Size) -> u64 {
    let sizes = plan.sizes(input).unwrap();
    let pad = |b: u64| b.max(16).next_multiple_of(16);
    let mut most = pad(input.pixels() as u64 * 4);
    for (i, node) in plan.nodes.iter().enumerate() {
        let ins: Vec<Size> = node
            .inputs
            .iter()
            .map(|s| plan.size_of(*s, input, &sizes))
            .collect();
        let work = node.op.gpu(&FrameCtx { key: node.key(0) }, &ins, sizes[i]);
        let scratch = work.scratch.iter().copied().max().unwrap_or(0);
        most = most
            .max(pad(sizes[i].pixels() as u64 * 4))
            .max(pad(scratch));
    }
    most
}

fn cpu_run(plan: &Plan, frame: &Frame, index: u32) -> Vec<Frame> {
    Engine::cpu().run_frame(plan, frame, index).unwrap()
}

#[test]
fn a_frame_one_byte_too_large_runs_on_the_cpu_and_the_next_on_the_gpu() {
    let _turn = turn();
    let Some(mut gpu) = gpu_engine() else { return };
    let p = plan(THREE);
    let big = test_frame(203, 157);
    let small = test_frame(61, 47);
    let need = largest_buffer(&p, big.size());
    assert!(need > largest_buffer(&p, small.size()));
    // Exactly at the limit the frame fits.
    gpu.limit_gpu_buffers(need);
    let fits = gpu.run_frame(&p, &big, 0).unwrap();
    assert_eq!(gpu.fallbacks().too_large, 0, "{:?}", gpu.fallbacks());
    assert_close("at the limit", &fits[0], &cpu_run(&p, &big, 0)[0], 1);

    // One byte less and it runs on the CPU, with the same pixels as the CPU.
    gpu.limit_gpu_buffers(need - 1);
    for index in [3, 4] {
        let out = gpu.run_frame(&p, &big, index).unwrap();
        assert_eq!(out[0].pixels(), cpu_run(&p, &big, index)[0].pixels());
    }
    let fallbacks = gpu.fallbacks().clone();
    assert_eq!(fallbacks.too_large, 2);
    assert!(fallbacks.gpu_failed.is_none());
    let why = fallbacks.first_too_large.unwrap();
    assert!(
        why.starts_with("frame 3 (203x157): ")
            && why.contains(&format!("needs a {need}-byte GPU buffer"))
            && why.contains(&format!("this device allows {}", need - 1)),
        "{why}"
    );
    assert_eq!(gpu.last_gpu_time(), None, "the frame ran on the CPU");

    // A frame that fits still runs on the GPU.
    let out = gpu.run_frame(&p, &small, 0).unwrap();
    assert_eq!(gpu.fallbacks().too_large, 2);
    assert!(gpu.is_gpu());
    assert_close("after", &out[0], &cpu_run(&p, &small, 0)[0], 1);
}

#[test]
fn without_fallback_a_frame_too_large_is_an_error_naming_the_limit() {
    let _turn = turn();
    let Some(mut gpu) = gpu_engine() else { return };
    gpu.set_cpu_fallback(false);
    let p = plan(THREE);
    let frame = test_frame(120, 90);
    gpu.limit_gpu_buffers(4096);
    let e = gpu.run_frame(&p, &frame, 0).unwrap_err().to_string();
    assert!(e.contains("this device allows 4096"), "{e}");
    assert_eq!(gpu.fallbacks(), &Default::default());
}

/// A frame over the device's own limit (128 MiB on llvmpipe): the size is
/// found from the engine's limit and the plan's largest buffer per pixel,
/// not assumed, so it holds whatever an op's scratch costs.
#[test]
fn a_frame_over_the_devices_own_limit_matches_the_cpu() {
    let _turn = turn();
    let Some(mut gpu) = gpu_engine() else { return };
    let limit = gpu.gpu_buffer_limit().unwrap();
    let p = plan("(steps: [(name: \"soft\", op: blur_gaussian(sigma: 0.7))])");
    let width = 4096;
    let per_row = largest_buffer(&p, Size::new(width, 64)) / 64;
    let height = u32::try_from(limit / per_row + 1).unwrap_or(u32::MAX);
    // A device whose limit is far above llvmpipe's would need a frame too
    // large for a test machine's memory; say so rather than pass quietly.
    if u64::from(height) * u64::from(width) > 40_000_000 {
        eprintln!(
            "\n!!! SKIPPED: the GPU's buffer limit ({limit} bytes) needs a {width}x{height} frame\n"
        );
        return;
    }
    let frame = test_frame(width, height);
    assert!(largest_buffer(&p, frame.size()) > limit);
    let out = gpu.run_frame(&p, &frame, 0).unwrap();
    assert_eq!(gpu.fallbacks().too_large, 1);
    let want = cpu_run(&p, &frame, 0);
    assert!(out[0].pixels() == want[0].pixels(), "differs from the CPU");
}

/// `n` small PNGs of different content in `dir`.
fn inputs(dir: &Path, n: u32) -> Vec<Input> {
    (0..n)
        .map(|i| {
            let path = dir.join(format!("f{i:02}.png"));
            image::RgbImage::from_fn(48 + i, 36, |x, y| {
                image::Rgb([(x * 5 + i * 20) as u8, (y * 7) as u8, (x ^ y) as u8])
            })
            .save(&path)
            .unwrap();
            Input::File(path)
        })
        .collect()
}

/// Animated noise makes every frame's draws depend on its index, so a
/// frame re-run under another index would differ.
const ANIMATED: &str = r#"(steps: [
    (name: "grain", op: noise(mode: gaussian, amount: 0.1), animate: true),
    (name: "soft", op: blur_gaussian(sigma: 1.0)),
])"#;

fn batch(engine: &mut Engine, inputs: &[Input], out: &Path) -> stillgraph::io::batch::BatchReport {
    let opts = BatchOptions {
        out_dir: out.to_path_buf(),
        first_index: 10,
        ..BatchOptions::default()
    };
    run_batch(
        engine,
        &plan(ANIMATED),
        stillgraph::io::batch::Frames::Images(inputs),
        &opts,
        |_| {},
    )
    .unwrap()
}

fn output(dir: &Path, i: u32) -> Frame {
    let image = decode_file(&dir.join(format!("f{i:02}.png"))).unwrap();
    stillgraph::io::to_frame(&image).0
}

#[test]
fn a_gpu_lost_mid_batch_loses_no_frame() {
    let _turn = turn();
    let Some(mut gpu) = gpu_engine() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs(dir.path(), 6);
    let (on_gpu, on_cpu) = (dir.path().join("gpu"), dir.path().join("cpu"));
    gpu.lose_gpu_after(2);
    let report = batch(&mut gpu, &inputs, &on_gpu);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.written, 6);
    let why = gpu.fallbacks().gpu_failed.clone().expect("the GPU failed");
    // Frame 2 of the batch, index 12 of the set.
    assert_eq!(why, "frame 12: the GPU device was lost (Destroyed)");
    assert!(!gpu.is_gpu());
    assert!(
        gpu.describe().contains("the GPU failed"),
        "{}",
        gpu.describe()
    );

    assert_eq!(batch(&mut Engine::cpu(), &inputs, &on_cpu).written, 6);
    for i in 0..6 {
        let (got, want) = (output(&on_gpu, i), output(&on_cpu, i));
        if i < 2 {
            assert_close(&format!("frame {i}, on the GPU"), &got, &want, 1);
        } else {
            assert!(got.pixels() == want.pixels(), "frame {i}, on the CPU");
        }
    }
}

#[test]
fn without_fallback_a_lost_gpu_fails_its_frames_and_the_batch_goes_on() {
    let _turn = turn();
    let Some(mut gpu) = gpu_engine() else { return };
    gpu.set_cpu_fallback(false);
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs(dir.path(), 4);
    gpu.lose_gpu_after(1);
    let report = batch(&mut gpu, &inputs, &dir.path().join("out"));
    assert_eq!(report.written, 1);
    let failed: Vec<_> = report.failed.iter().map(|(p, _)| p.clone()).collect();
    let want: Vec<_> = (1..4)
        .map(|i| dir.path().join(format!("f{i:02}.png")))
        .collect();
    assert_eq!(failed, want);
    for (_, e) in &report.failed {
        assert!(e.to_string().contains("the GPU device was lost"), "{e}");
    }
    assert!(gpu.fallbacks().gpu_failed.is_none());
}

// ---------------------------------------------------------------------------
// Property tests: bounded cases from fixed seeds, so a failure replays.
// The fuzz targets in fuzz/ search the same inputs without bounds.

use std::fmt::Write as _;

use stillgraph::graph::{Keep, Source};
use stillgraph::ops::{Allowed, OPS};
use stillgraph::pipeline::yaml;
use stillgraph::rng::{Rng, RngKey};
use stillgraph::{Pipeline, compile};

fn rng(seed: u64) -> Rng {
    RngKey::new(seed, 0, 0).stream()
}

fn chance(r: &mut Rng, p: f64) -> bool {
    r.next_f64() < p
}

fn pick<'a, T>(r: &mut Rng, items: &'a [T]) -> &'a T {
    &items[r.below(items.len() as u32) as usize]
}

/// A number for a parameter: mostly allowed, sometimes anything.
fn number(r: &mut Rng, allowed: Allowed) -> f64 {
    if chance(r, 0.02) {
        return *pick(r, &[-1.0, 0.0, -1e9, 1e9, 1e300, 0.5, 7.0]);
    }
    match allowed {
        Allowed::Range(lo, hi) => r.uniform(lo, hi),
        Allowed::AtLeast(lo) | Allowed::Above(lo) => lo + r.uniform(0.001, 4.0),
        Allowed::Any | Allowed::OneOf(_) => r.uniform(-8.0, 8.0),
    }
}

/// An op call with a random choice of its parameters, as RON.
fn random_op(r: &mut Rng) -> String {
    let op = pick(r, OPS);
    let mut args = Vec::new();
    for p in op.params {
        if !chance(r, if p.default.is_none() { 0.98 } else { 0.5 }) {
            continue;
        }
        let value = match (p.ty, p.allowed) {
            ("word", Allowed::OneOf(words)) if !chance(r, 0.01) => pick(r, words).to_string(),
            ("word", _) => "bogus".into(),
            ("bool", _) => chance(r, 0.5).to_string(),
            ("integer", a) => format!("{}", number(r, a).round() as i64),
            ("(min, max)", a) => {
                let (x, y) = (number(r, a), number(r, a));
                let (lo, hi) = if chance(r, 0.9) {
                    (x.min(y), x.max(y))
                } else {
                    (x, y)
                };
                format!("({lo:?}, {hi:?})")
            }
            (_, a) => format!("{:?}", number(r, a)),
        };
        args.push(format!("{}: {value}", p.name));
    }
    format!("{}({})", op.name, args.join(", "))
}

/// A pipeline of 1 to 8 steps whose inputs form chains, branches, forward
/// references, cycles and dangling names; repeats, outputs and seeds too.
fn random_pipeline(r: &mut Rng) -> String {
    let n = 1 + r.below(8) as usize;
    let name = |i: usize| format!("s{i}");
    let mut text = format!("Pipeline(seed: {}, steps: [\n", r.next_u32());
    for i in 0..n {
        let step_name = if chance(r, 0.03) {
            pick(r, &["input", "a/b", "", "s0"]).to_string()
        } else {
            name(i)
        };
        let _ = write!(text, "  (name: \"{step_name}\", op: {}", random_op(r));
        if chance(r, 0.5) {
            let mut inputs = Vec::new();
            for _ in 0..if chance(r, 0.05) { 2 } else { 1 } {
                let k = r.next_f64();
                inputs.push(if k < 0.6 && i > 0 {
                    name(r.below(i as u32) as usize)
                } else if k < 0.7 {
                    name(r.below(n as u32) as usize)
                } else if k < 0.97 {
                    "input".into()
                } else {
                    "nope".into()
                });
            }
            let quoted: Vec<String> = inputs.iter().map(|s| format!("\"{s}\"")).collect();
            let _ = write!(text, ", inputs: [{}]", quoted.join(", "));
        }
        if chance(r, 0.3) {
            let repeat = if chance(r, 0.05) {
                *pick(r, &[0, 101])
            } else {
                1 + r.below(3)
            };
            let _ = write!(text, ", repeat: {repeat}");
        }
        if chance(r, 0.25) {
            text.push_str(", output: true");
        }
        if chance(r, 0.2) {
            text.push_str(", animate: true");
        }
        if chance(r, 0.2) {
            let _ = write!(text, ", seed: {}", r.next_u32());
        }
        text.push_str("),\n");
    }
    text + "])\n"
}

/// What a plan must be: every node reads only earlier nodes, never writes
/// the slot of a frame still to be read (its own inputs included), and the
/// outputs are the marked steps (or the last).
fn check_plan(pipeline: &Pipeline, keep: Keep) {
    let plan = compile(pipeline, keep).expect("a validated pipeline compiles");
    let want: usize = pipeline.steps.iter().map(|s| s.repeat as usize).sum();
    assert_eq!(plan.nodes.len(), want);
    assert!(plan.input_slot < plan.slots);
    let slot_of = |src: Source| match src {
        Source::Input => plan.input_slot,
        Source::Node(j) => plan.nodes[j].slot,
    };
    // (the first node after the frame was written, its slot, a reader)
    let mut lives = Vec::new();
    for (i, node) in plan.nodes.iter().enumerate() {
        assert!(node.slot < plan.slots);
        for &src in &node.inputs {
            let from = match src {
                Source::Input => 0,
                Source::Node(j) => {
                    assert!(j < i, "node {i} reads a later node {j}");
                    j + 1
                }
            };
            lives.push((from, slot_of(src), i));
        }
    }
    for (n, _) in &plan.reads {
        lives.push((n + 1, plan.nodes[*n].slot, plan.nodes.len()));
    }
    for (from, slot, until) in lives {
        // Up to and including the reader: no node writes its own input.
        for k in from..(until + 1).min(plan.nodes.len()) {
            assert!(
                plan.nodes[k].slot != slot,
                "node {k} overwrites slot {slot} before its read at {until}\n{plan}"
            );
        }
    }
    let marked: Vec<&str> = pipeline
        .steps
        .iter()
        .filter(|s| s.output)
        .map(|s| s.name.as_str())
        .collect();
    let outputs = plan.output_names();
    if marked.is_empty() {
        assert_eq!(outputs, [pipeline.steps.last().unwrap().name.as_str()]);
    } else {
        assert_eq!(outputs, marked);
    }
    if keep == Keep::Steps {
        assert_eq!(plan.reads.len(), pipeline.steps.len());
    }
    // Sizes may be refused, never panic; small plans run on the CPU, on a
    // tiny frame (wide blurs cost per pixel, and kernels are unoptimised here).
    let _ = (plan.describe(Size::new(37, 23)), plan.dot());
    let input = Size::new(11, 7);
    if let Ok(sizes) = plan.sizes(input)
        && plan.nodes.len() <= 32
        && sizes.iter().all(|s| s.pixels() <= 1 << 12)
    {
        let out = Engine::cpu()
            .run_frame(&plan, &test_frame(11, 7), 5)
            .unwrap();
        assert_eq!(out.len(), plan.reads.len());
    }
}

#[test]
fn random_pipelines_never_panic_and_compile_to_valid_plans() {
    let mut r = rng(16);
    let (cases, mut valid) = (400, 0);
    for case in 0..cases {
        let text = random_pipeline(&mut r);
        let parsed = std::panic::catch_unwind(|| Pipeline::parse(&text, "random.ron"));
        let parsed = parsed.unwrap_or_else(|_| panic!("case {case} panicked parsing:\n{text}"));
        let Ok(pipeline) = parsed else { continue };
        valid += 1;
        for keep in [Keep::Outputs, Keep::Steps] {
            let checked = std::panic::catch_unwind(|| check_plan(&pipeline, keep));
            assert!(checked.is_ok(), "case {case} ({keep:?}):\n{text}");
        }
        let again = Pipeline::parse(&pipeline.to_string(), "again.ron");
        assert!(again.is_ok(), "case {case} does not read back:\n{pipeline}");
    }
    // The generator must reach the compiler often, not only the parser's errors.
    assert!(valid > cases / 5, "only {valid} of {cases} were valid");
}

/// One to four random edits: bytes flipped, inserted, deleted, chunks
/// repeated, tokens that break parsers spliced in, the tail cut.
fn mutate(r: &mut Rng, seed: &[u8]) -> Vec<u8> {
    const TOKENS: &[&str] = &[
        ":",
        "(",
        ")",
        "[",
        "]",
        "\"",
        ",",
        "inf",
        "NaN",
        "-1",
        "1e400",
        "99999999999999999999",
        "\u{feff}",
        "repeat: 100",
        "name: \"x\"",
        "- ",
        "{",
        "}",
        "&a",
        "*a",
        "!!",
        "\n",
        "é",
    ];
    let mut b = seed.to_vec();
    for _ in 0..1 + r.below(4) {
        let at = if b.is_empty() {
            0
        } else {
            r.below(b.len() as u32) as usize
        };
        match r.below(6) {
            0 if !b.is_empty() => b[at] ^= 1 << r.below(8),
            1 => b.insert(at, r.next_u32() as u8),
            2 if !b.is_empty() => {
                let end = (at + 1 + r.below(16) as usize).min(b.len());
                b.drain(at..end);
            }
            3 => {
                let end = (at + 1 + r.below(64) as usize).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            4 => {
                let token = pick(r, TOKENS).as_bytes().to_vec();
                b.splice(at..at, token);
            }
            _ => b.truncate(at),
        }
    }
    b
}

fn files(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Mutated pipeline files and plain random bytes, as RON and as YAML: an
/// error or a pipeline that compiles, never a panic.
#[test]
fn random_bytes_as_a_pipeline_file_never_panic() {
    let mut r = rng(7);
    for (ext, seeds) in [
        ("ron", files("graphs", "ron")),
        ("yaml", files("tests/yaml", "yaml")),
    ] {
        assert!(!seeds.is_empty());
        let mut valid = 0;
        for case in 0..1500 {
            let bytes = if case % 10 == 0 {
                (0..r.below(200)).map(|_| r.next_u32() as u8).collect()
            } else {
                {
                    let seed = r.below(seeds.len() as u32) as usize;
                    mutate(&mut r, &seeds[seed])
                }
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let run = std::panic::catch_unwind(|| {
                let parsed = if ext == "ron" {
                    Pipeline::parse(&text, "mutated.ron")
                } else {
                    yaml::import(&text, "mutated.yaml").map(|i| i.pipeline)
                };
                if let Ok(p) = &parsed {
                    check_plan(p, Keep::Outputs);
                }
                parsed.is_ok()
            });
            match run {
                Ok(ok) => valid += usize::from(ok),
                Err(_) => panic!("{ext} case {case}:\n{text}"),
            }
        }
        // Enough mutations (a changed number, a repeated step) stay valid
        // for the compiler and the CPU to see them too.
        assert!(valid > 50, "{ext}: only {valid} parsed");
    }
}

/// A small image encoded in every format we decode.
fn encoded_seeds() -> Vec<Vec<u8>> {
    use image::ImageFormat::*;
    let rgb = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(13, 9, |x, y| {
        image::Rgb([(x * 19) as u8, (y * 27) as u8, (x * y) as u8])
    }));
    let rgba = image::DynamicImage::ImageRgba8(rgb.to_rgba8());
    let gray = image::DynamicImage::ImageLuma8(rgb.to_luma8());
    let mut seeds = Vec::new();
    for (image, format) in [
        (&rgb, Png),
        (&rgba, Png),
        (&gray, Png),
        (&rgb, Jpeg),
        (&gray, Jpeg),
        (&rgb, Bmp),
        (&rgb, Tiff),
        (&rgba, WebP),
        (&rgba, Gif),
    ] {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        seeds.push(bytes.into_inner());
    }
    seeds
}

/// Mutated images of every format and random bytes through our decoding:
/// an error or a frame, never a panic.
#[test]
fn random_bytes_as_an_image_never_panic() {
    let mut r = rng(23);
    let seeds = encoded_seeds();
    let mut decoded = 0;
    for case in 0..2000 {
        let bytes = if case % 10 == 0 {
            (0..r.below(300)).map(|_| r.next_u32() as u8).collect()
        } else {
            {
                let seed = r.below(seeds.len() as u32) as usize;
                mutate(&mut r, &seeds[seed])
            }
        };
        let run = std::panic::catch_unwind(|| {
            stillgraph::io::decode_bytes(&bytes, Path::new("mutated"))
                .ok()
                .map(|image| stillgraph::io::to_frame(&image))
        });
        match run {
            Ok(Some(_)) => decoded += 1,
            Ok(None) => {}
            Err(_) => panic!("case {case} panicked: {bytes:?}"),
        }
    }
    // Some mutations (a flipped pixel byte) still decode: the test reaches
    // past the headers.
    assert!(decoded > 100, "only {decoded} decoded");
}

#[test]
fn a_wrong_type_in_yaml_names_its_step_and_parameter() {
    let text = "pipeline:\n  steps:\n    - name: soft\n      operation: blur_gaussian\n      params: {sigma: true}\n";
    let Err(e) = yaml::import(text, "t.yaml") else {
        panic!("a boolean sigma imported")
    };
    let e = e.to_string();
    assert!(
        e.starts_with("t.yaml:3: step \"soft\" (blur_gaussian): ")
            && e.contains(": parameter \"sigma\": "),
        "{e}"
    );
}

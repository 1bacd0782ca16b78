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
    run_batch(engine, &plan(ANIMATED), inputs, &opts, |_| {}).unwrap()
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

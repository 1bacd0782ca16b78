//! The streaming API: frames pushed in, outputs pulled in push order, the
//! same frames as `run_frame` gives, on one engine and on several.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{gpu_engine, plan, test_frame};
use stillgraph::engine::Gpus;
use stillgraph::stream::Stream;
use stillgraph::{Engine, Frame, Plan};

/// Damage that depends on the frame index, two outputs.
fn graph() -> Plan {
    plan(
        "(steps: [(name: \"a\", op: salt_pepper(amount: 0.05, salt_vs_pepper: 0.5), animate: true), (name: \"b\", op: blur_gaussian(sigma: 1.2), output: true), (name: \"c\", op: saturation(mode: fixed, value: -0.5), inputs: [\"a\"], output: true)])",
    )
}

fn frames() -> Vec<Frame> {
    (0..9).map(|i| test_frame(31 + i * 5, 17 + i * 3)).collect()
}

/// Streams `frames` (index 10 + position) through `engines` with room for
/// `capacity`, pulling only when a push is refused; returns outputs in
/// pull order and how often `notify` was called.
fn stream(
    engines: &mut [Engine],
    plan: &Plan,
    frames: &[Frame],
    capacity: usize,
) -> (Vec<Vec<Frame>>, usize) {
    let notified = Arc::new(AtomicUsize::new(0));
    let mut outs = Vec::new();
    std::thread::scope(|scope| {
        let n = notified.clone();
        let mut s = Stream::new(scope, engines, plan, capacity, move || {
            n.fetch_add(1, Ordering::Relaxed);
        });
        let mut expect_seq = 0;
        let mut take = |out: stillgraph::stream::Output| {
            assert_eq!(out.seq, expect_seq, "outputs in push order");
            expect_seq += 1;
            outs.push(out.frames.unwrap());
        };
        for (i, frame) in frames.iter().enumerate() {
            let mut frame = frame.clone();
            loop {
                match s.push(frame, 10 + i as u32) {
                    Ok(_) => break,
                    Err(back) => {
                        assert_eq!(s.in_flight(), capacity, "refused only when full");
                        frame = back;
                        take(s.pull().expect("a frame is in flight"));
                    }
                }
            }
        }
        while let Some(out) = s.pull() {
            take(out);
        }
        assert_eq!(s.in_flight(), 0);
        assert!(s.try_pull().is_none());
    });
    (outs, notified.load(Ordering::Relaxed))
}

fn one_by_one(engine: &mut Engine, plan: &Plan, frames: &[Frame]) -> Vec<Vec<Frame>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| engine.run_frame(plan, f, 10 + i as u32).unwrap())
        .collect()
}

#[test]
fn a_stream_on_the_cpu_gives_what_run_frame_gives_in_order() {
    let (plan, frames) = (graph(), frames());
    let want = one_by_one(&mut Engine::cpu(), &plan, &frames);
    for capacity in [1, 2, 5] {
        let (got, notified) = stream(&mut [Engine::cpu()], &plan, &frames, capacity);
        assert!(got == want, "capacity {capacity}");
        assert_eq!(notified, 0, "one engine finishes frames at their push");
    }
}

#[test]
fn a_stream_on_several_gpu_engines_gives_what_one_gives_in_order() {
    let Some(mut gpu) = gpu_engine() else { return };
    let (plan, frames) = (graph(), frames());
    let want = one_by_one(&mut gpu, &plan, &frames);
    let (got, _) = stream(std::slice::from_mut(&mut gpu), &plan, &frames, 3);
    assert!(got == want, "one GPU engine");
    let mut three = Engine::gpus(Gpus::First(1), 3, true).unwrap();
    let (got, notified) = stream(&mut three, &plan, &frames, 4);
    assert!(got == want, "three GPU engines");
    assert_eq!(notified, frames.len(), "one notice an output");
}

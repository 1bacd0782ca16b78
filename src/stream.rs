//! A stream of frames through one plan, for tools that bring their own
//! frames (a video decoder, a camera) and for the batch runner: push frames
//! in, pull outputs out in push order, with a bound on the frames in flight.
//!
//! On one engine, a push runs the frame there and then (on the caller's
//! thread, so the CPU backend uses the caller's rayon pool). On several
//! engines (one or more per GPU, from [`Engine::gpus`]) each has a thread of
//! its own in the caller's [`std::thread::scope`], and a push returns at
//! once: the caller decodes the next frame while the engines work. Neither
//! `push` nor `try_pull` ever waits, and `notify` is called whenever an
//! output becomes ready, so the stream can be driven from an event loop or
//! an async executor (wake the task from `notify`) as well as by `pull`.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::thread::Scope;
use std::time::{Duration, Instant};

use crate::engine::{Engine, RunError};
use crate::frame::Frame;
use crate::graph::Plan;

/// One frame's outputs.
#[derive(Debug)]
pub struct Output {
    /// The frame's place in push order, from 0.
    pub seq: u64,
    /// The frames of `plan.reads` (the outputs first), or why the frame failed.
    pub frames: Result<Vec<Frame>, RunError>,
    /// Time the engine spent on the frame.
    pub took: Duration,
}

/// Frames in flight through one plan, outputs in push order.
pub struct Stream<'scope> {
    plan: &'scope Plan,
    engines: Engines<'scope>,
    /// Finished outputs not yet pulled, by `seq`.
    ready: BTreeMap<u64, Output>,
    pushed: u64,
    pulled: u64,
    capacity: usize,
}

enum Engines<'scope> {
    One(&'scope mut Engine),
    Many {
        /// Each engine's queue and how many of its frames are unpulled.
        work: Vec<(mpsc::Sender<Job>, usize)>,
        results: mpsc::Receiver<(usize, Output)>,
    },
}

/// A frame for an engine thread: its `seq`, the frame and its index for
/// `animate` steps.
type Job = (u64, Frame, u32);

impl<'scope> Stream<'scope> {
    /// A stream over `engines` (at least one) holding at most `capacity`
    /// frames (at least 1) between push and pull. Engine threads, if any,
    /// live in `scope` until the stream is dropped.
    pub fn new<'env>(
        scope: &'scope Scope<'scope, 'env>,
        engines: &'scope mut [Engine],
        plan: &'scope Plan,
        capacity: usize,
        notify: impl Fn() + Send + Sync + Clone + 'scope,
    ) -> Self {
        let engines = match engines {
            [engine] => Engines::One(engine),
            many => {
                let (done_tx, results) = mpsc::channel();
                let work = many
                    .iter_mut()
                    .enumerate()
                    .map(|(e, engine)| {
                        let (work_tx, work_rx) = mpsc::channel::<Job>();
                        let (done_tx, notify) = (done_tx.clone(), notify.clone());
                        scope.spawn(move || {
                            for (seq, frame, index) in work_rx {
                                let start = Instant::now();
                                let frames = engine.run_frame(plan, &frame, index);
                                let took = start.elapsed();
                                let output = Output { seq, frames, took };
                                if done_tx.send((e, output)).is_err() {
                                    return;
                                }
                                notify();
                            }
                        });
                        (work_tx, 0)
                    })
                    .collect();
                Engines::Many { work, results }
            }
        };
        Self {
            plan,
            engines,
            ready: BTreeMap::new(),
            pushed: 0,
            pulled: 0,
            capacity: capacity.max(1),
        }
    }

    /// Frames pushed and not yet pulled.
    pub fn in_flight(&self) -> usize {
        (self.pushed - self.pulled) as usize
    }

    /// Hands `frame` over as the next in order; `index` is its index for
    /// `animate` steps. Gives the frame back when `capacity` frames are in
    /// flight: pull one first.
    pub fn push(&mut self, frame: Frame, index: u32) -> Result<u64, Frame> {
        if self.in_flight() >= self.capacity {
            return Err(frame);
        }
        let seq = self.pushed;
        self.pushed += 1;
        match &mut self.engines {
            Engines::One(engine) => {
                let start = Instant::now();
                let frames = engine.run_frame(self.plan, &frame, index);
                let took = start.elapsed();
                self.ready.insert(seq, Output { seq, frames, took });
            }
            Engines::Many { work, .. } => {
                // The least busy engine; all are alive while the stream is.
                if let Some((queue, busy)) = work.iter_mut().min_by_key(|(_, busy)| *busy) {
                    *busy += 1;
                    let _ = queue.send((seq, frame, index));
                }
            }
        }
        Ok(seq)
    }

    /// The next output in push order if it is ready; never waits.
    pub fn try_pull(&mut self) -> Option<Output> {
        if let Engines::Many { work, results } = &mut self.engines {
            while let Ok(done) = results.try_recv() {
                arrived(work, &mut self.ready, done);
            }
        }
        self.take_next()
    }

    /// The next output in push order, waiting for it; `None` when nothing
    /// is in flight.
    pub fn pull(&mut self) -> Option<Output> {
        // One engine finishes each frame at its push: nothing to wait for.
        if let Engines::Many { work, results } = &mut self.engines {
            while self.pushed > self.pulled && !self.ready.contains_key(&self.pulled) {
                let Ok(done) = results.recv() else {
                    break;
                };
                arrived(work, &mut self.ready, done);
            }
        }
        self.take_next()
    }

    fn take_next(&mut self) -> Option<Output> {
        let output = self.ready.remove(&self.pulled)?;
        self.pulled += 1;
        Some(output)
    }
}

/// An engine thread's output: its engine holds one frame less.
fn arrived(
    work: &mut [(mpsc::Sender<Job>, usize)],
    ready: &mut BTreeMap<u64, Output>,
    (e, output): (usize, Output),
) {
    work[e].1 -= 1;
    ready.insert(output.seq, output);
}

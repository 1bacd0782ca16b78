//! Runs a plan over a batch of files: frames are decoded and encoded on all
//! cores while the backend works through them in order (see [`run_batch`]).
//! A bad frame costs only itself: it is reported and the batch goes on.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{
    ColorKind, Encoding, Format, IoError, decode_bytes, decode_file, from_frame,
    remove_stale_temporaries, to_frame, write_atomic,
};
use crate::Error;
use crate::engine::Engine;
use crate::frame::Frame;
use crate::graph::Plan;

/// One input frame.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    /// An encoded image in memory, named for outputs and messages.
    Bytes {
        name: PathBuf,
        bytes: &'static [u8],
    },
}

impl Input {
    /// The path the input is known by: its file, or its label.
    pub fn name(&self) -> &Path {
        match self {
            Input::File(p) => p,
            Input::Bytes { name, .. } => name,
        }
    }

    /// Decodes the input into a frame and the layout to restore.
    pub fn decode(&self) -> Result<(Frame, ColorKind), IoError> {
        let image = match self {
            Input::File(p) => decode_file(p)?,
            Input::Bytes { name, bytes } => decode_bytes(bytes, name)?,
        };
        Ok(to_frame(&image))
    }
}

/// Where and how a batch writes.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    pub out_dir: PathBuf,
    pub encoding: Encoding,
    /// The frame index (what `animate` steps draw from) of the first
    /// input: a shard of a larger set passes where its inputs start, so its
    /// frames come out as they would in one run of the whole set.
    pub first_index: u32,
    /// Leave inputs whose every output exists already (a restarted shard
    /// finishes only what is missing; writes are atomic, so an output that
    /// exists is whole).
    pub skip_existing: bool,
}

/// The share of `n` inputs that shard `index` of `count` takes: contiguous
/// and balanced (sizes differ by one at most), so the shards together take
/// every input once, in order.
pub fn shard_range(n: usize, index: u32, count: u32) -> std::ops::Range<usize> {
    let (k, count) = (index as usize, count.max(1) as usize);
    n * k / count..n * (k + 1) / count
}

/// What happened to one input.
#[derive(Debug)]
pub enum Event<'a> {
    Written {
        input: &'a Path,
        files: &'a [PathBuf],
    },
    Failed {
        input: &'a Path,
        error: &'a Error,
    },
    /// Every output existed already (with [`BatchOptions::skip_existing`]).
    Skipped {
        input: &'a Path,
    },
}

/// The outcome of a batch.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub written: usize,
    pub skipped: usize,
    pub failed: Vec<(PathBuf, Error)>,
    /// Time spent in each stage, summed over frames (decode and encode run
    /// on many threads at once, so these can add up to more than the wall
    /// time).
    pub decode: Duration,
    pub compute: Duration,
    pub encode: Duration,
}

/// Output paths of one input: a single output goes to `OUT/<stem>.<ext>`;
/// with several outputs, and for saved intermediates, each step's frame goes
/// to `OUT/<step>/<stem>.<ext>`. The stem is kept as the OS gave it, so
/// names that are not UTF-8 survive unchanged.
pub fn output_paths(plan: &Plan, input: &Path, opts: &BatchOptions) -> Vec<PathBuf> {
    let file = output_name(input, opts.encoding.format);
    plan.reads
        .iter()
        .enumerate()
        .map(|(i, (_, step))| {
            if plan.outputs == 1 && i == 0 {
                opts.out_dir.join(&file)
            } else {
                opts.out_dir.join(step).join(&file)
            }
        })
        .collect()
}

/// `<stem>.<ext>`: the name of an input's output file in any directory.
pub fn output_name(input: &Path, format: Format) -> std::ffi::OsString {
    let mut file = input.file_stem().unwrap_or_default().to_os_string();
    file.push(".");
    file.push(format.extension());
    file
}

/// Refuses, before any frame is read, a batch that would write over one of
/// its inputs (the same file reached through `.`, `..`, a symbolic or a hard
/// link included) or write two outputs to one path, and an output directory
/// that is a file.
pub fn check_outputs(plan: &Plan, inputs: &[Input], opts: &BatchOptions) -> Result<(), IoError> {
    if opts.out_dir.exists() && !opts.out_dir.is_dir() {
        return Err(IoError::OutputNotDirectory(opts.out_dir.clone()));
    }
    let files: Vec<(&Path, FileId)> = inputs
        .iter()
        .filter_map(|input| match input {
            Input::File(p) => FileId::of(p).map(|id| (p.as_path(), id)),
            Input::Bytes { .. } => None,
        })
        .collect();
    let mut writers: HashMap<PathBuf, &Path> = HashMap::new();
    for input in inputs {
        for output in output_paths(plan, input.name(), opts) {
            if let Some(id) = FileId::of(&output)
                && let Some((path, _)) = files.iter().find(|(_, f)| *f == id)
            {
                return Err(IoError::OverwritesInput {
                    output,
                    input: path.to_path_buf(),
                });
            }
            if let Some(first) = writers.insert(same_name_key(&output), input.name()) {
                return Err(IoError::SameOutput {
                    first: first.to_path_buf(),
                    second: input.name().to_path_buf(),
                    output,
                });
            }
        }
    }
    Ok(())
}

/// What makes two paths one file: device and inode where there are inodes
/// (hard links too), else the canonical path. Only existing files have one;
/// a path that does not exist yet cannot be an input.
#[derive(Debug, PartialEq, Eq)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Canonical(PathBuf),
}

impl FileId {
    fn of(path: &Path) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(path).ok()?;
            Some(FileId::Inode(meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        {
            std::fs::canonicalize(path).ok().map(FileId::Canonical)
        }
    }
}

/// Output paths compared as the file system will: without case where it
/// ignores case (macOS and Windows by default), so `A.png` and `a.png` clash there.
fn same_name_key(path: &Path) -> PathBuf {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        PathBuf::from(path.to_string_lossy().to_lowercase())
    } else {
        path.to_path_buf()
    }
}

/// What a codec task reports back to the batch's loop.
enum Done {
    Decoded(usize, Result<(Frame, ColorKind), Error>, Duration),
    Encoded(usize, Result<Vec<PathBuf>, Error>, Duration),
    Skipped(usize),
}

/// What became of one input.
enum Outcome {
    Written(Vec<PathBuf>),
    Failed(Error),
    Skipped,
}

/// Runs `plan` over `inputs`, calling `on_event` once per input as it
/// completes, in input order. Refuses the whole batch up front, writing
/// nothing, when [`check_outputs`] does.
///
/// Decoding and encoding run as tasks on the rayon pool the call is made
/// from (the global one unless the caller installs another), the same
/// threads the CPU backend's kernels use, so codecs and kernels share the
/// cores without oversubscribing them; the backend runs frames one at a
/// time, in order, on the calling thread. At most `2 × threads + 2` frames
/// are between decode and their event at once, so memory stays flat however
/// long the batch is. A decoder or encoder that panics costs only its frame.
pub fn run_batch(
    engine: &mut Engine,
    plan: &Plan,
    inputs: &[Input],
    opts: &BatchOptions,
    mut on_event: impl FnMut(Event),
) -> Result<BatchReport, IoError> {
    check_outputs(plan, inputs, opts)?;
    let mut dirs: Vec<PathBuf> = inputs
        .iter()
        .take(1)
        .flat_map(|input| output_paths(plan, input.name(), opts))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    dirs.dedup();
    dirs.iter().for_each(|d| remove_stale_temporaries(d));
    let mut report = BatchReport::default();
    let window = 2 * rayon::current_num_threads() + 2;
    let (tx, rx) = mpsc::channel::<Done>();
    rayon::in_place_scope(|s| {
        let decode = |i: usize| {
            let tx = tx.clone();
            let input = &inputs[i];
            if opts.skip_existing
                && output_paths(plan, input.name(), opts)
                    .iter()
                    .all(|p| p.is_file())
            {
                let _ = tx.send(Done::Skipped(i));
                return;
            }
            s.spawn(move |_| {
                let start = Instant::now();
                let decoded = guarded(input.name(), "decoding", || {
                    input.decode().map_err(Error::from)
                });
                let _ = tx.send(Done::Decoded(i, decoded, start.elapsed()));
            });
        };
        let mut next_decode = inputs.len().min(window);
        (0..next_decode).for_each(decode);
        let mut decoded = BTreeMap::new();
        let mut encoded = BTreeMap::new();
        let (mut next_compute, mut next_event) = (0, 0);
        while next_event < inputs.len() {
            match next_done(&rx) {
                Some(Done::Decoded(i, result, took)) => {
                    report.decode += took;
                    decoded.insert(i, Some(result));
                }
                Some(Done::Encoded(i, outcome, took)) => {
                    report.encode += took;
                    encoded.insert(i, outcome.map_or_else(Outcome::Failed, Outcome::Written));
                }
                Some(Done::Skipped(i)) => {
                    decoded.insert(i, None);
                }
                None => break, // unreachable: `tx` lives until the loop ends
            }
            // In input order; a skipped input (`None`) goes straight to its event.
            while let Some(entry) = decoded.remove(&next_compute) {
                let i = next_compute;
                next_compute += 1;
                let Some(result) = entry else {
                    encoded.insert(i, Outcome::Skipped);
                    continue;
                };
                let name = inputs[i].name();
                let start = Instant::now();
                let computed = result.and_then(|(frame, kind)| {
                    // The frame's index in the whole set, for `animate` steps.
                    let index = opts.first_index + i as u32;
                    let frames =
                        engine
                            .run_frame(plan, &frame, index)
                            .map_err(|e| Error::Frame {
                                path: name.to_path_buf(),
                                source: e,
                            })?;
                    Ok((frames, kind))
                });
                report.compute += start.elapsed();
                match computed {
                    Ok((frames, kind)) => {
                        let tx = tx.clone();
                        s.spawn(move |_| {
                            let start = Instant::now();
                            let written = guarded(name, "encoding", || {
                                write_outputs(plan, name, opts, &frames, kind)
                            });
                            let _ = tx.send(Done::Encoded(i, written, start.elapsed()));
                        });
                    }
                    Err(error) => {
                        encoded.insert(i, Outcome::Failed(error));
                    }
                }
            }
            while let Some(outcome) = encoded.remove(&next_event) {
                settle(
                    &mut report,
                    &mut on_event,
                    inputs[next_event].name(),
                    outcome,
                );
                next_event += 1;
                if next_decode < inputs.len() {
                    decode(next_decode);
                    next_decode += 1;
                }
            }
        }
    });
    Ok(report)
}

/// The next report of a codec task. Called from a thread of the pool (in
/// `ThreadPool::install`, say), it runs pool work while it waits, so even a
/// pool of one thread gets through its tasks; from any other thread it blocks.
fn next_done(rx: &mpsc::Receiver<Done>) -> Option<Done> {
    loop {
        match rx.try_recv() {
            Ok(done) => return Some(done),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => {}
            Some(rayon::Yield::Idle) => {
                if let Ok(done) = rx.recv_timeout(Duration::from_millis(1)) {
                    return Some(done);
                }
            }
            None => return rx.recv().ok(),
        }
    }
}

/// Encodes and writes one input's output frames.
fn write_outputs(
    plan: &Plan,
    input: &Path,
    opts: &BatchOptions,
    frames: &[Frame],
    kind: ColorKind,
) -> Result<Vec<PathBuf>, Error> {
    let paths = output_paths(plan, input, opts);
    for (frame, path) in frames.iter().zip(&paths) {
        write_atomic(&from_frame(frame, kind), path, &opts.encoding)?;
    }
    Ok(paths)
}

/// Runs a codec task, turning a panic inside it (a decoder bug on a
/// hostile file, say) into that frame's error.
fn guarded<T>(
    input: &Path,
    stage: &'static str,
    task: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(task)).unwrap_or_else(|_| {
        Err(Error::Io(IoError::Panicked {
            path: input.to_path_buf(),
            stage,
        }))
    })
}

/// Reports one input's outcome.
fn settle(
    report: &mut BatchReport,
    on_event: &mut impl FnMut(Event),
    input: &Path,
    outcome: Outcome,
) {
    match outcome {
        Outcome::Written(files) => {
            on_event(Event::Written {
                input,
                files: &files,
            });
            report.written += 1;
        }
        Outcome::Failed(error) => {
            on_event(Event::Failed {
                input,
                error: &error,
            });
            report.failed.push((input.to_path_buf(), error));
        }
        Outcome::Skipped => {
            on_event(Event::Skipped { input });
            report.skipped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shard_range;

    #[test]
    fn shards_take_every_input_once_in_balanced_contiguous_runs() {
        for n in [0, 1, 2, 7, 10, 100] {
            for count in [1, 3, 7, 16] {
                let ranges: Vec<_> = (0..count).map(|k| shard_range(n, k, count)).collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[count as usize - 1].end, n);
                for pair in ranges.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "n {n}, count {count}");
                }
                let sizes: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "n {n}, count {count}: {sizes:?}");
            }
        }
        assert_eq!(shard_range(10, 1, 3), 3..6);
    }
}

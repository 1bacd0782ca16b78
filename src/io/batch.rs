//! Runs a plan over a batch of frames, from image files or a video: frames
//! are decoded and encoded on all cores while the backend works through them
//! in order (see [`run_batch`]).
//! A bad frame costs only itself: it is reported and the batch goes on.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::video::{VideoError, VideoOutput, VideoReader, VideoWriter};
use super::{
    ColorKind, Encoding, Format, IoError, Note, decode_file_noted, decode_noted, from_frame,
    remove_stale_temporaries, to_frame, write_atomic,
};
use crate::Error;
use crate::engine::Engine;
use crate::frame::Frame;
use crate::graph::Plan;
use crate::stream::Stream;

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

    /// Decodes the input into a frame and the layout to restore, with what
    /// the user should hear of the decoding.
    pub fn decode(&self) -> Result<(Frame, ColorKind, Vec<Note>), IoError> {
        let (image, notes) = match self {
            Input::File(p) => decode_file_noted(p)?,
            Input::Bytes { name, bytes } => decode_noted(bytes, name)?,
        };
        let (frame, kind) = to_frame(&image);
        Ok((frame, kind, notes))
    }
}

/// Where a batch's frames come from.
pub enum Frames<'a> {
    /// Images, decoded in parallel.
    Images(&'a [Input]),
    /// A video's sampled frames, in order; each frame's index (for `animate`
    /// steps) is its number in the source. Shard `(K, N)` takes the K-th,
    /// (K+N)-th, … sampled frame: a video's frame count is known only once it
    /// has been decoded, so shards interleave where image sets are split.
    Video {
        reader: VideoReader,
        shard: (u32, u32),
    },
}

/// Where and how a batch writes.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Image outputs go here (unless `video` is set).
    pub out_dir: PathBuf,
    pub encoding: Encoding,
    /// Write one video of the outputs, in order, instead of image files.
    pub video: Option<VideoOutput>,
    /// The frame index (what `animate` steps draw from) of the first
    /// input: a shard of a larger set passes where its inputs start, so its
    /// frames come out as they would in one run of the whole set.
    pub first_index: u32,
    /// Leave inputs whose every output exists already (a restarted shard
    /// finishes only what is missing; writes are atomic, so an output that
    /// exists is whole).
    pub skip_existing: bool,
    /// Frames at most between the start of their decoding and their event
    /// (default `threads + 2`): fewer save memory (a 1080p frame is
    /// about 8 MB here, and more while it is decoded or encoded), more keep
    /// the codec threads busier when frames differ in cost.
    pub in_flight: Option<usize>,
    /// Fail a frame whose decoder went on past damage (a truncated JPEG)
    /// instead of writing it; either way an [`Event::Note`] says so.
    pub fail_on_damage: bool,
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
    /// Something about an input's decoding (damage worked around, a
    /// conversion to 8 bits, an animation cut to its first frame), just
    /// before the input's own event.
    Note {
        input: &'a Path,
        note: &'a Note,
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

/// Output paths of one input, named by its stem (see [`stem_of`]): a single
/// output goes to `OUT/<stem>.<ext>`; with several outputs, and for saved
/// intermediates, each step's frame goes to `OUT/<step>/<stem>.<ext>`.
pub fn output_paths(plan: &Plan, stem: &OsStr, opts: &BatchOptions) -> Vec<PathBuf> {
    let file = output_file(stem, opts.encoding.format);
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

/// What an input's outputs are named after: its file name without the
/// ending, kept as the OS gave it so that names that are not UTF-8 survive.
pub fn stem_of(input: &Path) -> &OsStr {
    input.file_stem().unwrap_or_default()
}

/// `<stem>.<ext>`: the name of an output file in any directory.
pub fn output_file(stem: &OsStr, format: Format) -> OsString {
    let mut file = stem.to_os_string();
    file.push(".");
    file.push(format.extension());
    file
}

/// Refuses, before any frame is read, a batch that would write over one of
/// its inputs (the same file reached through `.`, `..`, a symbolic or a hard
/// link included) or write two outputs to one path, an output directory that
/// is a file, and a video output for a pipeline of several outputs.
pub fn check_outputs(plan: &Plan, frames: &Frames, opts: &BatchOptions) -> Result<(), IoError> {
    let (inputs, video_in) = match frames {
        Frames::Images(inputs) => (*inputs, None),
        Frames::Video { reader, .. } => (&[][..], Some(reader.path())),
    };
    let files: Vec<(&Path, FileId)> = inputs
        .iter()
        .filter_map(|input| match input {
            Input::File(p) => Some(p.as_path()),
            Input::Bytes { .. } => None,
        })
        .chain(video_in)
        .filter_map(|p| FileId::of(p).map(|id| (p, id)))
        .collect();
    let overwrites = |output: &Path| {
        let id = FileId::of(output)?;
        let (input, _) = files.iter().find(|(_, f)| *f == id)?;
        Some(IoError::OverwritesInput {
            output: output.to_path_buf(),
            input: input.to_path_buf(),
        })
    };
    if let Some(video) = &opts.video {
        VideoOutput::check(&video.path, plan)?;
        return overwrites(&video.path).map_or(Ok(()), Err);
    }
    if opts.out_dir.exists() && !opts.out_dir.is_dir() {
        return Err(IoError::OutputNotDirectory(opts.out_dir.clone()));
    }
    // A video's frames are named `<stem>_<number>.<image ending>`: never a
    // video's name, so never its input's.
    let mut writers: HashMap<PathBuf, &Path> = HashMap::new();
    for input in inputs {
        for output in output_paths(plan, stem_of(input.name()), opts) {
            if let Some(refused) = overwrites(&output) {
                return Err(refused);
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

/// One frame of a batch as events and outputs know it.
#[derive(Debug, Clone)]
struct Item {
    /// The input file, or `clip.mp4 frame 12`.
    name: PathBuf,
    /// Outputs are `<stem>.<ext>`.
    stem: OsString,
    /// The frame's index in the whole set, for `animate` steps.
    index: u32,
    notes: Vec<Note>,
}

/// What a codec task or the video reader reports back to the batch's loop.
enum Done {
    Decoded(usize, Item, Result<(Frame, ColorKind), Error>, Duration),
    /// An engine thread has an output ready in the stream.
    Computed,
    Encoded(usize, Result<Vec<PathBuf>, Error>, Duration),
    Skipped(usize, Item),
    /// There is no item `usize` or after it; with the error that ended the
    /// video early, if one did.
    End(usize, Option<(PathBuf, Error)>),
}

/// What became of one input.
enum Outcome {
    Written(Vec<PathBuf>),
    Failed(Error),
    Skipped,
}

/// Runs `plan` over `frames`, calling `on_event` once per frame as it
/// completes, in input order. Refuses the whole batch up front, writing
/// nothing, when [`check_outputs`] does.
///
/// Decoding and encoding image files run as tasks on the rayon pool the call
/// is made from (the global one unless the caller installs another), the
/// same threads the CPU backend's kernels use, so codecs and kernels share
/// the cores without oversubscribing them; a video is read, and a video
/// written, by ffmpeg processes fed from threads of their own. Frames go
/// through a [`Stream`]: one engine runs them in order on the calling
/// thread. At most [`BatchOptions::in_flight`] frames are between decode
/// and their event at once, so memory stays flat however long the batch
/// is. A decoder or encoder that panics costs only its frame.
///
/// With [`BatchOptions::video`], `Written` says that a frame went to the
/// encoder; the video takes its name once the batch ends, and a failure then
/// is one more `Failed` event, for the video's path.
pub fn run_batch(
    engine: &mut Engine,
    plan: &Plan,
    frames: Frames,
    opts: &BatchOptions,
    on_event: impl FnMut(Event),
) -> Result<BatchReport, IoError> {
    run_batch_on(std::slice::from_mut(engine), plan, frames, opts, on_event)
}

/// [`run_batch`] on several engines at once (one or more per GPU, from
/// [`Engine::gpus`]): each frame goes to the next engine that is free, on
/// a thread of its own, and outputs and events keep input order, so they
/// are what one engine gives. With one engine, frames run on the calling
/// thread (the CPU backend's kernels then use the caller's rayon pool).
pub fn run_batch_on(
    engines: &mut [Engine],
    plan: &Plan,
    frames: Frames,
    opts: &BatchOptions,
    mut on_event: impl FnMut(Event),
) -> Result<BatchReport, IoError> {
    check_outputs(plan, &frames, opts)?;
    let mut dirs: Vec<PathBuf> = match &opts.video {
        Some(video) => vec![video.path.clone()],
        None => output_paths(plan, OsStr::new("any"), opts),
    }
    .iter()
    .filter_map(|p| p.parent().map(Path::to_path_buf))
    .collect();
    dirs.dedup();
    dirs.iter().for_each(|d| remove_stale_temporaries(d));
    let mut report = BatchReport::default();
    let window = opts
        .in_flight
        .unwrap_or(rayon::current_num_threads() + 2)
        .max(1);
    let (tx, rx) = mpsc::channel::<Done>();
    std::thread::scope(|threads| {
        let (inputs, credits) = match frames {
            Frames::Images(inputs) => (inputs, None),
            Frames::Video { reader, shard } => {
                let (credit_tx, credit_rx) = mpsc::channel();
                let tx = tx.clone();
                threads.spawn(move || read_video(reader, shard, plan, opts, credit_rx, tx));
                (&[][..], Some(credit_tx))
            }
        };
        let (to_video, video) = match &opts.video {
            Some(out) => {
                let (frame_tx, frame_rx) = mpsc::sync_channel(window);
                let tx = tx.clone();
                (
                    Some(frame_tx),
                    Some(threads.spawn(move || write_video(out, frame_rx, tx))),
                )
            }
            None => (None, None),
        };
        let wake = tx.clone();
        let mut stream = Stream::new(threads, engines, plan, window, move || {
            let _ = wake.send(Done::Computed);
        });
        // Which batch item each frame in the stream is, in push order.
        let mut pushed = VecDeque::new();
        rayon::in_place_scope(|s| {
            let request = |i: usize| {
                if let Some(credits) = &credits {
                    // The reader may have ended: then the credit has no taker.
                    let _ = credits.send(i);
                    return;
                }
                let Some(input) = inputs.get(i) else { return };
                let mut item = Item {
                    name: input.name().to_path_buf(),
                    stem: stem_of(input.name()).to_os_string(),
                    index: opts.first_index + i as u32,
                    notes: Vec::new(),
                };
                let tx = tx.clone();
                if opts.skip_existing && all_exist(plan, &item.stem, opts) {
                    let _ = tx.send(Done::Skipped(i, item));
                    return;
                }
                s.spawn(move |_| {
                    let start = Instant::now();
                    let decoded = guarded(input.name(), "decoding", || {
                        let (frame, kind, notes) = input.decode()?;
                        let damage = notes.iter().find(|n| n.is_damage());
                        if let (true, Some(note)) = (opts.fail_on_damage, damage) {
                            return Err(Error::Io(IoError::Damaged {
                                path: input.name().to_path_buf(),
                                note: note.clone(),
                            }));
                        }
                        item.notes = notes;
                        Ok((frame, kind))
                    });
                    let _ = tx.send(Done::Decoded(i, item, decoded, start.elapsed()));
                });
            };
            (0..window).for_each(request);
            let mut next_request = window;
            let mut end = credits.is_none().then_some(inputs.len());
            let mut ended_by = None;
            let mut items = BTreeMap::new();
            let mut decoded = BTreeMap::new();
            let mut computed = BTreeMap::new();
            let mut encoded = BTreeMap::new();
            let (mut next_compute, mut next_sink, mut next_event) = (0, 0, 0);
            while end.is_none_or(|n| next_event < n) {
                match next_done(&rx) {
                    Some(Done::Decoded(i, item, result, took)) => {
                        report.decode += took;
                        items.insert(i, item);
                        decoded.insert(i, Some(result));
                    }
                    Some(Done::Encoded(i, outcome, took)) => {
                        report.encode += took;
                        encoded.insert(i, outcome.map_or_else(Outcome::Failed, Outcome::Written));
                    }
                    Some(Done::Skipped(i, item)) => {
                        items.insert(i, item);
                        decoded.insert(i, None);
                    }
                    // An engine thread finished a frame: `try_pull` below takes it.
                    Some(Done::Computed) => {}
                    Some(Done::End(i, error)) => {
                        end = Some(i);
                        ended_by = error;
                    }
                    None => break, // unreachable: `tx` lives until the loop ends
                }
                // Into the stream and out again until neither moves: an output
                // pulled makes room for a frame that found the stream full.
                loop {
                    // In input order, into the stream; a skipped input (`None`)
                    // goes straight on to its event.
                    while let Some(entry) = decoded.remove(&next_compute) {
                        let i = next_compute;
                        match entry {
                            Some(Ok((frame, kind))) => {
                                if let Err(frame) = stream.push(frame, items[&i].index) {
                                    decoded.insert(i, Some(Ok((frame, kind))));
                                    break; // full: it waits for an output to be pulled
                                }
                                pushed.push_back((i, kind));
                            }
                            Some(Err(error)) => {
                                computed.insert(i, Some(Err(error)));
                            }
                            None => {
                                computed.insert(i, None);
                            }
                        }
                        next_compute += 1;
                    }
                    let mut moved = false;
                    while let Some(output) = stream.try_pull() {
                        moved = true;
                        report.compute += output.took;
                        let (i, kind) = pushed.pop_front().expect("one entry a push");
                        let result = output.frames.map_err(|e| Error::Frame {
                            path: items[&i].name.clone(),
                            source: e,
                        });
                        computed.insert(i, Some(result.map(|frames| (frames, kind))));
                    }
                    if !moved {
                        break;
                    }
                }
                // In input order (a video takes its frames in order), to the
                // encoders or the video; a skipped input to its event.
                while let Some(result) = computed.remove(&next_sink) {
                    let i = next_sink;
                    next_sink += 1;
                    let item = &items[&i];
                    let Some(result) = result else {
                        encoded.insert(i, Outcome::Skipped);
                        continue;
                    };
                    match result {
                        Ok((mut frames, _)) if to_video.is_some() => {
                            let frame = frames.swap_remove(0);
                            if let Some(to_video) = &to_video {
                                // Fails only if the writer thread is gone, which
                                // it is not before the channel closes.
                                let _ = to_video.send((i, item.name.clone(), frame));
                            }
                        }
                        Ok((frames, kind)) => {
                            let tx = tx.clone();
                            let item = item.clone();
                            s.spawn(move |_| {
                                let start = Instant::now();
                                let written = guarded(&item.name, "encoding", || {
                                    write_outputs(plan, &item.stem, opts, &frames, kind)
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
                    let item = items.remove(&next_event).expect("decoded before encoded");
                    for note in &item.notes {
                        on_event(Event::Note {
                            input: &item.name,
                            note,
                        });
                    }
                    settle(&mut report, &mut on_event, &item.name, outcome);
                    next_event += 1;
                    request(next_request);
                    next_request += 1;
                }
            }
            if let Some((path, error)) = ended_by {
                settle(&mut report, &mut on_event, &path, Outcome::Failed(error));
            }
        });
        drop((to_video, credits, stream));
        if let Some(video) = video {
            let finished = video.join().unwrap_or_else(|_| {
                Err(IoError::Panicked {
                    path: opts
                        .video
                        .as_ref()
                        .map(|v| v.path.clone())
                        .unwrap_or_default(),
                    stage: "encoding",
                })
            });
            if let Err(error) = finished {
                let path = opts
                    .video
                    .as_ref()
                    .map(|v| v.path.clone())
                    .unwrap_or_default();
                settle(
                    &mut report,
                    &mut on_event,
                    &path,
                    Outcome::Failed(error.into()),
                );
            }
        }
    });
    Ok(report)
}

/// The reader thread of a video batch: for each credit `i`, the next frame
/// of this shard as item `i`.
fn read_video(
    mut reader: VideoReader,
    (shard, shards): (u32, u32),
    plan: &Plan,
    opts: &BatchOptions,
    credits: mpsc::Receiver<usize>,
    tx: mpsc::Sender<Done>,
) {
    let path = reader.path().to_path_buf();
    let stem = stem_of(&path).to_os_string();
    // Sampled frames seen so far: shard K of N takes the K-th, (K+N)-th, ….
    let mut sampled = 0u64;
    for i in credits {
        loop {
            let start = Instant::now();
            let (number, frame) = match reader.next() {
                Some(Ok(next)) => next,
                end => {
                    let error = end
                        .and_then(Result::err)
                        .map(|e| (path, Error::from(IoError::from(e))));
                    let _ = tx.send(Done::End(i, error));
                    return;
                }
            };
            let mine = sampled % u64::from(shards.max(1)) == u64::from(shard);
            sampled += 1;
            if !mine {
                continue;
            }
            let mut name = path.clone().into_os_string();
            name.push(format!(" frame {number}"));
            let mut frame_stem = stem.clone();
            frame_stem.push(format!("_{number:06}"));
            let item = Item {
                name: name.into(),
                stem: frame_stem,
                index: number,
                notes: Vec::new(),
            };
            let done = if opts.skip_existing && all_exist(plan, &item.stem, opts) {
                Done::Skipped(i, item)
            } else {
                Done::Decoded(i, item, Ok((frame, ColorKind::Rgb)), start.elapsed())
            };
            let _ = tx.send(done);
            break;
        }
    }
}

/// The writer thread of a video output: frames in order into ffmpeg, each
/// reported as encoded (or not); at the end, the video moved into place.
fn write_video(
    out: &VideoOutput,
    frames: mpsc::Receiver<(usize, PathBuf, Frame)>,
    tx: mpsc::Sender<Done>,
) -> Result<(), IoError> {
    let mut writer: Option<VideoWriter> = None;
    let mut stopped = false;
    for (i, name, frame) in frames {
        let start = Instant::now();
        let written = if stopped {
            Err(VideoError::Stopped(out.path.clone()))
        } else {
            let w = match writer.take() {
                Some(w) => Ok(w),
                None => VideoWriter::create(out, frame.size()),
            };
            w.and_then(|mut w| {
                let result = w.write(&frame, &name);
                // A frame of the wrong size costs itself; anything else
                // means ffmpeg has stopped, and it takes no more frames.
                if result.is_ok() || matches!(result, Err(VideoError::SizeChanged { .. })) {
                    writer = Some(w);
                }
                result
            })
        };
        stopped |= writer.is_none();
        let outcome = written
            .map(|()| vec![out.path.clone()])
            .map_err(|e| Error::from(IoError::from(e)));
        let _ = tx.send(Done::Encoded(i, outcome, start.elapsed()));
    }
    match writer {
        Some(w) => w.finish().map(drop).map_err(IoError::from),
        None => Ok(()),
    }
}

fn all_exist(plan: &Plan, stem: &OsStr, opts: &BatchOptions) -> bool {
    output_paths(plan, stem, opts).iter().all(|p| p.is_file())
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
    stem: &OsStr,
    opts: &BatchOptions,
    frames: &[Frame],
    kind: ColorKind,
) -> Result<Vec<PathBuf>, Error> {
    let paths = output_paths(plan, stem, opts);
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

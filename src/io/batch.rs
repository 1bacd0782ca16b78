//! Runs a plan over a batch of files. Decoding runs one frame ahead and
//! encoding one frame behind on their own threads, so the backend works on
//! frame N while frame N+1 is decoded and frame N-1 written. A bad frame
//! costs only itself: it is reported and the batch goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::{
    ColorKind, Format, IoError, decode_bytes, decode_file, from_frame, to_frame, write_atomic,
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

    fn decode(&self) -> Result<(Frame, ColorKind), IoError> {
        let image = match self {
            Input::File(p) => decode_file(p)?,
            Input::Bytes { name, bytes } => decode_bytes(bytes, name)?,
        };
        Ok(to_frame(&image))
    }
}

/// Where and how a batch writes.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub out_dir: PathBuf,
    pub format: Format,
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
}

/// The outcome of a batch.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub written: usize,
    pub failed: Vec<(PathBuf, Error)>,
}

/// Output paths of one input: a single output goes to `OUT/<stem>.<ext>`;
/// with several outputs, and for saved intermediates, each step's frame goes
/// to `OUT/<step>/<stem>.<ext>`. The stem is kept as the OS gave it, so
/// names that are not UTF-8 survive unchanged.
pub fn output_paths(plan: &Plan, input: &Path, opts: &BatchOptions) -> Vec<PathBuf> {
    let mut file = input.file_stem().unwrap_or_default().to_os_string();
    file.push(".");
    file.push(opts.format.extension());
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

type Encoded = (PathBuf, Result<Vec<PathBuf>, Error>);

/// Runs `plan` over `inputs`, calling `on_event` once per input as it
/// completes, in input order. Refuses the whole batch up front, writing
/// nothing, when [`check_outputs`] does.
pub fn run_batch(
    engine: &mut Engine,
    plan: &Plan,
    inputs: &[Input],
    opts: &BatchOptions,
    mut on_event: impl FnMut(Event),
) -> Result<BatchReport, IoError> {
    check_outputs(plan, inputs, opts)?;
    let mut report = BatchReport::default();
    let mut settle = |input: PathBuf,
                      outcome: Result<Vec<PathBuf>, Error>,
                      report: &mut BatchReport| match outcome {
        Ok(files) => {
            on_event(Event::Written {
                input: &input,
                files: &files,
            });
            report.written += 1;
        }
        Err(error) => {
            on_event(Event::Failed {
                input: &input,
                error: &error,
            });
            report.failed.push((input, error));
        }
    };
    std::thread::scope(|s| {
        let (decoded_tx, decoded_rx) = mpsc::sync_channel(1);
        let (encode_tx, encode_rx) =
            mpsc::sync_channel::<(PathBuf, Result<(Vec<Frame>, ColorKind), Error>)>(1);
        let (done_tx, done_rx) = mpsc::channel::<Encoded>();
        s.spawn(move || {
            for input in inputs {
                if decoded_tx.send((input, input.decode())).is_err() {
                    break;
                }
            }
        });
        s.spawn(move || {
            for (input, result) in encode_rx {
                let outcome = result.and_then(|(frames, kind)| {
                    let paths = output_paths(plan, &input, opts);
                    for (frame, path) in frames.iter().zip(&paths) {
                        write_atomic(&from_frame(frame, kind), path, opts.format)?;
                    }
                    Ok(paths)
                });
                if done_tx.send((input, outcome)).is_err() {
                    break;
                }
            }
        });
        for (index, (input, decoded)) in decoded_rx.into_iter().enumerate() {
            let result = decoded.map_err(Error::from).and_then(|(frame, kind)| {
                let frames =
                    engine
                        .run_frame(plan, &frame, index as u32)
                        .map_err(|e| Error::Frame {
                            path: input.name().to_path_buf(),
                            source: e,
                        })?;
                Ok((frames, kind))
            });
            if encode_tx
                .send((input.name().to_path_buf(), result))
                .is_err()
            {
                break;
            }
            while let Ok((input, outcome)) = done_rx.try_recv() {
                settle(input, outcome, &mut report);
            }
        }
        drop(encode_tx);
        for (input, outcome) in done_rx {
            settle(input, outcome, &mut report);
        }
    });
    Ok(report)
}

//! Video in and out through the `ffmpeg` program, found at run time: it
//! reads and writes every container people have. Frames cross pipes as raw
//! RGBA, with no temporary files; a written video appears under its name
//! only once ffmpeg has finished it.
//!
//! Frames are numbered as they come out of the decoder, from 0 (every frame
//! kept: `-fps_mode passthrough`), and frame `n` is taken to be at `n / rate`
//! seconds, `rate` being the stream's average frame rate: exact for the
//! constant-rate video cameras and encoders write, an approximation for
//! variable-rate clips. Needs ffmpeg 5.1 or later.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use crate::frame::{Frame, Size};
use crate::graph::Plan;

/// File endings read as video (anything ffmpeg reads works, but inputs are
/// told apart from images by their ending).
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts", "mts", "m2ts", "flv", "wmv",
    "ogv", "3gp",
];

/// Whether `path` names a video, by its ending.
pub fn is_video(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Why a video could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error(
        "{}: video needs the ffmpeg program, and {looked}: install it (Debian or Ubuntu: apt install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg) or set STILLGRAPH_FFMPEG to its path",
        path.display()
    )]
    Missing { path: PathBuf, looked: String },
    #[error("{}: cannot run {}: {source}", path.display(), program.display())]
    Spawn {
        path: PathBuf,
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: ffprobe cannot read it as a video: {message}", path.display())]
    Probe { path: PathBuf, message: String },
    #[error("{}: ffmpeg {what}: {message}", path.display())]
    Ffmpeg {
        path: PathBuf,
        /// What went wrong, e.g. "stopped with exit status: 1".
        what: String,
        /// ffmpeg's own error text.
        message: String,
    },
    #[error("{}: {frame}: the frame is {got}, the video's frames are {want}", path.display())]
    SizeChanged {
        path: PathBuf,
        frame: String,
        got: Size,
        want: Size,
    },
    #[error("{}: not written: ffmpeg had stopped (see its first error)", .0.display())]
    Stopped(PathBuf),
    #[error(
        "{}: a video takes one frame for each input frame, and this pipeline gives {count} (outputs, or saved intermediates): write images instead (-o DIR)",
        path.display()
    )]
    ManyOutputs { path: PathBuf, count: usize },
    #[error(
        "{}: stillgraph writes video as {} (by the ending of -o)",
        .0.display(),
        WRITABLE.iter().map(|(e, _)| *e).collect::<Vec<_>>().join(", ")
    )]
    CannotWrite(PathBuf),
}

/// The ffmpeg and ffprobe programs.
#[derive(Debug, Clone)]
pub struct Ffmpeg {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

impl Ffmpeg {
    /// `STILLGRAPH_FFMPEG` if set, else `ffmpeg` on `PATH`; ffprobe beside
    /// it, else on `PATH`. `video` is the file named in the message when
    /// they are missing.
    pub fn find(video: &Path) -> Result<Self, VideoError> {
        let missing = |looked: String| VideoError::Missing {
            path: video.to_path_buf(),
            looked,
        };
        let exe = |name: &str| format!("{name}{}", std::env::consts::EXE_SUFFIX);
        let ffmpeg = match std::env::var_os("STILLGRAPH_FFMPEG") {
            Some(p) if Path::new(&p).is_file() => PathBuf::from(p),
            Some(p) => {
                return Err(missing(format!(
                    "STILLGRAPH_FFMPEG={} is not a file",
                    Path::new(&p).display()
                )));
            }
            None => on_path(&exe("ffmpeg"))
                .ok_or_else(|| missing("there is no ffmpeg on PATH".to_string()))?,
        };
        let beside = ffmpeg.with_file_name(exe("ffprobe"));
        let ffprobe = if beside.is_file() {
            beside
        } else {
            on_path(&exe("ffprobe")).ok_or_else(|| {
                missing(format!(
                    "found {} but no ffprobe beside it or on PATH",
                    ffmpeg.display()
                ))
            })?
        };
        Ok(Self { ffmpeg, ffprobe })
    }

    /// Facts about `path`'s first video stream.
    pub fn probe(&self, path: &Path) -> Result<VideoInfo, VideoError> {
        let probe_err = |message: String| VideoError::Probe {
            path: path.to_path_buf(),
            message,
        };
        let out = Command::new(&self.ffprobe)
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .arg("stream=width,height,avg_frame_rate,r_frame_rate:stream_side_data=rotation")
            .args(["-of", "default=noprint_wrappers=1"])
            .arg(path)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| VideoError::Spawn {
                path: path.to_path_buf(),
                program: self.ffprobe.clone(),
                source,
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(probe_err(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
        };
        let side = |key: &str| {
            field(key)
                .and_then(|v| v.parse::<u32>().ok())
                .filter(|&v| v > 0)
        };
        let (Some(width), Some(height)) = (side("width"), side("height")) else {
            return Err(probe_err("it has no video stream".to_string()));
        };
        let rate = field("avg_frame_rate")
            .and_then(Rate::parse)
            .or_else(|| field("r_frame_rate").and_then(Rate::parse))
            .ok_or_else(|| probe_err("its video stream has no frame rate".to_string()))?;
        // ffmpeg turns frames upright (a phone's portrait clip), so a
        // quarter turn swaps the sides we will receive.
        let turned = field("rotation")
            .and_then(|r| r.parse::<f64>().ok())
            .is_some_and(|r| (r.abs() / 90.0).round() as i64 % 2 == 1);
        let size = if turned {
            Size::new(height, width)
        } else {
            Size::new(width, height)
        };
        Ok(VideoInfo { size, rate })
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A frame rate as ffmpeg states it, `num / den` frames a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    /// `30000/1001`, `25`, or `12.5` (kept to a thousandth); `None` for
    /// zero, negative or unreadable rates (ffprobe says `0/0` when it has none).
    pub fn parse(s: &str) -> Option<Self> {
        let (num, den) = match s.split_once('/') {
            Some((n, d)) => (n.trim().parse().ok()?, d.trim().parse().ok()?),
            None => {
                let v: f64 = s.trim().parse().ok()?;
                if !(v.is_finite() && v > 0.0 && v < 1e6) {
                    return None;
                }
                ((v * 1000.0).round() as u32, 1000)
            }
        };
        (num > 0 && den > 0).then_some(Self { num, den })
    }

    pub fn per_second(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// What a video holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoInfo {
    /// The size of the frames ffmpeg hands over (upright).
    pub size: Size,
    pub rate: Rate,
}

/// Which frames of a video to take, as the reference's segment did: from
/// `start` seconds up to (not including) `end`, all of them or one every
/// `every` seconds (the first frame at or after each of start, start +
/// every, start + 2·every, …).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sampling {
    pub start: f64,
    pub end: Option<f64>,
    pub every: Option<f64>,
}

/// Slack for frame times computed in floating point: 0.3 s at 10 frames a
/// second is frame 3, not frame 4.
const TIME_SLACK: f64 = 1e-6;

impl Sampling {
    /// The first frame at or after `start`.
    fn first_frame(&self, rate: Rate) -> u32 {
        ((self.start * rate.per_second() - TIME_SLACK)
            .ceil()
            .max(0.0)) as u32
    }
}

/// Decides, frame by frame in order, which frames [`Sampling`] takes.
struct Picker {
    sampling: Sampling,
    rate: f64,
    /// How many of the sampling's times have been passed.
    passed: u64,
}

impl Picker {
    fn new(sampling: Sampling, rate: Rate) -> Self {
        Self {
            sampling,
            rate: rate.per_second(),
            passed: 0,
        }
    }

    /// Whether frame `n` is taken; `n` must increase from call to call.
    fn take(&mut self, n: u32) -> bool {
        let t = f64::from(n) / self.rate;
        let s = &self.sampling;
        if t + TIME_SLACK < s.start || self.past_end(n) {
            return false;
        }
        let Some(every) = s.every else {
            return true;
        };
        // Times start + k·every for k < `reached` are at or before t.
        let reached = ((t - s.start + TIME_SLACK) / every).floor() as u64 + 1;
        let taken = reached > self.passed;
        self.passed = self.passed.max(reached);
        taken
    }

    /// Whether no frame from `n` on can be taken.
    fn past_end(&self, n: u32) -> bool {
        let t = f64::from(n) / self.rate;
        self.sampling.end.is_some_and(|end| t + TIME_SLACK >= end)
    }
}

/// Reads a video's sampled frames in order from an ffmpeg child process.
pub struct VideoReader {
    path: PathBuf,
    info: VideoInfo,
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    picker: Picker,
    /// The source number of the next frame out of the pipe.
    next: u32,
    bytes: Vec<u8>,
    finished: bool,
}

impl VideoReader {
    /// Starts ffmpeg on `path`. Frames before `sampling.start` are decoded and
    /// dropped inside ffmpeg (a late start in a long clip costs the decoding
    /// of what comes before it, never a guess at the frame numbers).
    pub fn open(ffmpeg: &Ffmpeg, path: &Path, sampling: Sampling) -> Result<Self, VideoError> {
        let info = ffmpeg.probe(path)?;
        let first = sampling.first_frame(info.rate);
        let mut cmd = Command::new(&ffmpeg.ffmpeg);
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
        if let Some(end) = sampling.end {
            // Stop reading a frame's time past the end: nothing after it is taken.
            cmd.arg("-t")
                .arg(format!("{:.6}", end + 1.0 / info.rate.per_second()));
        }
        cmd.arg("-i")
            .arg(path)
            .args(["-map", "0:v:0", "-an", "-sn", "-dn"])
            .args(["-fps_mode", "passthrough"]);
        if first > 0 {
            cmd.arg("-vf").arg(format!("trim=start_frame={first}"));
        }
        cmd.args(["-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"]);
        let mut child = spawn(&mut cmd, path, &ffmpeg.ffmpeg, Stdio::null())?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = collect_stderr(&mut child);
        Ok(Self {
            path: path.to_path_buf(),
            info,
            child,
            stdout,
            stderr,
            picker: Picker::new(sampling, info.rate),
            next: first,
            bytes: vec![0; info.size.pixels() * 4],
            finished: false,
        })
    }

    pub fn info(&self) -> VideoInfo {
        self.info
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next sampled frame and its number in the source, `None` at the
    /// end. A damaged clip gives the frames ffmpeg could decode, then one
    /// error with ffmpeg's own words, then `None`.
    #[allow(clippy::should_implement_trait)] // an Iterator would hide the error's place at the end
    pub fn next(&mut self) -> Option<Result<(u32, Frame), VideoError>> {
        while !self.finished {
            if self.picker.past_end(self.next) {
                // Enough read: ffmpeg may still be decoding; it is not needed.
                let _ = self.child.kill();
                self.finished = true;
                let _ = self.child.wait();
                return None;
            }
            match read_full(&mut self.stdout, &mut self.bytes) {
                Ok(n) if n == self.bytes.len() => {
                    let number = self.next;
                    self.next += 1;
                    if self.picker.take(number) {
                        let frame = Frame::from_rgba8(self.info.size, &self.bytes)
                            .expect("the buffer holds one frame");
                        return Some(Ok((number, frame)));
                    }
                }
                Ok(n) => {
                    self.finished = true;
                    return self.end(n);
                }
                Err(e) => {
                    self.finished = true;
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Some(Err(VideoError::Spawn {
                        path: self.path.clone(),
                        program: PathBuf::from("ffmpeg"),
                        source: e,
                    }));
                }
            }
        }
        None
    }

    /// At the end of the pipe: how ffmpeg finished, and what it said.
    fn end(&mut self, partial: usize) -> Option<Result<(u32, Frame), VideoError>> {
        let status = self.child.wait();
        let message = said(&mut self.stderr);
        let what = match status {
            Ok(s) if !s.success() => format!("stopped with {s} after frame {}", self.next),
            Err(e) => format!("could not be waited for ({e})"),
            Ok(_) if partial > 0 => format!("ended inside frame {}", self.next),
            // It finished cleanly but reported damage it worked around.
            Ok(_) if !message.is_empty() => {
                format!("reported errors (decoded {} frames)", self.next)
            }
            Ok(_) => return None,
        };
        Some(Err(VideoError::Ffmpeg {
            path: self.path.clone(),
            what,
            message,
        }))
    }
}

impl Drop for VideoReader {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What ffmpeg said on stderr, once it has stopped.
fn said(stderr: &mut Option<JoinHandle<String>>) -> String {
    let text = stderr
        .take()
        .and_then(|h| h.join().ok())
        .unwrap_or_default();
    text.trim().to_string()
}

/// Reads until `buf` is full or the pipe ends; how many bytes came.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn spawn(
    cmd: &mut Command,
    path: &Path,
    program: &Path,
    stdin: Stdio,
) -> Result<Child, VideoError> {
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| VideoError::Spawn {
            path: path.to_path_buf(),
            program: program.to_path_buf(),
            source,
        })
}

/// ffmpeg's error text, gathered on a thread so that a chatty ffmpeg never
/// blocks on a full pipe; the last 16 KiB are kept.
fn collect_stderr(child: &mut Child) -> Option<JoinHandle<String>> {
    let mut stderr = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        const KEEP: usize = 16 << 10;
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 2 * KEEP {
                kept.drain(..kept.len() - KEEP);
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    }))
}

/// Endings written as video, with ffmpeg's name for the container.
pub const WRITABLE: &[(&str, &str)] = &[
    ("mp4", "mp4"),
    ("m4v", "mp4"),
    ("mov", "mov"),
    ("mkv", "matroska"),
    ("webm", "webm"),
    ("avi", "avi"),
];

/// How a video is written.
#[derive(Debug, Clone)]
pub struct VideoOutput {
    pub path: PathBuf,
    pub ffmpeg: Ffmpeg,
    pub rate: Rate,
    /// ffmpeg's output options in place of [`default_codec_args`].
    pub codec_args: Option<Vec<OsString>>,
}

impl VideoOutput {
    /// The container for `path`'s ending, or why it cannot be written.
    pub fn muxer(path: &Path) -> Result<&'static str, VideoError> {
        let ext = path
            .extension()
            .and_then(OsStr::to_str)
            .map(str::to_ascii_lowercase);
        WRITABLE
            .iter()
            .find(|(e, _)| Some(*e) == ext.as_deref())
            .map(|(_, m)| *m)
            .ok_or_else(|| VideoError::CannotWrite(path.to_path_buf()))
    }

    /// Whether `plan`'s frames can go into a video at `path`: a container we
    /// write, and one output a frame. Needs no ffmpeg, so a caller can say
    /// it before looking for one.
    pub fn check(path: &Path, plan: &Plan) -> Result<(), VideoError> {
        Self::muxer(path)?;
        if plan.reads.len() != 1 {
            return Err(VideoError::ManyOutputs {
                path: path.to_path_buf(),
                count: plan.reads.len(),
            });
        }
        Ok(())
    }
}

/// The codec options unless `--ffmpeg-args` says otherwise: H.264 at CRF 18
/// (visually lossless, so our damage is what shows, not the encoder's),
/// preset medium, 4:2:0 for every player; VP9 for WebM. 4:2:0 needs even
/// sides, so an odd frame gets one black row or column added.
pub fn default_codec_args(path: &Path, size: Size) -> Vec<OsString> {
    let muxer = VideoOutput::muxer(path).ok();
    let webm = muxer == Some("webm");
    let mut args: Vec<&str> = if webm {
        vec![
            "-c:v",
            "libvpx-vp9",
            "-crf",
            "32",
            "-b:v",
            "0",
            "-row-mt",
            "1",
        ]
    } else {
        vec!["-c:v", "libx264", "-preset", "medium", "-crf", "18"]
    };
    args.extend(["-pix_fmt", "yuv420p"]);
    if matches!(muxer, Some("mp4" | "mov")) {
        args.extend(["-movflags", "+faststart"]);
    }
    if size.width % 2 == 1 || size.height % 2 == 1 {
        args.extend(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]);
    }
    args.into_iter().map(OsString::from).collect()
}

/// Writes frames in order into a video through an ffmpeg child process,
/// under a temporary name until [`VideoWriter::finish`].
pub struct VideoWriter {
    path: PathBuf,
    tmp: PathBuf,
    size: Size,
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Option<JoinHandle<String>>,
    finished: bool,
}

impl VideoWriter {
    /// Starts ffmpeg for frames of `size`.
    pub fn create(out: &VideoOutput, size: Size) -> Result<Self, VideoError> {
        let muxer = VideoOutput::muxer(&out.path)?;
        let tmp = super::temporary_path(&out.path).map_err(|source| VideoError::Spawn {
            path: out.path.clone(),
            program: out.ffmpeg.ffmpeg.clone(),
            source,
        })?;
        let mut cmd = Command::new(&out.ffmpeg.ffmpeg);
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
            .args(["-f", "rawvideo", "-pix_fmt", "rgba"])
            .arg("-video_size")
            .arg(size.to_string())
            .arg("-framerate")
            .arg(out.rate.to_string())
            .args(["-i", "pipe:0"])
            .args(
                out.codec_args
                    .clone()
                    .unwrap_or_else(|| default_codec_args(&out.path, size)),
            )
            .args(["-f", muxer])
            .arg(&tmp);
        let mut child = spawn(&mut cmd, &out.path, &out.ffmpeg.ffmpeg, Stdio::piped())?;
        let stdin = child.stdin.take();
        let stderr = collect_stderr(&mut child);
        Ok(Self {
            path: out.path.clone(),
            tmp,
            size,
            child,
            stdin,
            stderr,
            finished: false,
        })
    }

    /// Appends a frame; `name` says which, should its size be wrong.
    pub fn write(&mut self, frame: &Frame, name: &Path) -> Result<(), VideoError> {
        if frame.size() != self.size {
            return Err(VideoError::SizeChanged {
                path: self.path.clone(),
                frame: name.display().to_string(),
                got: frame.size(),
                want: self.size,
            });
        }
        let bytes: &[u8] = bytemuck::cast_slice(frame.pixels());
        let written = match self.stdin.as_mut() {
            Some(stdin) if cfg!(target_endian = "little") => stdin.write_all(bytes),
            Some(stdin) => stdin.write_all(&frame.to_rgba8()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        // A broken pipe means ffmpeg stopped: its own words say why.
        written.map_err(|e| self.failure(format!("stopped taking frames ({e})")))
    }

    /// Closes the stream, waits for ffmpeg and moves the video into place.
    pub fn finish(mut self) -> Result<PathBuf, VideoError> {
        drop(self.stdin.take());
        let status = self.child.wait();
        self.finished = true;
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(self.failure(format!("stopped with {s}"))),
            Err(e) => return Err(self.failure(format!("could not be waited for ({e})"))),
        }
        super::commit(&self.tmp, &self.path).map_err(|source| VideoError::Spawn {
            path: self.path.clone(),
            program: PathBuf::from("rename"),
            source,
        })?;
        Ok(self.path.clone())
    }

    fn failure(&mut self, what: String) -> VideoError {
        drop(self.stdin.take());
        let _ = self.child.wait();
        self.finished = true;
        let message = said(&mut self.stderr);
        let _ = std::fs::remove_file(&self.tmp);
        VideoError::Ffmpeg {
            path: self.path.clone(),
            what,
            message,
        }
    }
}

impl Drop for VideoWriter {
    /// A writer dropped unfinished (the batch failed) leaves no file.
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(num: u32, den: u32) -> Rate {
        Rate { num, den }
    }

    impl Sampling {
        /// The frame numbers taken from a clip of `frames` frames, as the
        /// reader takes them one by one.
        fn select(&self, rate: Rate, frames: u32) -> Vec<u32> {
            let mut picker = Picker::new(*self, rate);
            (0..frames).filter(|&n| picker.take(n)).collect()
        }
    }

    #[test]
    fn rates_parse_as_ffprobe_and_users_write_them() {
        assert_eq!(Rate::parse("30000/1001"), Some(rate(30000, 1001)));
        assert_eq!(Rate::parse("25"), Some(rate(25000, 1000)));
        assert_eq!(Rate::parse("12.5"), Some(rate(12500, 1000)));
        assert_eq!(Rate::parse("0/0"), None);
        assert_eq!(Rate::parse("-3"), None);
        assert_eq!(Rate::parse("inf"), None);
    }

    #[test]
    fn sampling_takes_the_first_frame_at_or_after_each_time() {
        let r = rate(10, 1); // frame n at n/10 s
        let all = Sampling::default();
        assert_eq!(all.select(r, 4), [0, 1, 2, 3]);
        let seg = Sampling {
            start: 0.3,
            end: Some(0.7),
            every: None,
        };
        // 0.3 s is frame 3 exactly (not 4, whatever 3/10 rounds to); 0.7 is excluded.
        assert_eq!(seg.select(r, 20), [3, 4, 5, 6]);
        assert_eq!(seg.first_frame(r), 3);
        let every = Sampling {
            start: 0.25,
            end: Some(1.6),
            every: Some(0.5),
        };
        // Times 0.25, 0.75, 1.25 → frames at 0.3, 0.8, 1.3 s.
        assert_eq!(every.select(r, 30), [3, 8, 13]);
        // Sampling faster than the frames come takes each frame once.
        let fast = Sampling {
            every: Some(0.01),
            ..Sampling::default()
        };
        assert_eq!(fast.select(r, 5), [0, 1, 2, 3, 4]);
        // NTSC: one frame a second from 29.97 fps.
        let ntsc = Sampling {
            every: Some(1.0),
            ..Sampling::default()
        };
        assert_eq!(ntsc.select(rate(30000, 1001), 95), [0, 30, 60, 90]);
    }

    #[test]
    fn odd_frames_are_padded_for_4_2_0_and_containers_pick_codecs() {
        let has = |args: &[OsString], s: &str| args.iter().any(|a| a == s);
        let mp4 = default_codec_args(Path::new("a.mp4"), Size::new(64, 48));
        assert!(has(&mp4, "libx264") && has(&mp4, "+faststart") && !has(&mp4, "-vf"));
        let odd = default_codec_args(Path::new("a.mkv"), Size::new(65, 48));
        assert!(has(&odd, "-vf") && !has(&odd, "+faststart"));
        assert!(has(
            &default_codec_args(Path::new("a.WEBM"), Size::new(2, 2)),
            "libvpx-vp9"
        ));
        assert!(VideoOutput::muxer(Path::new("a.gif")).is_err());
    }
}

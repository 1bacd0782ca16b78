//! Files in and out: input discovery, decoding into frames (gray and alpha
//! remembered), encoding back, and atomic writes.

// Threads over files: native only. (`video` compiles on the web and finds
// no ffmpeg there.)
#[cfg(not(target_arch = "wasm32"))]
pub mod batch;
pub mod video;

use std::ffi::OsStr;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::frame::{Frame, Size};
use crate::ops::resize::MAX_SIDE;

/// The colour layout a frame came in with, restored on encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorKind {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
}

impl ColorKind {
    fn of(image: &DynamicImage) -> Self {
        match (image.color().has_color(), image.color().has_alpha()) {
            (false, false) => ColorKind::Gray,
            (false, true) => ColorKind::GrayAlpha,
            (true, false) => ColorKind::Rgb,
            (true, true) => ColorKind::Rgba,
        }
    }
}

/// An output image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Png,
    /// Baseline JPEG, 4:2:0, at [`Encoding::quality`]; alpha is dropped.
    Jpeg,
    /// Lossless WebP.
    Webp,
    Bmp,
    Tiff,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Png,
        Format::Jpeg,
        Format::Webp,
        Format::Bmp,
        Format::Tiff,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
        }
    }
}

/// How zlib-style PNG output trades speed for size: `fast` (the default) is
/// several times faster than `default` for files some 10-20% larger;
/// `best` is slower still. All are lossless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PngCompression {
    #[default]
    Fast,
    Default,
    Best,
}

impl FromStr for PngCompression {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fast" => Ok(PngCompression::Fast),
            "default" => Ok(PngCompression::Default),
            "best" => Ok(PngCompression::Best),
            other => Err(format!(
                "unknown PNG compression \"{other}\" (allowed: fast, default, best)"
            )),
        }
    }
}

/// How outputs are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub format: Format,
    /// JPEG quality, 1 ..= 100.
    pub quality: u8,
    pub png: PngCompression,
}

impl Default for Encoding {
    fn default() -> Self {
        Self {
            format: Format::Png,
            quality: 95,
            png: PngCompression::Fast,
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "jpg" | "jpeg" => Ok(Format::Jpeg),
            "webp" => Ok(Format::Webp),
            "bmp" => Ok(Format::Bmp),
            "tif" | "tiff" => Ok(Format::Tiff),
            other => Err(format!(
                "unknown format \"{other}\" (allowed: png, jpeg, webp, bmp, tiff)"
            )),
        }
    }
}

/// Why a file could not be found, read or written.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{path}: cannot decode: {source}")]
    Decode {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("{path}: cannot encode: {source}")]
    Encode {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no images match {} (looked for files ending in {exts})", .0.display(), exts = EXTENSIONS.join(", "))]
    NoMatch(PathBuf),
    #[error("bad glob pattern {pattern}: {message}")]
    Pattern { pattern: String, message: String },
    #[error(
        "{} has wildcards but is not valid UTF-8: name such files one by one or by their directory",
        .0.display()
    )]
    PatternNotUtf8(PathBuf),
    #[error("inputs {} and {} would both write {}", first.display(), second.display(), output.display())]
    SameOutput {
        first: PathBuf,
        second: PathBuf,
        output: PathBuf,
    },
    #[error(
        "output {} would write over the input {}: write the outputs to another directory (-o DIR)",
        output.display(),
        input.display()
    )]
    OverwritesInput { output: PathBuf, input: PathBuf },
    #[error("{}: {width}x{height} is larger than stillgraph takes ({MAX_SIDE} pixels a side)", path.display())]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
    },
    #[error("output directory {} is a file, not a directory", .0.display())]
    OutputNotDirectory(PathBuf),
    #[error("{}: the codec failed ({stage} panicked); the file may be damaged", path.display())]
    Panicked { path: PathBuf, stage: &'static str },
    #[error(transparent)]
    Video(#[from] video::VideoError),
    #[error("{}: {note} (--fail-on warning)", path.display())]
    Damaged { path: PathBuf, note: Note },
}

/// File endings taken from directories and glob patterns.
pub const EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "gif"];

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What [`discover`] found: the images to read, and the files that a
/// directory or pattern held but that are not images (so that a caller can
/// say what it passed over rather than skip it silently).
#[derive(Debug, Default)]
pub struct Discovered {
    pub images: Vec<PathBuf>,
    pub skipped: Vec<PathBuf>,
}

/// Expands inputs: a directory gives its image files (sorted), a path with
/// `*`, `?` or `[` in any component its matching files (sorted), anything
/// else is a file. Names are kept as the OS gave them (`OsStr`), so files
/// whose names are not UTF-8 are found and read like any other. Whether two
/// inputs would write the same output is checked by [`batch::check_outputs`].
pub fn discover(inputs: &[PathBuf]) -> Result<Discovered, IoError> {
    let mut found = Discovered::default();
    for input in inputs {
        let mut listed = if input.is_dir() {
            list_dir(input)?
        } else if has_wildcard(input.as_os_str()) {
            expand_pattern(input)?
        } else {
            found.images.push(input.clone());
            continue;
        };
        listed.sort();
        let (images, skipped): (Vec<_>, Vec<_>) = listed.into_iter().partition(|p| is_image(p));
        if images.is_empty() {
            return Err(IoError::NoMatch(input.clone()));
        }
        found.images.extend(images);
        found.skipped.extend(skipped);
    }
    Ok(found)
}

fn has_wildcard(s: &OsStr) -> bool {
    s.as_encoded_bytes()
        .iter()
        .any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// The files (not subdirectories) of a directory.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let entries = fs::read_dir(dir).map_err(|source| IoError::File {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| IoError::File {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}

/// Matches a pattern one path component at a time, listing directories
/// ourselves: the `glob` crate's walker passes over names that are not
/// UTF-8 without a word, so here each name is matched through its lossy
/// form (a `*` still matches it) and kept as the OS gave it.
fn expand_pattern(pattern: &Path) -> Result<Vec<PathBuf>, IoError> {
    let text = pattern
        .to_str()
        .ok_or_else(|| IoError::PatternNotUtf8(pattern.to_path_buf()))?;
    let bad = |e: glob::PatternError| IoError::Pattern {
        pattern: text.to_string(),
        message: e.to_string(),
    };
    let components: Vec<Component> = pattern.components().collect();
    let mut paths = vec![PathBuf::new()];
    for (i, component) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        let part = component.as_os_str();
        if !has_wildcard(part) {
            paths.iter_mut().for_each(|p| p.push(part));
            continue;
        }
        let matcher = glob::Pattern::new(&part.to_string_lossy()).map_err(bad)?;
        let mut next = Vec::new();
        for dir in &paths {
            let listed = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let Ok(entries) = fs::read_dir(listed) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let path = dir.join(&name);
                let wanted = if last { path.is_file() } else { path.is_dir() };
                if wanted && matcher.matches(&name.to_string_lossy()) {
                    next.push(path);
                }
            }
        }
        paths = next;
    }
    Ok(paths.into_iter().filter(|p| p.is_file()).collect())
}

/// A decoded image as a frame, with the layout to restore. The 8-bit
/// layouts are packed straight into the frame's words (no RGBA copy on the
/// way: one allocation a frame, which a batch on many cores feels).
pub fn to_frame(image: &DynamicImage) -> (Frame, ColorKind) {
    let size = Size::new(image.width(), image.height());
    let pack = |r: u8, g: u8, b: u8, a: u8| u32::from_le_bytes([r, g, b, a]);
    let pixels: Vec<u32> = match image {
        DynamicImage::ImageRgb8(img) => img
            .as_raw()
            .chunks_exact(3)
            .map(|p| pack(p[0], p[1], p[2], 255))
            .collect(),
        DynamicImage::ImageRgba8(img) => img
            .as_raw()
            .chunks_exact(4)
            .map(|p| pack(p[0], p[1], p[2], p[3]))
            .collect(),
        DynamicImage::ImageLuma8(img) => img.as_raw().iter().map(|&l| pack(l, l, l, 255)).collect(),
        DynamicImage::ImageLumaA8(img) => img
            .as_raw()
            .chunks_exact(2)
            .map(|p| pack(p[0], p[0], p[0], p[1]))
            .collect(),
        other => other
            .to_rgba8()
            .as_raw()
            .chunks_exact(4)
            .map(|p| pack(p[0], p[1], p[2], p[3]))
            .collect(),
    };
    let frame = Frame::from_pixels(size, pixels).expect("one word a pixel");
    (frame, ColorKind::of(image))
}

/// A frame back as an image of its original layout. Gray comes back through
/// ITU-R 601 luma (Pillow's `convert("L")`), exact for frames that stayed gray.
pub fn from_frame(frame: &Frame, kind: ColorKind) -> DynamicImage {
    let (w, h) = (frame.width(), frame.height());
    let luma = |p: [u8; 4]| {
        ((u32::from(p[0]) * 19595 + u32::from(p[1]) * 38470 + u32::from(p[2]) * 7471 + 0x8000)
            >> 16) as u8
    };
    let px = frame.pixels().iter().map(|p| p.to_le_bytes());
    let raw: Vec<u8> = match kind {
        ColorKind::Gray => px.map(luma).collect(),
        ColorKind::GrayAlpha => px.flat_map(|p| [luma(p), p[3]]).collect(),
        ColorKind::Rgb => px.flat_map(|p| [p[0], p[1], p[2]]).collect(),
        ColorKind::Rgba => px.flatten().collect(),
    };
    let bad = "raw buffer sized for the layout";
    match kind {
        ColorKind::Gray => {
            DynamicImage::ImageLuma8(image::ImageBuffer::from_raw(w, h, raw).expect(bad))
        }
        ColorKind::GrayAlpha => {
            DynamicImage::ImageLumaA8(image::ImageBuffer::from_raw(w, h, raw).expect(bad))
        }
        ColorKind::Rgb => {
            DynamicImage::ImageRgb8(image::ImageBuffer::from_raw(w, h, raw).expect(bad))
        }
        ColorKind::Rgba => {
            DynamicImage::ImageRgba8(image::ImageBuffer::from_raw(w, h, raw).expect(bad))
        }
    }
}

/// The decoders' allocation cap; the size cap is checked against the
/// header ourselves, so that its message can give the size and the cap.
fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(2 << 30);
    limits
}

/// Decodes an image file (format from its content) within size limits,
/// turned upright by its EXIF orientation.
pub fn decode_file(path: &Path) -> Result<DynamicImage, IoError> {
    decode_file_noted(path).map(|(image, _)| image)
}

/// Decodes an image held in memory; `name` labels errors.
pub fn decode_bytes(bytes: &[u8], name: &Path) -> Result<DynamicImage, IoError> {
    decode_noted(bytes, name).map(|(image, _)| image)
}

/// [`decode_file`], with what the user should hear of the decoding.
pub fn decode_file_noted(path: &Path) -> Result<(DynamicImage, Vec<Note>), IoError> {
    let bytes = fs::read(path).map_err(|source| IoError::File {
        path: path.to_path_buf(),
        source,
    })?;
    decode_noted(&bytes, path)
}

/// Something about an input's decoding that the user should hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The decoder went on past damage: the frame is not the whole picture.
    Damaged(&'static str),
    /// More than 8 bits a channel (this layout), converted to 8.
    Converted(String),
    /// An animation, of which only the first frame is taken.
    FirstFrameOnly,
}

impl Note {
    /// Damage, which `--fail-on warning` turns into the frame's failure;
    /// the others are conversions the user chose by bringing the file.
    pub fn is_damage(&self) -> bool {
        matches!(self, Note::Damaged(_))
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Damaged(what) => write!(f, "damaged: {what}"),
            Note::Converted(from) => write!(f, "{from} converted to 8 bits a channel"),
            Note::FirstFrameOnly => write!(f, "an animation: only its first frame is taken"),
        }
    }
}

/// Decodes, noting damage the decoder worked around, conversions to 8
/// bits and animations cut to their first frame.
pub fn decode_noted(bytes: &[u8], name: &Path) -> Result<(DynamicImage, Vec<Note>), IoError> {
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|source| IoError::File {
            path: name.to_path_buf(),
            source,
        })?;
    let format = reader.format();
    let image = decode_upright(reader, name)?;
    let mut notes = Vec::new();
    if format == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        // The JPEG decoder fills what is missing with gray and says nothing.
        notes.push(Note::Damaged(
            "the JPEG ends before its end marker (truncated): the missing rows are gray",
        ));
    }
    use image::ColorType::*;
    if let L16 | La16 | Rgb16 | Rgba16 | Rgb32F | Rgba32F = image.color() {
        notes.push(Note::Converted(format!("{:?}", image.color())));
    }
    if is_animated(bytes, format) {
        notes.push(Note::FirstFrameOnly);
    }
    Ok((image, notes))
}

/// Whether a JPEG's last scan is followed by its end-of-image marker. Inside
/// entropy-coded data a 0xFF byte is always followed by 0x00 or a restart
/// marker, so FF DA and FF D9 there are markers: an embedded EXIF thumbnail
/// comes before the main image's scans and cannot fool this.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    // The marker nearest the end decides; in a whole file the end marker is
    // within its last bytes, so the search stops there.
    let last = bytes
        .windows(2)
        .rev()
        .find(|w| w[0] == 0xFF && (w[1] == 0xDA || w[1] == 0xD9));
    last.is_some_and(|w| w[1] == 0xD9)
}

/// Animated GIF, PNG (APNG) and WebP: the decoders give their first frame.
fn is_animated(bytes: &[u8], format: Option<image::ImageFormat>) -> bool {
    use image::AnimationDecoder;
    let cursor = || std::io::Cursor::new(bytes);
    match format {
        Some(image::ImageFormat::Gif) => image::codecs::gif::GifDecoder::new(cursor())
            .is_ok_and(|d| d.into_frames().take(2).count() > 1),
        Some(image::ImageFormat::Png) => image::codecs::png::PngDecoder::new(cursor())
            .and_then(|d| d.is_apng())
            .unwrap_or(false),
        Some(image::ImageFormat::WebP) => {
            image::codecs::webp::WebPDecoder::new(cursor()).is_ok_and(|d| d.has_animation())
        }
        _ => false,
    }
}

/// Decodes within [`limits`] and applies the EXIF orientation (JPEG, PNG,
/// WebP and TIFF carry one; phone photos are often stored sideways with an
/// orientation tag), so every op sees the picture as a viewer shows it.
fn decode_upright<R: std::io::BufRead + std::io::Seek>(
    mut reader: ImageReader<R>,
    name: &Path,
) -> Result<DynamicImage, IoError> {
    let decode = |source| IoError::Decode {
        path: name.to_path_buf(),
        source,
    };
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(decode)?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(IoError::TooLarge {
            path: name.to_path_buf(),
            width,
            height,
        });
    }
    let orientation = decoder.orientation().map_err(decode)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Writes `image` to `path` atomically (see [`write_file_atomic`]).
pub fn write_atomic(image: &DynamicImage, path: &Path, encoding: &Encoding) -> Result<(), IoError> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let encode_err = |source| IoError::Encode {
        path: path.to_path_buf(),
        source,
    };
    atomically(path, |out| match encoding.format {
        Format::Jpeg => {
            let mut encoder = jpeg_encoder::Encoder::new(out, encoding.quality);
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            let (w, h) = (image.width(), image.height());
            let too_big = || IoError::Encode {
                path: path.to_path_buf(),
                source: image::ImageError::Limits(image::error::LimitError::from_kind(
                    image::error::LimitErrorKind::DimensionError,
                )),
            };
            let (w, h) = (
                u16::try_from(w).map_err(|_| too_big())?,
                u16::try_from(h).map_err(|_| too_big())?,
            );
            let jpeg_err = |e: jpeg_encoder::EncodingError| IoError::Encode {
                path: path.to_path_buf(),
                source: image::ImageError::Encoding(image::error::EncodingError::new(
                    image::ImageFormat::Jpeg.into(),
                    e,
                )),
            };
            // Gray (with or without alpha) stays a one-component JPEG; the
            // layouts a frame comes back in are encoded without a copy.
            use jpeg_encoder::ColorType;
            let (pixels, color): (std::borrow::Cow<[u8]>, _) = match image {
                DynamicImage::ImageRgb8(img) => (img.as_raw().as_slice().into(), ColorType::Rgb),
                DynamicImage::ImageRgba8(img) => (img.as_raw().as_slice().into(), ColorType::Rgba),
                DynamicImage::ImageLuma8(img) => (img.as_raw().as_slice().into(), ColorType::Luma),
                other if other.color().has_color() => {
                    (other.to_rgb8().into_raw().into(), ColorType::Rgb)
                }
                other => (other.to_luma8().into_raw().into(), ColorType::Luma),
            };
            encoder.encode(&pixels, w, h, color).map_err(jpeg_err)
        }
        Format::Png => {
            let level = match encoding.png {
                PngCompression::Fast => CompressionType::Fast,
                PngCompression::Default => CompressionType::Default,
                PngCompression::Best => CompressionType::Best,
            };
            image
                .write_with_encoder(PngEncoder::new_with_quality(
                    out,
                    level,
                    FilterType::Adaptive,
                ))
                .map_err(encode_err)
        }
        Format::Webp => image
            .write_to(out, image::ImageFormat::WebP)
            .map_err(encode_err),
        Format::Bmp => image
            .write_to(out, image::ImageFormat::Bmp)
            .map_err(encode_err),
        Format::Tiff => image
            .write_to(out, image::ImageFormat::Tiff)
            .map_err(encode_err),
    })
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it,
/// then renamed into place, so a killed run leaves no partial file.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    atomically(path, |out| {
        out.write_all(bytes).map_err(|source| IoError::File {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Runs `write` into a temporary file beside `path` (see
/// [`temporary_path`]), then [`commit`]s it; the temporary file is removed on
/// failure.
fn atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> Result<(), IoError>,
) -> Result<(), IoError> {
    let file_err = |source| IoError::File {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temporary_path(path).map_err(file_err)?;
    let written = (|| {
        let mut out = BufWriter::new(fs::File::create(&tmp).map_err(file_err)?);
        write(&mut out)?;
        out.flush().map_err(file_err)?;
        drop(out);
        commit(&tmp, path).map_err(file_err)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// `.<name>.<pid>.tmp` beside `path` (the name kept as the OS gave it, so two
/// names that are not UTF-8 cannot share one), its directory created.
/// [`remove_stale_temporaries`] knows the pattern.
pub(crate) fn temporary_path(path: &Path) -> std::io::Result<PathBuf> {
    let dir = parent_dir(path);
    fs::create_dir_all(dir)?;
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{}.tmp", std::process::id()));
    Ok(dir.join(name))
}

/// Moves a finished temporary file into place: synced before the rename and
/// the directory after it, so that a crash leaves the old file or the whole
/// new one, never a hole.
pub(crate) fn commit(tmp: &Path, path: &Path) -> std::io::Result<()> {
    fs::OpenOptions::new().write(true).open(tmp)?.sync_all()?;
    fs::rename(tmp, path)?;
    sync_dir(parent_dir(path))
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes a rename in `dir` durable (on Unix; elsewhere a directory cannot
/// be opened to sync it, and the rename is as durable as the OS makes it).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    if cfg!(unix) {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Removes the temporary files that a killed run of ours left in `dir`
/// (`.<name>.<pid>.tmp` of a process that is gone), where the OS can say
/// which processes are alive (Linux's /proc); elsewhere it removes nothing.
pub fn remove_stale_temporaries(dir: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(stem) = name
            .to_str()
            .filter(|n| n.starts_with('.'))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some((target, pid)) = stem.rsplit_once('.') else {
            continue;
        };
        // Only temporaries of files we write: `.NAME.EXT.PID.tmp` with the
        // ending of an output format, a video or `stillgraph import`'s RON, not
        // another program's `.x.123.tmp`.
        let ours = Path::new(target)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| {
                e == "ron"
                    || Format::ALL.iter().any(|f| f.extension() == e)
                    || video::is_video(Path::new(target))
            });
        if ours && pid.parse::<u32>().is_ok() && !proc.join(pid).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8])
        }))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        bytes
    }

    #[test]
    fn every_layout_packs_as_the_image_crate_converts_it_to_rgba() {
        let rgba = image::RgbaImage::from_fn(5, 3, |x, y| {
            image::Rgba([
                (x * 50) as u8,
                (y * 80) as u8,
                (x * y * 20) as u8,
                (200 - x * 30) as u8,
            ])
        });
        let base = DynamicImage::ImageRgba8(rgba);
        for image in [
            DynamicImage::ImageRgb8(base.to_rgb8()),
            base.clone(),
            DynamicImage::ImageLuma8(base.to_luma8()),
            DynamicImage::ImageLumaA8(base.to_luma_alpha8()),
            DynamicImage::ImageRgb16(base.to_rgb16()),
        ] {
            let want = Frame::from_rgba8(Size::new(5, 3), image.to_rgba8().as_raw()).unwrap();
            assert_eq!(to_frame(&image).0, want, "{:?}", image.color());
        }
    }

    #[test]
    fn a_truncated_jpeg_is_noted_even_behind_a_complete_thumbnail() {
        let name = Path::new("t.jpg");
        let whole = jpeg(64, 48);
        assert_eq!(decode_noted(&whole, name).unwrap().1, []);
        let cut = &whole[..whole.len() * 7 / 10];
        let (image, notes) = decode_noted(cut, name).unwrap();
        assert_eq!(image.width(), 64, "the decoder recovers");
        assert!(notes.len() == 1 && notes[0].is_damage(), "{notes:?}");
        // An EXIF-like APP1 segment holding a whole small JPEG (with its own
        // scan and end markers) before the truncated main image.
        let thumb = jpeg(8, 8);
        let mut with_thumb = whole[..2].to_vec();
        with_thumb.extend([0xFF, 0xE1]);
        with_thumb.extend(((thumb.len() + 2) as u16).to_be_bytes());
        with_thumb.extend(&thumb);
        with_thumb.extend(&cut[2..]);
        assert!(!jpeg_is_complete(&with_thumb));
        with_thumb.extend(&whole[cut.len()..]);
        assert!(jpeg_is_complete(&with_thumb));
    }

    #[test]
    fn sixteen_bit_and_animated_inputs_are_noted() {
        let name = Path::new("x");
        let mut png16 = Vec::new();
        DynamicImage::ImageRgb16(image::ImageBuffer::from_pixel(
            4,
            3,
            image::Rgb([65535u16, 0, 300]),
        ))
        .write_to(
            &mut std::io::Cursor::new(&mut png16),
            image::ImageFormat::Png,
        )
        .unwrap();
        let (image, notes) = decode_noted(&png16, name).unwrap();
        assert_eq!(notes, [Note::Converted("Rgb16".into())]);
        assert_eq!(
            to_frame(&image).0.pixels()[0] & 0xFF_FF_FF,
            0x01_00_FF,
            "rounded to 8 bits"
        );
        let mut gif = Vec::new();
        {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
            for v in [0u8, 255] {
                let frame = image::Frame::new(image::RgbaImage::from_pixel(
                    4,
                    3,
                    image::Rgba([v, v, v, 255]),
                ));
                encoder.encode_frame(frame).unwrap();
            }
        }
        let (image, notes) = decode_noted(&gif, name).unwrap();
        assert_eq!(notes, [Note::FirstFrameOnly]);
        assert_eq!(
            image.to_rgb8().get_pixel(0, 0).0,
            [0, 0, 0],
            "the first frame"
        );
    }

    #[test]
    fn gray_and_alpha_survive_a_frame_round_trip() {
        let gray = DynamicImage::ImageLumaA8(image::ImageBuffer::from_fn(3, 2, |x, y| {
            image::LumaA([(x * 40 + y) as u8, 200 - x as u8])
        }));
        let (frame, kind) = to_frame(&gray);
        assert_eq!(kind, ColorKind::GrayAlpha);
        assert_eq!(from_frame(&frame, kind), gray);
    }

    #[test]
    fn atomic_write_leaves_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.png");
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
        write_atomic(&img, &path, &Encoding::default()).unwrap();
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.png"]);
    }

    #[test]
    fn discovery_expands_directories_and_reports_what_it_skips() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.png", "a.jpg", "notes.txt"] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let found = discover(&[dir.path().to_path_buf()]).unwrap();
        let names = |paths: &[PathBuf]| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(names(&found.images), ["a.jpg", "b.png"]);
        assert_eq!(names(&found.skipped), ["notes.txt"]);
        let pattern = dir.path().join("*.gif");
        assert!(matches!(discover(&[pattern]), Err(IoError::NoMatch(_))));
    }

    #[test]
    fn patterns_match_in_every_component() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["x", "y", "z"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
        }
        fs::write(dir.path().join("x/1.png"), b"x").unwrap();
        fs::write(dir.path().join("y/2.png"), b"x").unwrap();
        fs::write(dir.path().join("z/3.bmp"), b"x").unwrap();
        let found = discover(&[dir.path().join("[xy]/*.png")]).unwrap();
        assert_eq!(
            found.images,
            [dir.path().join("x/1.png"), dir.path().join("y/2.png")]
        );
    }

    /// A name that is not UTF-8 is found by a directory and by a pattern,
    /// and kept byte for byte (the glob crate passes over such names).
    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_found_and_kept() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join(OsStr::from_bytes(b"a\xff.png"));
        let other = dir.path().join(OsStr::from_bytes(b"a\xfe.jpg"));
        fs::write(&odd, b"x").unwrap();
        fs::write(&other, b"x").unwrap();
        let by_dir = discover(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(by_dir.images.len(), 2);
        assert!(by_dir.images.contains(&odd) && by_dir.images.contains(&other));
        let by_pattern = discover(&[dir.path().join("*.png")]).unwrap();
        assert_eq!(by_pattern.images, [odd]);
        assert!(by_pattern.skipped.is_empty());
    }

    /// The TIFF body of an EXIF block that holds one tag, Orientation.
    fn exif_orientation(value: u16) -> Vec<u8> {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes()); // where the first IFD starts
        tiff.extend(1u16.to_le_bytes()); // one entry
        tiff.extend(0x0112u16.to_le_bytes()); // Orientation
        tiff.extend(3u16.to_le_bytes()); // SHORT
        tiff.extend(1u32.to_le_bytes()); // one value
        tiff.extend(u32::from(value).to_le_bytes()); // the value, left-justified
        tiff.extend(0u32.to_le_bytes()); // no next IFD
        tiff
    }

    /// Every EXIF orientation, each as a phone would store it: the picture
    /// laid down as the tag says (EXIF 2.3, tag 0x0112: where the stored
    /// row 0 and column 0 appear when viewed), decoded back upright.
    #[test]
    fn jpegs_come_back_upright_for_all_eight_exif_orientations() {
        // Flat 16x16 blocks, one per (4:2:0) MCU, of colours at least 60
        // levels apart: the codec keeps each within 8 levels at quality
        // 100, while a wrong turn or flip swaps whole blocks.
        let (uw, uh) = (64u32, 32u32);
        let upright = image::RgbImage::from_fn(uw, uh, |x, y| {
            let b = (x / 16 + 4 * (y / 16)) as u8;
            image::Rgb([
                b * 30,
                240 - b * 30,
                if b.is_multiple_of(2) { 20 } else { 200 },
            ])
        });
        for orientation in 1..=8u16 {
            let (sw, sh) = if orientation <= 4 { (uw, uh) } else { (uh, uw) };
            let stored = image::RgbImage::from_fn(sw, sh, |sx, sy| {
                let (x, y) = match orientation {
                    1 => (sx, sy),
                    2 => (uw - 1 - sx, sy),
                    3 => (uw - 1 - sx, uh - 1 - sy),
                    4 => (sx, uh - 1 - sy),
                    5 => (sy, sx),
                    6 => (uw - 1 - sy, sx),
                    7 => (uw - 1 - sy, uh - 1 - sx),
                    _ => (sy, uh - 1 - sx),
                };
                *upright.get_pixel(x, y)
            });
            let mut jpeg = Vec::new();
            let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 100);
            image::ImageEncoder::set_exif_metadata(&mut encoder, exif_orientation(orientation))
                .unwrap();
            encoder.encode_image(&stored).unwrap();
            let name = PathBuf::from(format!("orientation{orientation}.jpg"));
            let decoded = decode_bytes(&jpeg, &name).unwrap().to_rgb8();
            assert_eq!(decoded.dimensions(), (uw, uh), "orientation {orientation}");
            for (x, y, p) in decoded.enumerate_pixels() {
                let want = upright.get_pixel(x, y);
                let off = p.0.iter().zip(want.0).map(|(a, b)| a.abs_diff(b)).max();
                assert!(
                    off <= Some(8),
                    "orientation {orientation} at ({x}, {y}): {p:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn an_image_over_the_size_cap_names_its_size_and_the_cap() {
        let mut png = Vec::new();
        image::GrayImage::new(MAX_SIDE + 1, 2)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let e = decode_bytes(&png, Path::new("wide.png")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "wide.png: 16385x2 is larger than stillgraph takes (16384 pixels a side)"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stale_temporaries_of_dead_runs_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        // No process has a pid this large (Linux caps them at 2^22).
        let stale = dir.path().join(".a.png.99999999.tmp");
        let alive = dir
            .path()
            .join(format!(".b.png.{}.tmp", std::process::id()));
        let other = dir.path().join(".notes.tmp");
        let foreign = dir.path().join(".draft.txt.99999999.tmp");
        let image = dir.path().join("c.png");
        for f in [&stale, &alive, &other, &foreign, &image] {
            fs::write(f, b"x").unwrap();
        }
        remove_stale_temporaries(dir.path());
        assert!(!stale.exists());
        assert!(alive.exists() && other.exists() && foreign.exists() && image.exists());
    }
}

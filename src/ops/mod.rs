//! Operations: one file per op, each holding its parameters (serde and
//! validation), its CPU kernel and the description of its GPU passes. The
//! WGSL twin of `ops/<name>.rs` is `shaders/<name>.wgsl`; an op large enough
//! to have a file per stage is a folder on both sides (`ops/compression/`,
//! `shaders/compression/`), each stage under the same name in both.
//!
//! Both backends call the same [`Op`] interface; neither knows any op.

/// Defines `$name` to run `$inner`, compiled for AVX2 where the CPU has it.
/// The pixels are the same either way, only the speed differs: integer
/// arithmetic is exact, and AVX2 without FMA rounds every float multiply
/// and add as written. `$inner` must be `#[inline(always)]`.
macro_rules! avx2_twin {
    ($name:ident => $inner:ident($($arg:ident: $ty:ty),* $(,)?)) => {
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    $inner($($arg),*)
                }
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { avx2($($arg),*) };
            }
            $inner($($arg),*)
        }
    };
}

pub mod blur_gaussian;
pub mod compression;
pub mod compression_artifact;
pub mod downscale;
pub mod multi_compress;
pub mod resize;
pub mod saturation;
// Sensor and transmission failures (issue 12).
pub mod band_swap;
pub mod bayer_filter;
pub mod buffer_corruption;
pub mod corduroy;
pub mod salt_pepper;
pub mod slc_off;

pub mod chromatic_aberration;
pub mod gray_frame;
pub mod noise;

pub mod blur_circular;
pub mod motion_blur;

use std::fmt;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::frame::{Frame, Size};
use crate::rng::RngKey;

/// What a kernel may know about the frame it is working on.
#[derive(Clone, Copy, Debug)]
pub struct FrameCtx {
    /// Key for every random draw of this node on this frame.
    pub key: RngKey,
}

/// The node interface: both backends run a plan through it.
pub trait Op: Send + Sync + fmt::Debug {
    fn name(&self) -> &'static str;

    /// How many frames the op reads.
    fn arity(&self) -> usize {
        1
    }

    /// Output size from input sizes; errors name the parameter at fault.
    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError>;

    /// The CPU kernel; `out` is already sized by [`Op::output_size`].
    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame);

    /// The GPU passes, as data: the executor binds and dispatches them in order.
    fn gpu(&self, ctx: &FrameCtx, inputs: &[Size], out: Size) -> GpuWork;
}

/// An op's GPU work for one frame.
#[derive(Debug, Default)]
pub struct GpuWork {
    /// Byte sizes of the scratch buffers the passes use (`Binding::Scratch(i)`).
    pub scratch: Vec<u64>,
    pub passes: Vec<GpuPass>,
}

/// One compute dispatch: an entry point of `shaders/<shader>.wgsl` (or of
/// the files of `shaders/<shader>/`), its bindings as (binding number in
/// group 0, resource) and its workgroup count.
/// An entry point lists exactly the bindings it uses: pipelines take their
/// layout from the shader, which holds only what the entry point touches.
#[derive(Debug)]
pub struct GpuPass {
    pub shader: &'static str,
    pub entry: &'static str,
    pub bindings: Vec<(u32, Binding)>,
    pub workgroups: [u32; 3],
}

impl GpuWork {
    /// The work of most ops: one per-pixel pass of `shader`'s `main` over
    /// `out`, with no scratch.
    pub fn per_pixel(shader: &'static str, out: Size, bindings: Vec<(u32, Binding)>) -> Self {
        Self {
            scratch: vec![],
            passes: vec![GpuPass::per_pixel(shader, "main", out, bindings)],
        }
    }
}

/// Side of the square workgroups of every per-pixel pass (`@workgroup_size(16, 16)`).
pub const TILE: u32 = 16;

impl GpuPass {
    /// A pass with one invocation per pixel of `size` in 16x16 workgroups.
    pub fn per_pixel(
        shader: &'static str,
        entry: &'static str,
        size: Size,
        bindings: Vec<(u32, Binding)>,
    ) -> Self {
        Self {
            shader,
            entry,
            bindings,
            workgroups: [size.width.div_ceil(TILE), size.height.div_ceil(TILE), 1],
        }
    }
}

/// What a shader binding refers to.
#[derive(Debug, Clone)]
pub enum Binding {
    /// A uniform block, bytes as the shader's struct lays them out.
    Uniform(Vec<u8>),
    /// A small read-only storage array (weights, tile lists).
    Data(Vec<u8>),
    /// The op's `i`-th input frame (read-only).
    Input(usize),
    /// The op's output frame.
    Output,
    /// The op's `i`-th scratch buffer.
    Scratch(usize),
}

impl Binding {
    /// A uniform block from a plain-old-data value.
    pub fn uniform<T: bytemuck::Pod>(value: &T) -> Self {
        Self::Uniform(bytemuck::bytes_of(value).to_vec())
    }

    /// A read-only storage array from a slice of plain-old-data values.
    pub fn data<T: bytemuck::Pod>(values: &[T]) -> Self {
        Self::Data(bytemuck::cast_slice(values).to_vec())
    }
}

/// Runs `f(y, row)` for every output row in parallel: the CPU shape of a
/// per-pixel dispatch.
pub fn par_rows(out: &mut Frame, f: impl Fn(u32, &mut [u32]) + Sync + Send) {
    let width = out.width() as usize;
    out.pixels_mut()
        .par_chunks_mut(width.max(1))
        .enumerate()
        .for_each(|(y, row)| f(y as u32, row));
}

/// `out[i] = Σ_k w[k] · tap(k)[i]`, each output adding its terms in tap
/// order (`acc + w · x`, no fused multiply-add, as the shaders do): the inner
/// loop of the CPU's separable filters. A block of [`SUM_BLOCK`] outputs stays
/// in registers while every tap goes by, so memory sees one load a term
/// instead of a load and a store of the running sum. Call it from an
/// `avx2_twin!` body so that it compiles to wide SIMD there.
#[inline(always)]
pub fn weighted_sum<'a>(out: &mut [f32], w: &[f32], tap: impl Fn(usize) -> &'a [f32]) {
    let start = out.len() - out.len() % SUM_BLOCK;
    let mut blocks = out.chunks_exact_mut(SUM_BLOCK);
    for (b, block) in blocks.by_ref().enumerate() {
        let mut acc = [0f32; SUM_BLOCK];
        weighted_block(&mut acc, b * SUM_BLOCK, w, &tap);
        block.copy_from_slice(&acc);
    }
    weighted_block(blocks.into_remainder(), start, w, &tap);
}

/// [`weighted_sum`] for the outputs `at..at + acc.len()`.
#[inline(always)]
fn weighted_block<'a>(acc: &mut [f32], at: usize, w: &[f32], tap: &impl Fn(usize) -> &'a [f32]) {
    let n = acc.len();
    acc.fill(0.0);
    for (k, &wk) in w.iter().enumerate() {
        for (a, &x) in acc.iter_mut().zip(&tap(k)[at..][..n]) {
            *a += wk * x;
        }
    }
}

/// Outputs a separable filter keeps in registers: eight AVX2 registers,
/// enough independent sums to hide the adds' latency.
pub const SUM_BLOCK: usize = 64;

/// Mirror including the edge pixel (scipy `reflect`); twin of WGSL `reflect_index`.
pub fn reflect(i: i32, n: i32) -> i32 {
    let period = 2 * n;
    let mut m = i % period;
    if m < 0 {
        m += period;
    }
    if m >= n {
        m = period - 1 - m;
    }
    m
}

/// A parameter out of its allowed values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{param} = {value} is not allowed (allowed: {allowed})")]
pub struct ParamError {
    pub param: &'static str,
    pub value: String,
    pub allowed: String,
}

/// What values a parameter takes; used both to validate and to describe it,
/// so `stillgraph ops` cannot drift from the checks.
#[derive(Debug, Clone, Copy)]
pub enum Allowed {
    /// Any value of the type.
    Any,
    /// `min ..= max`.
    Range(f64, f64),
    /// `≥ min`.
    AtLeast(f64),
    /// `> min`.
    Above(f64),
    /// One of these words.
    OneOf(&'static [&'static str]),
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Allowed::Any => write!(f, "any"),
            Allowed::Range(lo, hi) => write!(f, "{lo} ..= {hi}"),
            Allowed::AtLeast(lo) => write!(f, ">= {lo}"),
            Allowed::Above(lo) => write!(f, "> {lo}"),
            Allowed::OneOf(words) => write!(f, "{}", words.join(" | ")),
        }
    }
}

/// Description of one parameter of an op.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub ty: &'static str,
    /// `None` when the parameter is required.
    pub default: Option<&'static str>,
    pub allowed: Allowed,
    pub doc: &'static str,
}

impl Param {
    /// Checks a number against [`Param::allowed`].
    pub fn check(&self, value: f64) -> Result<(), ParamError> {
        // Every parameter is a finite number: `inf` passed open-ended
        // checks (`value: inf`, `gamma: inf`) and ran.
        let ok = value.is_finite()
            && match self.allowed {
                Allowed::Any | Allowed::OneOf(_) => true,
                Allowed::Range(lo, hi) => (lo..=hi).contains(&value),
                Allowed::AtLeast(lo) => value >= lo,
                Allowed::Above(lo) => value > lo,
            };
        if ok { Ok(()) } else { Err(self.error(value)) }
    }

    /// The error for `value`, saying what is allowed.
    pub fn error(&self, value: impl fmt::Display) -> ParamError {
        ParamError {
            param: self.name,
            value: value.to_string(),
            allowed: self.allowed.to_string(),
        }
    }

    /// The error for a required parameter that is missing.
    pub fn missing(&self, because: &str) -> ParamError {
        ParamError {
            param: self.name,
            value: "nothing".into(),
            allowed: format!("{} ({because})", self.allowed),
        }
    }
}

/// The parameters of an op: deserialized from a pipeline, checked before any
/// frame is read, then built into the node that runs.
pub trait OpParams: Op + Clone + 'static {
    const NAME: &'static str;
    /// One line for `stillgraph ops`.
    const SUMMARY: &'static str;
    const PARAMS: &'static [Param];
    fn validate(&self) -> Result<(), ParamError>;
}

/// Rows of `stillgraph ops`: every op with its parameters.
#[derive(Debug, Clone, Copy)]
pub struct OpInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
}

macro_rules! op_registry {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// An op with its parameters, as written in a pipeline step:
        /// `blur_gaussian(sigma: 2.0)`.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(rename = "op", rename_all = "snake_case")]
        pub enum OpSpec {
            $($variant($ty),)*
        }

        impl OpSpec {
            pub fn name(&self) -> &'static str {
                match self { $(OpSpec::$variant(_) => <$ty as OpParams>::NAME,)* }
            }

            pub fn validate(&self) -> Result<(), ParamError> {
                match self { $(OpSpec::$variant(p) => p.validate(),)* }
            }

            /// The node that runs; call after [`OpSpec::validate`].
            pub fn build(&self) -> Box<dyn Op> {
                match self { $(OpSpec::$variant(p) => Box::new(p.clone()),)* }
            }
        }

        /// Every op, in the order `stillgraph ops` lists them.
        pub const OPS: &[OpInfo] = &[
            $(OpInfo {
                name: <$ty as OpParams>::NAME,
                summary: <$ty as OpParams>::SUMMARY,
                params: <$ty as OpParams>::PARAMS,
            },)*
        ];
    };
}

op_registry! {
    Saturation(saturation::Saturation),
    BlurGaussian(blur_gaussian::BlurGaussian),
    Downscale(downscale::Downscale),
    Resize(resize::Resize),
    Compression(compression::Compression),
    MultiCompress(multi_compress::MultiCompress),
    CompressionArtifact(compression_artifact::CompressionArtifact),
    BandSwap(band_swap::BandSwap),
    SaltPepper(salt_pepper::SaltPepper),
    BufferCorruption(buffer_corruption::BufferCorruption),
    Corduroy(corduroy::Corduroy),
    SlcOff(slc_off::SlcOff),
    BayerFilter(bayer_filter::BayerFilter),
    ChromaticAberration(chromatic_aberration::ChromaticAberration),
    Noise(noise::Noise),
    MotionBlur(motion_blur::MotionBlur),
    BlurCircular(blur_circular::BlurCircular),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_mirrors_including_the_edge() {
        let got: Vec<i32> = (-4..8).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
        assert_eq!(reflect(-1, 1), 0);
        assert_eq!(reflect(9, 4), 1);
    }

    #[test]
    fn param_check_reports_value_and_range() {
        let p = Param {
            name: "sigma",
            ty: "number",
            default: None,
            allowed: Allowed::AtLeast(0.0),
            doc: "",
        };
        assert!(p.check(0.0).is_ok());
        let e = p.check(-1.5).unwrap_err();
        assert_eq!(e.to_string(), "sigma = -1.5 is not allowed (allowed: >= 0)");
        for bad in [f64::INFINITY, f64::NAN] {
            assert!(p.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_names_are_unique_and_match_files() {
        let mut names: Vec<_> = OPS.iter().map(|o| o.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OPS.len());
    }
}

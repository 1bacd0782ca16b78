//! stillgraph: a frame-graph engine for degrading images on purpose.
//!
//! A [`Pipeline`] (RON) is validated, compiled into a [`Plan`] (a node graph
//! with buffer slots) and run by an [`Engine`] on the GPU (WGSL compute
//! through wgpu) or the CPU (rayon). Both backends run the same ops and give
//! the same pixels for the same seed, to within one level per channel.
//!
//! ```
//! use stillgraph::{Backend, Engine, Keep, Pipeline, compile};
//!
//! let pipeline = Pipeline::parse(
//!     r#"Pipeline(seed: 1, steps: [
//!         (name: "vivid", op: saturation(mode: fixed, value: 0.5)),
//!         (name: "soft", op: blur_gaussian(sigma: 1.5)),
//!         (name: "chunky", op: downscale(scale: 0.25)),
//!     ])"#,
//!     "example",
//! )?;
//! let plan = compile(&pipeline, Keep::Outputs)?;
//! let mut engine = Engine::new(Backend::Cpu)?;
//! let image = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
//!     image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
//! }));
//! let out = engine.run_image(&plan, &image)?;
//! assert_eq!((out.width(), out.height()), (64, 48));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backend;
pub mod engine;
pub mod frame;
pub mod graph;
pub mod io;
pub mod ops;
pub mod pipeline;
pub mod rng;
// Threads of engines: native only (the web build is the engine itself, fed
// by the page).
#[cfg(not(target_arch = "wasm32"))]
pub mod stream;

use std::path::PathBuf;

pub use backend::Backend;
pub use engine::{Engine, RunError};
pub use frame::{Frame, Size};
pub use graph::{Keep, Plan, compile};
pub use pipeline::{Pipeline, PipelineError, Step};

/// Any error of the library, each naming the file, step or frame at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Io(#[from] io::IoError),
    #[error(transparent)]
    Gpu(#[from] backend::gpu::GpuError),
    #[error("{path}: {source}")]
    Frame { path: PathBuf, source: RunError },
}

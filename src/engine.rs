//! The engine: one backend, kept across frames so that GPU pipelines,
//! buffers and CPU frame allocations are made once.

use image::DynamicImage;

use crate::backend::Backend;
use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::{self, GpuBackend, GpuError};
use crate::frame::Frame;
use crate::graph::{Plan, SizeError};
use crate::io::{from_frame, to_frame};

/// Why a frame could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Size(#[from] SizeError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

enum Exec {
    Cpu(CpuBackend),
    Gpu(Box<GpuBackend>),
}

/// Which GPUs [`Engine::gpus`] opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gpus {
    /// Every hardware adapter.
    All,
    /// The first N, best first.
    First(u32),
}

/// Runs plans on one backend.
pub struct Engine {
    exec: Exec,
    description: String,
}

impl Engine {
    /// Opens the backend. `Auto` logs one line saying which it took.
    pub fn new(backend: Backend) -> Result<Self, GpuError> {
        match backend {
            Backend::Cpu => Ok(Self::cpu()),
            Backend::Gpu => {
                let found = gpu::find_adapter(true).ok_or(GpuError::NoAdapter(
                    " (on Linux, the package mesa-vulkan-drivers provides a software one)",
                ))?;
                let software = found.software;
                let engine = Self::gpu(found)?;
                if software {
                    log::warn!(
                        "no hardware GPU adapter: {} is a software adapter",
                        engine.description
                    );
                }
                Ok(engine)
            }
            Backend::Auto => match gpu::find_adapter(false) {
                Some(found) => {
                    let engine = Self::gpu(found)?;
                    log::info!("backend auto: using {}", engine.description);
                    Ok(engine)
                }
                None => {
                    let engine = Self::cpu();
                    log::info!(
                        "backend auto: no hardware GPU adapter, using {}",
                        engine.description
                    );
                    Ok(engine)
                }
            },
        }
    }

    /// The CPU backend.
    pub fn cpu() -> Self {
        Self {
            exec: Exec::Cpu(CpuBackend::default()),
            description: format!("the CPU backend ({} threads)", rayon::current_num_threads()),
        }
    }

    fn gpu(found: gpu::Found) -> Result<Self, GpuError> {
        let backend = GpuBackend::new(found)?;
        Ok(Self {
            description: format!("the GPU backend on {}", backend.describe()),
            exec: Exec::Gpu(Box::new(backend)),
        })
    }

    /// Which backend and device, in words.
    pub fn describe(&self) -> &str {
        &self.description
    }

    pub fn is_gpu(&self) -> bool {
        matches!(self.exec, Exec::Gpu(_))
    }

    /// Runs a plan on one frame and returns the frames of `plan.reads` (the
    /// outputs first). `frame` is the frame's index in its batch; it changes
    /// the random draws of animated steps only.
    pub fn run_frame(
        &mut self,
        plan: &Plan,
        input: &Frame,
        frame: u32,
    ) -> Result<Vec<Frame>, RunError> {
        let mut out = Vec::new();
        self.run_frame_into(plan, input, frame, &mut out)?;
        Ok(out)
    }

    /// [`Engine::run_frame`] into `out`, reusing its frames' allocations:
    /// for a caller that processes a stream of frames and keeps no output,
    /// this saves allocating (and the OS zeroing) every output frame.
    pub fn run_frame_into(
        &mut self,
        plan: &Plan,
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) -> Result<(), RunError> {
        let sizes = plan.sizes(input.size())?;
        match &mut self.exec {
            Exec::Cpu(cpu) => cpu.run(plan, &sizes, input, frame, out),
            Exec::Gpu(gpu) => gpu.run(plan, &sizes, input, frame, out)?,
        }
        Ok(())
    }

    /// GPU time of the last frame's compute work, without transfers; `None`
    /// on the CPU backend or where the adapter has no timestamp queries.
    pub fn last_gpu_time(&self) -> Option<std::time::Duration> {
        match &self.exec {
            Exec::Gpu(gpu) => gpu
                .last_gpu_ns()
                .map(|ns| std::time::Duration::from_nanos(ns as u64)),
            Exec::Cpu(_) => None,
        }
    }

    /// GPU engines for a batch spread over several GPUs: `streams` on each
    /// of the GPUs `which` names (more than one engine on a GPU, each with
    /// its own device and queue, lets one frame's transfers overlap
    /// another's compute). Hardware adapters only, unless
    /// `allow_software` (for tests on a machine without a GPU).
    pub fn gpus(which: Gpus, streams: u32, allow_software: bool) -> Result<Vec<Self>, GpuError> {
        let found = gpu::find_adapters(allow_software);
        let count = match which {
            Gpus::All => found.len(),
            Gpus::First(n) => n as usize,
        };
        if found.is_empty() || found.len() < count {
            return Err(GpuError::TooFewGpus {
                wanted: count,
                found: found.len(),
            });
        }
        let mut engines = Vec::new();
        for adapter in &found[..count] {
            for _ in 0..streams.max(1) {
                engines.push(Self::gpu(adapter.clone())?);
            }
        }
        Ok(engines)
    }

    /// Runs a plan on an image and returns its first output in the image's
    /// own layout (gray stays gray, alpha stays).
    pub fn run_image(
        &mut self,
        plan: &Plan,
        image: &DynamicImage,
    ) -> Result<DynamicImage, RunError> {
        let (frame, kind) = to_frame(image);
        let out = self.run_frame(plan, &frame, 0)?;
        Ok(from_frame(&out[0], kind))
    }
}

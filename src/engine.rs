//! The engine: one backend, kept across frames so that GPU pipelines,
//! buffers and CPU frame allocations are made once.
//!
//! A GPU engine loses no frame to the GPU: a frame too large for the
//! device's buffers runs on the CPU backend (the next frame tries the GPU
//! again), and when the GPU fails (device lost, a submission refused) the
//! failed frame and every later one run on the CPU. Each is warned once and
//! kept in [`Engine::fallbacks`]; [`Engine::set_cpu_fallback`] turns it off.

use crate::backend::Backend;
use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::{self, GpuBackend, GpuError};
use crate::frame::{Frame, Size};
use crate::graph::{Plan, SizeError};

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
    /// Where a GPU engine runs the frames the GPU cannot take.
    spare: Option<CpuBackend>,
    fallback: bool,
    fallbacks: Fallbacks,
    /// The last frame ran on the CPU, so no GPU time is known for it.
    last_on_cpu: bool,
    /// Test hook: frames to run before the device is destroyed.
    lose_gpu_in: Option<u32>,
}

/// Frames a GPU engine ran on the CPU backend instead, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fallbacks {
    /// Frames too large for the GPU's buffers, each run on the CPU.
    pub too_large: u64,
    /// Why the first of them was, as warned (later ones are only counted).
    pub first_too_large: Option<String>,
    /// The GPU's failure, when it failed: the frame it failed on and every
    /// later one ran on the CPU.
    pub gpu_failed: Option<String>,
}

impl Engine {
    /// Opens the backend. `Auto` logs one line saying which it took.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(backend: Backend) -> Result<Self, GpuError> {
        gpu::block_on(Self::open(backend))
    }

    /// [`Engine::new`] for callers that must not block: on the web, where
    /// the browser hands out its adapter and device asynchronously. As
    /// natively, `Auto` passes over a software adapter: in headless
    /// Chromium, SwiftShader ran three_ops on a 1080p frame in 2.5 s, the
    /// CPU backend on one thread in 0.19 s (BENCHMARKS.md).
    pub async fn open(backend: Backend) -> Result<Self, GpuError> {
        match backend {
            Backend::Cpu => Ok(Self::cpu()),
            Backend::Gpu => {
                let found = gpu::find_adapters_async(true)
                    .await
                    .into_iter()
                    .next()
                    .ok_or(GpuError::NoAdapter(NO_ADAPTER_HINT))?;
                let software = found.software;
                let engine = Self::gpu(found).await?;
                if software {
                    log::warn!(
                        "no hardware GPU adapter: {} is a software adapter",
                        engine.description
                    );
                }
                Ok(engine)
            }
            Backend::Auto => match gpu::find_adapters_async(false).await.into_iter().next() {
                Some(found) => {
                    let engine = Self::gpu(found).await?;
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
        Self::with(Exec::Cpu(CpuBackend::default()), cpu_description())
    }

    async fn gpu(found: gpu::Found) -> Result<Self, GpuError> {
        let backend = GpuBackend::open(found).await?;
        let description = format!("the GPU backend on {}", backend.describe());
        Ok(Self::with(Exec::Gpu(Box::new(backend)), description))
    }

    fn with(exec: Exec, description: String) -> Self {
        Self {
            exec,
            description,
            spare: None,
            fallback: true,
            fallbacks: Fallbacks::default(),
            last_on_cpu: false,
            lose_gpu_in: None,
        }
    }

    /// Whether a GPU engine runs on the CPU the frames the GPU cannot take
    /// (the default), or returns their errors: [`GpuError::TooLarge`] for a
    /// frame too large, and the GPU's error once it failed (every later
    /// frame fails too).
    pub fn set_cpu_fallback(&mut self, on: bool) {
        self.fallback = on;
    }

    /// What ran on the CPU instead of the GPU so far, and why.
    pub fn fallbacks(&self) -> &Fallbacks {
        &self.fallbacks
    }

    /// Test hook: treat GPU buffers over `bytes` as too large for the device.
    #[doc(hidden)]
    pub fn limit_gpu_buffers(&mut self, bytes: u64) {
        if let Exec::Gpu(gpu) = &mut self.exec {
            gpu.limit_buffers(bytes);
        }
    }

    /// Test hook: destroy the GPU device just before the `frames`-th frame
    /// from now runs (0: the next one), as a GPU reset would.
    #[doc(hidden)]
    pub fn lose_gpu_after(&mut self, frames: u32) {
        self.lose_gpu_in = Some(frames);
    }

    /// The largest buffer a frame may need on this engine's GPU (frames and
    /// ops' scratch alike); `None` on the CPU backend.
    pub fn gpu_buffer_limit(&self) -> Option<u64> {
        match &self.exec {
            Exec::Gpu(gpu) => Some(gpu.storage_limit()),
            Exec::Cpu(_) => None,
        }
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
    #[cfg(not(target_arch = "wasm32"))]
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
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_frame_into(
        &mut self,
        plan: &Plan,
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) -> Result<(), RunError> {
        let sizes = plan.sizes(input.size())?;
        let Some(gpu) = self.gpu_for_frame(plan, &sizes, input, frame, out) else {
            return Ok(());
        };
        // wgpu panics on some calls into a lost device; the GPU backend is
        // dropped after any failure, so no broken state of it is seen again.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            gpu.run(plan, &sizes, input, frame, out)
        }))
        .unwrap_or_else(|panic| Err(GpuError::Wgpu(panic_message(&*panic))));
        self.after_gpu(run, plan, &sizes, input, frame, out)
    }

    /// [`Engine::run_frame`] for callers that must not block: on the web,
    /// the GPU's waits yield to the browser. Natively it blocks as
    /// `run_frame` does (without its catching of wgpu's panics).
    pub async fn run_frame_async(
        &mut self,
        plan: &Plan,
        input: &Frame,
        frame: u32,
    ) -> Result<Vec<Frame>, RunError> {
        let mut out = Vec::new();
        let sizes = plan.sizes(input.size())?;
        if let Some(gpu) = self.gpu_for_frame(plan, &sizes, input, frame, &mut out) {
            let run = gpu.run_async(plan, &sizes, input, frame, &mut out).await;
            self.after_gpu(run, plan, &sizes, input, frame, &mut out)?;
        }
        Ok(out)
    }

    /// The GPU backend when this frame is for it; a CPU engine runs the
    /// frame into `out` here and returns `None`.
    fn gpu_for_frame(
        &mut self,
        plan: &Plan,
        sizes: &[Size],
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) -> Option<&mut GpuBackend> {
        self.last_on_cpu = true;
        let gpu = match &mut self.exec {
            Exec::Cpu(cpu) => {
                cpu.run(plan, sizes, input, frame, out);
                return None;
            }
            Exec::Gpu(gpu) => gpu,
        };
        if let Some(n) = self.lose_gpu_in.as_mut() {
            if *n == 0 {
                gpu.destroy();
                self.lose_gpu_in = None;
            } else {
                *n -= 1;
            }
        }
        Some(gpu)
    }

    /// After the GPU ran a frame: on an error, runs the frame on the CPU
    /// (a frame too large for the GPU) or moves the engine to the CPU (the
    /// GPU failed), unless fallback is off.
    fn after_gpu(
        &mut self,
        run: Result<(), GpuError>,
        plan: &Plan,
        sizes: &[Size],
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) -> Result<(), RunError> {
        let error = match run {
            Ok(()) => {
                self.last_on_cpu = false;
                return Ok(());
            }
            Err(e) => e,
        };
        if !self.fallback {
            return Err(error.into());
        }
        if let GpuError::TooLarge { .. } = error {
            self.fallbacks.too_large += 1;
            if self.fallbacks.first_too_large.is_none() {
                let why = format!(
                    "frame {frame} ({}): {error}: running it on the CPU backend \
                     (and any other frame too large for this GPU)",
                    input.size()
                );
                log::warn!("{why}");
                self.fallbacks.first_too_large = Some(why);
            }
            let cpu = self.spare.get_or_insert_with(CpuBackend::default);
            cpu.run(plan, sizes, input, frame, out);
            return Ok(());
        }
        let why = format!("frame {frame}: {error}");
        log::warn!("the GPU failed on {why}: running this frame and the rest on the CPU backend");
        self.fallbacks.gpu_failed = Some(why);
        self.description = format!("{} (the GPU failed)", cpu_description());
        let mut cpu = self.spare.take().unwrap_or_default();
        cpu.run(plan, sizes, input, frame, out);
        self.exec = Exec::Cpu(cpu);
        Ok(())
    }

    /// GPU time of the last frame's compute work, without transfers; `None`
    /// on the CPU backend or where the adapter has no timestamp queries.
    pub fn last_gpu_time(&self) -> Option<std::time::Duration> {
        if self.last_on_cpu {
            return None;
        }
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
    #[cfg(not(target_arch = "wasm32"))]
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
                engines.push(gpu::block_on(Self::gpu(adapter.clone()))?);
            }
        }
        Ok(engines)
    }

    /// Runs a plan on an image and returns its first output in the image's
    /// own layout (gray stays gray, alpha stays).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_image(
        &mut self,
        plan: &Plan,
        image: &image::DynamicImage,
    ) -> Result<image::DynamicImage, RunError> {
        let (frame, kind) = crate::io::to_frame(image);
        let out = self.run_frame(plan, &frame, 0)?;
        Ok(crate::io::from_frame(&out[0], kind))
    }
}

/// What to do when no adapter is found.
const NO_ADAPTER_HINT: &str = if cfg!(target_arch = "wasm32") {
    " (this browser offers no WebGPU adapter; headless Chromium needs --enable-unsafe-webgpu)"
} else {
    " (on Linux, the package mesa-vulkan-drivers provides a software one)"
};

fn cpu_description() -> String {
    format!("the CPU backend ({} threads)", rayon::current_num_threads())
}

/// A panic's message, where it is text.
#[cfg(not(target_arch = "wasm32"))]
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    format!("the GPU backend panicked: {}", text.unwrap_or("no message"))
}

//! Executes a plan with wgpu compute shaders. One device per engine; shader
//! modules and pipelines built once and cached; per frame, one upload per
//! input, every pass of every node recorded into one command encoder, and
//! one readback for all requested frames. Frame buffers are per plan slot
//! and scratch buffers per scratch index, both kept and grown across frames.

pub mod shaders;

use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::frame::{Frame, Size};
use crate::graph::{Plan, Source};
use crate::ops::{Binding, FrameCtx, GpuWork};

/// Why the GPU backend could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter found{0}")]
    NoAdapter(&'static str),
    #[error("{wanted} GPUs asked for, {found} found")]
    TooFewGpus { wanted: usize, found: usize },
    #[error("cannot open the GPU device: {0}")]
    Device(String),
    #[error("GPU error: {0}")]
    Wgpu(String),
    #[error("the GPU device was lost ({0})")]
    Lost(String),
    #[error("{what} needs a {bytes}-byte GPU buffer; this device allows {limit}")]
    TooLarge {
        what: String,
        bytes: u64,
        limit: u64,
    },
}

/// The adapter found, and whether it is a software rasterizer.
#[derive(Clone)]
pub struct Found {
    pub adapter: wgpu::Adapter,
    pub software: bool,
}

/// The best adapter: discrete, then integrated, virtual, other; a CPU
/// (software) adapter only when `allow_software`.
#[cfg(not(target_arch = "wasm32"))]
pub fn find_adapter(allow_software: bool) -> Option<Found> {
    find_adapters(allow_software).into_iter().next()
}

/// Every adapter that runs compute shaders, best first (discrete, then
/// integrated, virtual, other, and software ones only when
/// `allow_software`), in the order the platform lists them within a kind,
/// so that adapter k is the same GPU from run to run.
#[cfg(not(target_arch = "wasm32"))]
pub fn find_adapters(allow_software: bool) -> Vec<Found> {
    block_on(find_adapters_async(allow_software))
}

/// [`find_adapters`] for callers that must not block: on the web, where
/// the browser hands out its one adapter asynchronously.
pub async fn find_adapters_async(allow_software: bool) -> Vec<Found> {
    let backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        flags: wgpu::InstanceFlags::empty().with_env(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let rank = |t: wgpu::DeviceType| match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let mut adapters: Vec<wgpu::Adapter> = instance
        .enumerate_adapters(backends)
        .await
        .into_iter()
        .filter(|a| {
            let compute = a
                .get_downlevel_capabilities()
                .flags
                .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS);
            compute && (allow_software || a.get_info().device_type != wgpu::DeviceType::Cpu)
        })
        .collect();
    // One GPU may be listed by several APIs (Vulkan and DX12 on Windows):
    // keep the adapters of the API that lists the best one.
    adapters.sort_by_key(|a| rank(a.get_info().device_type));
    if let Some(api) = adapters.first().map(|a| a.get_info().backend) {
        adapters.retain(|a| a.get_info().backend == api);
    }
    adapters
        .into_iter()
        .map(|adapter| Found {
            software: adapter.get_info().device_type == wgpu::DeviceType::Cpu,
            adapter,
        })
        .collect()
}

fn wgpu_error(e: impl std::fmt::Display) -> GpuError {
    GpuError::Wgpu(e.to_string())
}

/// Maps `slice` and waits until it is mapped (and all submitted work
/// done). Natively the wait blocks in a device poll, so the future is ready
/// when first polled; on the web the browser maps the buffer between tasks,
/// so the future yields to it.
async fn map_and_wait(
    device: &wgpu::Device,
    slice: wgpu::BufferSlice<'_>,
    mode: wgpu::MapMode,
) -> Result<(), GpuError> {
    let (tx, rx) = futures_channel::oneshot::channel();
    slice.map_async(mode, move |r| {
        let _ = tx.send(r);
    });
    #[cfg(not(target_arch = "wasm32"))]
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(wgpu_error)?;
    #[cfg(target_arch = "wasm32")]
    let _ = device;
    rx.await.map_err(wgpu_error)?.map_err(wgpu_error)
}

/// Runs a future of the GPU backend natively, where its waits all block
/// (see [`map_and_wait`]): it is ready when first polled.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(future)
}

/// Frames go into and out of mapped memory in pieces of this many bytes, on
/// all threads: one core's memcpy is much of a frame's transfer time.
const COPY_CHUNK: usize = 1 << 20;

/// Copies `bytes` into the start of mapped `buffer` in pieces: on all
/// threads natively, in turn on the web (one thread, and its mapped ranges
/// cannot be shared between threads).
fn copy_to_mapped(buffer: &wgpu::Buffer, bytes: &[u8]) -> Result<(), GpuError> {
    let copy = |at: u64, src: &[u8]| {
        let mut view = buffer
            .slice(at..at + src.len() as u64)
            .get_mapped_range_mut()
            .map_err(wgpu_error)?;
        view.copy_from_slice(src);
        Ok::<_, GpuError>(())
    };
    #[cfg(not(target_arch = "wasm32"))]
    let chunks = bytes.par_chunks(COPY_CHUNK);
    #[cfg(target_arch = "wasm32")]
    let chunks = bytes.chunks(COPY_CHUNK);
    chunks
        .enumerate()
        .try_for_each(|(i, src)| copy((i * COPY_CHUNK) as u64, src))
}

/// A frame-sized buffer's bytes.
fn frame_bytes(size: Size) -> u64 {
    size.pixels() as u64 * 4
}

/// The bytes a buffer of `bytes` is made with: bindings must not be empty,
/// and copies move multiples of 4.
fn padded(bytes: u64) -> u64 {
    bytes.max(16).next_multiple_of(16)
}

/// The GPU backend.
pub struct GpuBackend {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    pipelines: HashMap<(&'static str, &'static str), wgpu::ComputePipeline>,
    slots: Vec<Option<wgpu::Buffer>>,
    scratch: Vec<Option<wgpu::Buffer>>,
    uniforms: Option<wgpu::Buffer>,
    data: Option<wgpu::Buffer>,
    readback: Option<wgpu::Buffer>,
    /// Staging for the input frame, kept mapped between frames:
    /// `queue.write_buffer` would allocate (and the OS fault in) a fresh
    /// staging buffer for every frame.
    upload: Option<wgpu::Buffer>,
    upload_mapped: bool,
    timer: Option<Timer>,
    last_gpu_ns: Option<f64>,
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// Why the device was lost, once it was: every later error is that one.
    lost: Arc<Mutex<Option<String>>>,
}

/// Timestamps at the start and end of a frame's compute pass, where the
/// adapter supports them: GPU time without the transfers.
struct Timer {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    period_ns: f64,
}

/// Bytes of the two resolved timestamps.
const TIMESTAMP_BYTES: u64 = 16;

/// Where a uniform or data blob landed in its arena.
#[derive(Clone, Copy)]
struct Span {
    offset: u64,
    size: u64,
}

/// Appends `bytes` at the next multiple of `align`.
fn push_aligned(arena: &mut Vec<u8>, bytes: &[u8], align: u64) -> Span {
    let offset = (arena.len() as u64).next_multiple_of(align);
    arena.resize(offset as usize, 0);
    arena.extend_from_slice(bytes);
    // Bindings must not be empty and storage sizes are multiples of 4.
    let size = (bytes.len() as u64).max(4).next_multiple_of(4);
    arena.resize((offset + size) as usize, 0);
    Span { offset, size }
}

impl GpuBackend {
    /// Opens a device on `found`, asking for the adapter's own limits so that
    /// large frames fit in one storage buffer.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(found: Found) -> Result<Self, GpuError> {
        block_on(Self::open(found))
    }

    /// [`GpuBackend::new`] for callers that must not block (the web).
    pub async fn open(found: Found) -> Result<Self, GpuError> {
        let adapter = found.adapter;
        let limits = adapter.limits();
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("stillgraph"),
                required_features: features,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let timer = features
            .contains(wgpu::Features::TIMESTAMP_QUERY)
            .then(|| Timer {
                set: device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("frame timer"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                }),
                resolve: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("frame timer"),
                    size: TIMESTAMP_BYTES,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
                period_ns: f64::from(queue.get_timestamp_period()),
            });
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut errors) = sink.lock() {
                errors.push(e.to_string());
            }
        }));
        let lost = Arc::new(Mutex::new(None));
        let sink = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut lost) = sink.lock() {
                let sep = if message.is_empty() { "" } else { ": " };
                *lost = Some(format!("{reason:?}{sep}{message}"));
            }
        });
        Ok(Self {
            device,
            queue,
            info: adapter.get_info(),
            limits,
            pipelines: HashMap::new(),
            slots: Vec::new(),
            scratch: Vec::new(),
            uniforms: None,
            data: None,
            readback: None,
            upload: None,
            upload_mapped: false,
            timer,
            last_gpu_ns: None,
            uncaptured,
            lost,
        })
    }

    /// GPU time of the last frame's compute pass in nanoseconds, where the
    /// adapter has timestamp queries.
    pub fn last_gpu_ns(&self) -> Option<f64> {
        self.last_gpu_ns
    }

    /// Adapter name and graphics API, e.g. "NVIDIA H100 80GB HBM3 (Vulkan)".
    pub fn describe(&self) -> String {
        if self.info.name.is_empty() {
            // Browsers may keep the adapter's name to themselves.
            let kind = match self.info.device_type {
                wgpu::DeviceType::Cpu => "the browser's software adapter",
                _ => "the browser's adapter",
            };
            return format!("{kind} ({:?})", self.info.backend);
        }
        format!("{} ({:?})", self.info.name, self.info.backend)
    }

    /// The largest storage buffer this backend makes: where a frame or an
    /// op's scratch is larger, the frame cannot run here.
    pub fn storage_limit(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// Test hook: treat buffers over `bytes` as over the device's limits,
    /// so that tests reach the too-large path with small frames.
    #[doc(hidden)]
    pub fn limit_buffers(&mut self, bytes: u64) {
        let limits = &mut self.limits;
        limits.max_storage_buffer_binding_size = limits.max_storage_buffer_binding_size.min(bytes);
        limits.max_buffer_size = limits.max_buffer_size.min(bytes);
    }

    /// Test hook: destroys the device, as a GPU reset or a removed eGPU
    /// would; every later call fails.
    #[doc(hidden)]
    pub fn destroy(&self) {
        self.device.destroy();
    }

    /// Refuses, before anything is made or submitted, a frame whose buffers
    /// the device cannot hold, naming the largest culprit: the input, a
    /// node's frame or scratch, or the readback of the frames asked for.
    fn check_fits(
        &self,
        plan: &Plan,
        sizes: &[Size],
        input: Size,
        works: &[GpuWork],
    ) -> Result<(), GpuError> {
        let limit = self.storage_limit();
        let mut worst = (
            padded(frame_bytes(input)),
            format!("the {input} input frame"),
        );
        for (i, (node, work)) in plan.nodes.iter().zip(works).enumerate() {
            let step = format!("step \"{}\" ({})", node.name, node.op.name());
            let frame = padded(frame_bytes(sizes[i]));
            if frame > worst.0 {
                worst = (frame, format!("the {} frame of {step}", sizes[i]));
            }
            if let Some(&bytes) = work.scratch.iter().max()
                && padded(bytes) > worst.0
            {
                worst = (padded(bytes), format!("the scratch of {step}"));
            }
        }
        if worst.0 > limit {
            return Err(GpuError::TooLarge {
                what: worst.1,
                bytes: worst.0,
                limit,
            });
        }
        let read: u64 = plan.reads.iter().map(|(n, _)| frame_bytes(sizes[*n])).sum();
        let read = padded(read + TIMESTAMP_BYTES);
        if read > self.limits.max_buffer_size {
            return Err(GpuError::TooLarge {
                what: format!("the readback of {} frames", plan.reads.len()),
                bytes: read,
                limit: self.limits.max_buffer_size,
            });
        }
        Ok(())
    }

    /// Runs `f` in a validation error scope; any error wgpu reports becomes ours.
    async fn checked<T>(&self, f: impl FnOnce() -> T) -> Result<T, GpuError> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = f();
        match scope.pop().await {
            Some(e) => Err(wgpu_error(e)),
            None => Ok(value),
        }
    }

    /// Builds (once) the pipeline of a shader entry point.
    async fn prepare(&mut self, shader: &'static str, entry: &'static str) -> Result<(), GpuError> {
        if self.pipelines.contains_key(&(shader, entry)) {
            return Ok(());
        }
        let source = shaders::module_source(shader)
            .ok_or_else(|| GpuError::Wgpu(format!("no shader named {shader}")))?;
        let pipeline = self
            .checked(|| {
                let desc = wgpu::ShaderModuleDescriptor {
                    label: Some(shader),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                };
                // wgpu guards every loop with a counter, in case a shader
                // never ends; the counters cost 4-22% of the loop-heavy
                // kernels on the H200 (BENCHMARKS.md, 2026-12-04, third
                // sitting). SAFETY: our shaders are our own, and each loop
                // counts to a bound computed from validated parameters or
                // frame sizes (which the engine checks against the device's
                // limits), so none runs forever and no counter wraps. All
                // other checks stay on.
                let mut checks = wgpu::ShaderRuntimeChecks::checked();
                checks.force_loop_bounding = false;
                let module = unsafe { self.device.create_shader_module_trusted(desc, checks) };
                self.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry),
                        layout: None,
                        module: &module,
                        entry_point: Some(entry),
                        compilation_options: Default::default(),
                        cache: None,
                    })
            })
            .await?;
        self.pipelines.insert((shader, entry), pipeline);
        Ok(())
    }

    /// A buffer of at least `bytes`, kept from earlier frames when it fits.
    fn ensure(
        device: &wgpu::Device,
        limits: &wgpu::Limits,
        slot: &mut Option<wgpu::Buffer>,
        bytes: u64,
        usage: wgpu::BufferUsages,
        what: &str,
    ) -> Result<(), GpuError> {
        let bytes = padded(bytes);
        let limit = if usage.contains(wgpu::BufferUsages::STORAGE) {
            limits
                .max_storage_buffer_binding_size
                .min(limits.max_buffer_size)
        } else {
            limits.max_buffer_size
        };
        if bytes > limit {
            return Err(GpuError::TooLarge {
                what: what.to_string(),
                bytes,
                limit,
            });
        }
        if slot.as_ref().is_none_or(|b| b.size() < bytes) {
            *slot = Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(what),
                size: bytes,
                usage,
                mapped_at_creation: false,
            }));
        }
        Ok(())
    }

    /// Copies `input` into the upload buffer, making or mapping it as needed.
    async fn stage_input(&mut self, input: &Frame) -> Result<(), GpuError> {
        let bytes = padded(frame_bytes(input.size()));
        if self.upload.as_ref().is_none_or(|b| b.size() < bytes) {
            self.upload = Some(self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("upload"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: true,
            }));
            self.upload_mapped = true;
        }
        let upload = self.upload.as_ref().expect("made above");
        if !self.upload_mapped {
            map_and_wait(&self.device, upload.slice(..), wgpu::MapMode::Write).await?;
        }
        let pixels: &[u8] = bytemuck::cast_slice(input.pixels());
        copy_to_mapped(upload, pixels)?;
        upload.unmap();
        self.upload_mapped = false;
        Ok(())
    }

    /// Runs every node on `input` and leaves the frames of `plan.reads` in
    /// `out`, reusing its allocations. On a lost device the error says so,
    /// whatever call first noticed it.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run(
        &mut self,
        plan: &Plan,
        sizes: &[Size],
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) -> Result<(), GpuError> {
        block_on(self.run_async(plan, sizes, input, frame, out))
    }

    /// [`GpuBackend::run`] for callers that must not block (the web).
    pub async fn run_async(
        &mut self,
        plan: &Plan,
        sizes: &[Size],
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) -> Result<(), GpuError> {
        let result = self.run_once(plan, sizes, input, frame, out).await;
        if result.is_err() {
            // A lost device's callback runs from a poll.
            let _ = self.device.poll(wgpu::PollType::Poll);
        }
        match self.lost.lock().ok().and_then(|l| l.clone()) {
            Some(why) if result.is_err() => Err(GpuError::Lost(why)),
            _ => result,
        }
    }

    async fn run_once(
        &mut self,
        plan: &Plan,
        sizes: &[Size],
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) -> Result<(), GpuError> {
        let storage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;

        // What every node will dispatch this frame.
        let works: Vec<GpuWork> = plan
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let ins: Vec<Size> = node
                    .inputs
                    .iter()
                    .map(|s| plan.size_of(*s, input.size(), sizes))
                    .collect();
                node.op.gpu(
                    &FrameCtx {
                        key: node.key(frame),
                    },
                    &ins,
                    sizes[i],
                )
            })
            .collect();
        self.check_fits(plan, sizes, input.size(), &works)?;
        for pass in works.iter().flat_map(|w| &w.passes) {
            self.prepare(pass.shader, pass.entry).await?;
        }

        // Frame and scratch buffers, sized for the largest user of each.
        let mut slot_bytes = vec![0u64; plan.slots];
        slot_bytes[plan.input_slot] = frame_bytes(input.size());
        for (node, size) in plan.nodes.iter().zip(sizes) {
            slot_bytes[node.slot] = slot_bytes[node.slot].max(frame_bytes(*size));
        }
        self.slots.resize_with(plan.slots, || None);
        for (i, bytes) in slot_bytes.iter().enumerate() {
            Self::ensure(
                &self.device,
                &self.limits,
                &mut self.slots[i],
                *bytes,
                storage,
                "a frame",
            )?;
        }
        let scratch_count = works.iter().map(|w| w.scratch.len()).max().unwrap_or(0);
        self.scratch
            .resize_with(self.scratch.len().max(scratch_count), || None);
        for (k, slot) in self.scratch.iter_mut().enumerate().take(scratch_count) {
            let bytes = works
                .iter()
                .filter_map(|w| w.scratch.get(k))
                .max()
                .copied()
                .unwrap_or(0);
            Self::ensure(
                &self.device,
                &self.limits,
                slot,
                bytes,
                storage,
                "an op's scratch image",
            )?;
        }

        // Uniform and data blobs of every pass, each in one arena.
        let (mut uni, mut dat) = (Vec::new(), Vec::new());
        let ua = u64::from(self.limits.min_uniform_buffer_offset_alignment);
        let sa = u64::from(self.limits.min_storage_buffer_offset_alignment);
        let spans: Vec<Vec<Option<Span>>> = works
            .iter()
            .flat_map(|w| &w.passes)
            .map(|pass| {
                pass.bindings
                    .iter()
                    .map(|(_, b)| match b {
                        Binding::Uniform(bytes) => Some(push_aligned(&mut uni, bytes, ua)),
                        Binding::Data(bytes) => Some(push_aligned(&mut dat, bytes, sa)),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let uniform_usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
        Self::ensure(
            &self.device,
            &self.limits,
            &mut self.uniforms,
            uni.len() as u64,
            uniform_usage,
            "uniforms",
        )?;
        Self::ensure(
            &self.device,
            &self.limits,
            &mut self.data,
            dat.len() as u64,
            storage,
            "op tables",
        )?;
        let read_bytes: Vec<u64> = plan
            .reads
            .iter()
            .map(|(n, _)| frame_bytes(sizes[*n]))
            .collect();
        let map_usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let frames_bytes: u64 = read_bytes.iter().sum();
        let timer_bytes = if self.timer.is_some() {
            TIMESTAMP_BYTES
        } else {
            0
        };
        Self::ensure(
            &self.device,
            &self.limits,
            &mut self.readback,
            frames_bytes + timer_bytes,
            map_usage,
            "readback",
        )?;

        self.stage_input(input).await?;
        let upload = self.upload.clone().expect("staged above");
        let (uniforms, data, readback) = match (&self.uniforms, &self.data, &self.readback) {
            (Some(u), Some(d), Some(r)) => (u, d, r),
            _ => return Err(GpuError::Wgpu("arena buffers missing".into())),
        };
        let buffer = |slot: &Option<wgpu::Buffer>| slot.as_ref().expect("ensured above").clone();
        let slots: Vec<wgpu::Buffer> = self.slots.iter().map(buffer).collect();
        let scratch: Vec<wgpu::Buffer> = self
            .scratch
            .iter()
            .take(scratch_count)
            .map(buffer)
            .collect();

        let device = &self.device;
        let queue = &self.queue;
        let pipelines = &self.pipelines;
        let timer = self.timer.as_ref();
        let result = self.checked(|| {
            if !uni.is_empty() {
                queue.write_buffer(uniforms, 0, &uni);
            }
            if !dat.is_empty() {
                queue.write_buffer(data, 0, &dat);
            }

            let mut groups = Vec::new();
            let mut span_of_pass = spans.iter();
            for (i, (node, work)) in plan.nodes.iter().zip(&works).enumerate() {
                let frame_of = |src: Source| match src {
                    Source::Input => (plan.input_slot, input.size()),
                    Source::Node(j) => (plan.nodes[j].slot, sizes[j]),
                };
                for pass in &work.passes {
                    let pass_spans = span_of_pass.next().expect("one span list per pass");
                    let entries: Vec<wgpu::BindGroupEntry> = pass
                        .bindings
                        .iter()
                        .zip(pass_spans)
                        .map(|((binding, b), span)| {
                            let (buf, offset, size) = match (b, span) {
                                (Binding::Uniform(_), Some(s)) => (uniforms, s.offset, s.size),
                                (Binding::Data(_), Some(s)) => (data, s.offset, s.size),
                                (Binding::Input(k), _) => {
                                    let (slot, size) = frame_of(node.inputs[*k]);
                                    (&slots[slot], 0, frame_bytes(size))
                                }
                                (Binding::Output, _) => {
                                    (&slots[node.slot], 0, frame_bytes(sizes[i]))
                                }
                                (Binding::Scratch(k), _) => (&scratch[*k], 0, work.scratch[*k]),
                                _ => unreachable!("blobs always get a span"),
                            };
                            wgpu::BindGroupEntry {
                                binding: *binding,
                                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                    buffer: buf,
                                    offset,
                                    size: wgpu::BufferSize::new(size),
                                }),
                            }
                        })
                        .collect();
                    let pipeline = &pipelines[&(pass.shader, pass.entry)];
                    let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some(pass.entry),
                        layout: &pipeline.get_bind_group_layout(0),
                        entries: &entries,
                    });
                    groups.push((pipeline, group, pass.workgroups));
                }
            }

            let mut encoder = device.create_command_encoder(&Default::default());
            let input_bytes = frame_bytes(input.size());
            encoder.copy_buffer_to_buffer(&upload, 0, &slots[plan.input_slot], 0, input_bytes);
            {
                let mut cpass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("frame"),
                    timestamp_writes: timer.map(|t| wgpu::ComputePassTimestampWrites {
                        query_set: &t.set,
                        beginning_of_pass_write_index: Some(0),
                        end_of_pass_write_index: Some(1),
                    }),
                });
                for (pipeline, group, [x, y, z]) in &groups {
                    cpass.set_pipeline(pipeline);
                    cpass.set_bind_group(0, group, &[]);
                    cpass.dispatch_workgroups(*x, *y, *z);
                }
            }
            let mut offset = 0;
            for ((n, _), bytes) in plan.reads.iter().zip(&read_bytes) {
                encoder.copy_buffer_to_buffer(
                    &slots[plan.nodes[*n].slot],
                    0,
                    readback,
                    offset,
                    *bytes,
                );
                offset += bytes;
            }
            if let Some(t) = timer {
                encoder.resolve_query_set(&t.set, 0..2, &t.resolve, 0);
                encoder.copy_buffer_to_buffer(&t.resolve, 0, readback, offset, TIMESTAMP_BYTES);
            }
            queue.submit([encoder.finish()]);
        });
        result.await?;

        // Map the upload buffer again for the next frame; it is ready when
        // this frame's work is, so the one wait below covers both.
        let (upload_tx, mut upload_rx) = futures_channel::oneshot::channel();
        upload.slice(..).map_async(wgpu::MapMode::Write, move |r| {
            let _ = upload_tx.send(r);
        });
        let slice = readback.slice(..frames_bytes + timer_bytes);
        map_and_wait(&self.device, slice, wgpu::MapMode::Read).await?;
        self.upload_mapped = upload_rx
            .try_recv()
            .is_ok_and(|r| r.is_some_and(|r| r.is_ok()));
        let gpu_ns = {
            let view = slice.get_mapped_range().map_err(wgpu_error)?;
            let words: &[u32] = bytemuck::cast_slice(&view);
            let gpu_ns = timer.map(|t| {
                let at = (frames_bytes / 4) as usize;
                let stamp = |i: usize| {
                    u64::from(words[at + 2 * i]) | (u64::from(words[at + 2 * i + 1]) << 32)
                };
                stamp(1).saturating_sub(stamp(0)) as f64 * t.period_ns
            });
            out.resize_with(plan.reads.len(), || Frame::new(Size::new(0, 0)));
            let mut offset = 0;
            for ((n, _), f) in plan.reads.iter().zip(out.iter_mut()) {
                let size = sizes[*n];
                f.reshape(size);
                f.pixels_mut()
                    .par_chunks_mut(COPY_CHUNK / 4)
                    .zip(words[offset..offset + size.pixels()].par_chunks(COPY_CHUNK / 4))
                    .for_each(|(d, s)| d.copy_from_slice(s));
                offset += size.pixels();
            }
            gpu_ns
        };
        readback.unmap();
        self.last_gpu_ns = gpu_ns;
        if let Some(e) = self.uncaptured.lock().ok().and_then(|mut v| v.pop()) {
            return Err(GpuError::Wgpu(e));
        }
        Ok(())
    }
}

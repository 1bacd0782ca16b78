//! The shared WGSL pieces against their Rust twins, through a tiny compute
//! dispatch: the pcg4d test vector, `random4` keyed like the CPU, and the
//! packing and reflection helpers.

mod common;

use stillgraph::backend::gpu::{find_adapter, shaders::LIB};
use stillgraph::frame::{pack_rgba, unpack_rgba};
use stillgraph::ops::reflect;
use stillgraph::rng::{GAUSSIAN_TEST_VECTOR, GAUSSIAN_TOLERANCE, PCG4D_TEST_VECTOR, RngKey, pcg4d};
use wgpu::util::DeviceExt;

/// Probes run one at a time: in parallel, each with its own device, they
/// hung on an NVIDIA H100 under Vulkan (not investigated further).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `body` (WGSL using the shared library) with `input` bound at 0 and
/// `output` (as many words as `input`) at 1, one invocation per 4 words.
fn probe(body: &str, input: &[u32]) -> Option<Vec<u32>> {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    common::gpu_engine()?;
    let found = find_adapter(true)?;
    let (device, queue) =
        pollster::block_on(found.adapter.request_device(&Default::default())).unwrap();
    let mut source: String = LIB.iter().map(|(_, s)| *s).collect::<Vec<_>>().join("\n");
    source.push_str(
        "@group(0) @binding(0) var<storage, read> inp: array<vec4<u32>>;\n\
         @group(0) @binding(1) var<storage, read_write> outp: array<vec4<u32>>;\n",
    );
    source.push_str(body);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: None,
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: None,
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bytes = (input.len() * 4) as u64;
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
    let inp = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(input),
        usage,
    });
    let outp = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: bytes,
        usage,
        mapped_at_creation: false,
    });
    let read = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: inp.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: outp.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &group, &[]);
        pass.dispatch_workgroups(input.len() as u32 / 4, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&outp, 0, &read, 0, bytes);
    queue.submit([encoder.finish()]);
    read.slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let words = bytemuck::cast_slice(&read.slice(..).get_mapped_range().unwrap()).to_vec();
    Some(words)
}

#[test]
fn wgsl_pcg4d_matches_the_test_vector() {
    let input: Vec<u32> = PCG4D_TEST_VECTOR.iter().flat_map(|(i, _)| *i).collect();
    let body = "@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: vec3<u32>) { outp[id.x] = pcg4d(inp[id.x]); }";
    let Some(got) = probe(body, &input) else {
        return;
    };
    let want: Vec<u32> = PCG4D_TEST_VECTOR.iter().flat_map(|(_, o)| *o).collect();
    assert_eq!(got, want);
}

#[test]
fn wgsl_random4_matches_the_cpu_for_the_same_key() {
    let key = RngKey::new(0xDEAD_BEEF_0123, 2, 7);
    let points: [[u32; 4]; 4] = [
        [0, 0, 0, 0],
        [1919, 1079, 3, 0],
        [5, 9, 0, 0],
        [u32::MAX, 1, 2, 0],
    ];
    let mut input: Vec<u32> = key.0.to_vec();
    input.extend(points.iter().flatten());
    let body = "@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x == 0u) { outp[0] = inp[0]; return; }
        let p = inp[id.x];
        outp[id.x] = random4(inp[0], p.x, p.y, p.z);
    }";
    let Some(got) = probe(body, &input) else {
        return;
    };
    for (i, p) in points.iter().enumerate() {
        let want = key.random4(p[0], p[1], p[2]);
        assert_eq!(&got[4 * (i + 1)..][..4], want, "random4 at {p:?}");
    }
    assert_ne!(pcg4d([0; 4]), [0; 4]);
}

#[test]
fn wgsl_pack_and_reflect_match_the_cpu() {
    // Each lane: a packed pixel scaled by 1.37 and repacked; and reflect(i, 5).
    let pixels = [0x00000000u32, 0xffffffff, 0x80_7f_01_fe, 0x12_34_56_78];
    let offsets = [-12i32, -1, 4, 11];
    let mut input = pixels.to_vec();
    input.extend(offsets.iter().map(|&o| o as u32));
    let body = "@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x == 0u) {
            let p = inp[0];
            outp[0] = vec4<u32>(pack_rgba(unpack_rgba(p.x) * 1.37), pack_rgba(unpack_rgba(p.y) * 1.37),
                                pack_rgba(unpack_rgba(p.z) * 1.37), pack_rgba(unpack_rgba(p.w) * 1.37));
        } else {
            let o = vec4<i32>(inp[1]);
            outp[1] = vec4<u32>(vec4<i32>(reflect_index(o.x, 5), reflect_index(o.y, 5), reflect_index(o.z, 5), reflect_index(o.w, 5)));
        }
    }";
    let Some(got) = probe(body, &input) else {
        return;
    };
    let scaled: Vec<u32> = pixels
        .iter()
        .map(|&p| pack_rgba(unpack_rgba(p).map(|c| c * 1.37)))
        .collect();
    assert_eq!(got[..4], scaled);
    let reflected: Vec<u32> = offsets.iter().map(|&o| reflect(o, 5) as u32).collect();
    assert_eq!(got[4..], reflected);
}

#[test]
fn wgsl_gaussian_pair_matches_the_test_vector() {
    // Each lane: two (a, b) pairs in, their two normal pairs out as f32 bits.
    let input: Vec<u32> = GAUSSIAN_TEST_VECTOR.iter().flat_map(|(i, _)| *i).collect();
    let body = "@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        let w = inp[id.x];
        outp[id.x] = bitcast<vec4<u32>>(vec4<f32>(gaussian_pair(w.x, w.y), gaussian_pair(w.z, w.w)));
    }";
    let Some(got) = probe(body, &input) else {
        return;
    };
    let want = GAUSSIAN_TEST_VECTOR.iter().flat_map(|(_, o)| *o);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let g = f32::from_bits(*g);
        // log, cos and sin of the shader are not the CPU's: a float tolerance.
        assert!((g - w).abs() <= GAUSSIAN_TOLERANCE, "value {i}: {g} vs {w}");
    }
}

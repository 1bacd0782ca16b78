// Separable resampling with precomputed Pillow taps: rows into an f32
// scratch image (out_width x in_height), then columns back to 8 bits.
// Twin: src/ops/resize.rs (`resample`).

struct Uniforms {
    in_width: u32,
    in_height: u32,
    out_width: u32,
    out_height: u32,
    taps: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> starts: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> rows: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> src: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(16, 16)
fn horizontal(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.out_width || id.y >= u.in_height) {
        return;
    }
    var acc = vec4<f32>(0.0);
    for (var t = 0u; t < u.taps; t++) {
        let x = min(starts[id.x] + t, u.in_width - 1u);
        acc += weights[id.x * u.taps + t] * unpack_rgba(src[id.y * u.in_width + x]);
    }
    rows[id.y * u.out_width + id.x] = acc;
}

@compute @workgroup_size(16, 16)
fn vertical(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.out_width || id.y >= u.out_height) {
        return;
    }
    var acc = vec4<f32>(0.0);
    for (var t = 0u; t < u.taps; t++) {
        let y = min(starts[id.y] + t, u.in_height - 1u);
        acc += weights[id.y * u.taps + t] * rows[y * u.out_width + id.x];
    }
    dst[id.y * u.out_width + id.x] = pack_rgba(acc);
}

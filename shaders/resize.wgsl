// Separable resampling with precomputed Pillow taps: rows into an f32
// scratch image (out_width x in_height), then columns back to 8 bits; nearest
// both ways is one gather of packed pixels. Twin: src/ops/resize.rs
// (`resample`).
//
// `weights` is tap-major (tap t of output i at t * outputs + i), so that a
// warp of 32 neighbouring outputs reads one run of them per tap.

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
@group(0) @binding(6) var<storage, read> starts_y: array<u32>;

// A pixel as floats without int-to-float conversions (quarter rate on most
// GPUs): a byte under the exponent of 2^23 is 2^23 + byte exactly.
fn rgba(p: u32) -> vec4<f32> {
    let bytes = vec4<u32>(p, p >> 8u, p >> 16u, p >> 24u) & vec4<u32>(0xffu);
    return bitcast<vec4<f32>>(bytes | vec4<u32>(0x4b000000u)) - vec4<f32>(8388608.0);
}

// Rows of 64 outputs per workgroup: a warp is 32 neighbours in one row.
@compute @workgroup_size(64, 4)
fn horizontal(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.out_width || id.y >= u.in_height) {
        return;
    }
    let line = id.y * u.in_width;
    let start = starts[id.x];
    var acc = vec4<f32>(0.0);
    for (var t = 0u; t < u.taps; t++) {
        let x = min(start + t, u.in_width - 1u);
        acc += weights[t * u.out_width + id.x] * rgba(src[line + x]);
    }
    rows[id.y * u.out_width + id.x] = acc;
}

// Two output rows per thread, whose taps mostly read the same source rows:
// each source row of either is read once and added to each output it
// belongs to, every output still summing its own taps in order.
@compute @workgroup_size(64, 4)
fn vertical(@builtin(global_invocation_id) id: vec3<u32>) {
    let y0 = 2u * id.y;
    if (id.x >= u.out_width || y0 >= u.out_height) {
        return;
    }
    let two = y0 + 1u < u.out_height;
    let y1 = select(y0, y0 + 1u, two);
    let s0 = starts[y0];
    let s1 = starts[y1];
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    for (var s = min(s0, s1); s < max(s0, s1) + u.taps; s++) {
        let v = rows[min(s, u.in_height - 1u) * u.out_width + id.x];
        // Unsigned: a row before an output's first tap wraps past `taps`.
        let t0 = s - s0;
        if (t0 < u.taps) {
            a0 += weights[t0 * u.out_height + y0] * v;
        }
        let t1 = s - s1;
        if (two && t1 < u.taps) {
            a1 += weights[t1 * u.out_height + y1] * v;
        }
    }
    dst[y0 * u.out_width + id.x] = pack_rgba(a0);
    if (two) {
        dst[y1 * u.out_width + id.x] = pack_rgba(a1);
    }
}

// Nearest both ways: every output is one source pixel, copied packed.
@compute @workgroup_size(64, 4)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.out_width || id.y >= u.out_height) {
        return;
    }
    dst[id.y * u.out_width + id.x] = src[starts_y[id.y] * u.in_width + starts[id.x]];
}

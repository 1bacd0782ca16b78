// Scales HSV saturation keeping hue and value. Twin: src/ops/saturation.rs.

struct Uniforms {
    width: u32,
    height: u32,
    factor: f32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

// With H and V fixed every channel is linear in S, so scaling S by k (clamped
// to S <= 1) scales each channel's distance from V by min(k, 1/S). Gray
// pixels (hi == lo) come back unchanged through ratio 0.
fn scale_saturation(c: vec4<f32>, k: f32) -> vec4<f32> {
    let hi = max(c.r, max(c.g, c.b));
    let lo = min(c.r, min(c.g, c.b));
    var ratio = 0.0;
    if (hi > lo) {
        ratio = min(k, hi / (hi - lo));
    }
    return vec4<f32>(hi - (hi - c.rgb) * ratio, c.a);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    dst[i] = pack_rgba(scale_saturation(unpack_rgba(src[i]), u.factor));
}

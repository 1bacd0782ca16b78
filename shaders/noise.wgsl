// Additive sensor noise: gaussian per pixel and channel, or one uniform
// value per row / column and channel, from the shared counter-based RNG; a
// gray frame (flag 0 from gray_frame.wgsl) gets channel 0's draw on all
// three. Twin: src/ops/noise.rs.

struct Uniforms {
    width: u32,
    height: u32,
    mode: u32,
    scale: f32,
    key: vec4<u32>,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> colour: array<u32>;

const MODE_GAUSSIAN: u32 = 0u;
const MODE_ROW: u32 = 1u;

fn signed_unit(bits: vec3<u32>) -> vec3<f32> {
    return 2.0 * vec3<f32>(unit_f32(bits.x), unit_f32(bits.y), unit_f32(bits.z)) - 1.0;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    var n: vec3<f32>;
    if (u.mode == MODE_GAUSSIAN) {
        let w = random4(u.key, id.x, id.y, 0u);
        n = vec3<f32>(gaussian_pair(w.x, w.y), gaussian_pair(w.z, w.w).x);
    } else if (u.mode == MODE_ROW) {
        n = signed_unit(random4(u.key, 0u, id.y, 1u).xyz);
    } else {
        n = signed_unit(random4(u.key, id.x, 0u, 2u).xyz);
    }
    if (colour[0] == 0u) {
        n = vec3<f32>(n.x);
    }
    let i = id.y * u.width + id.x;
    let c = unpack_rgba(src[i]);
    dst[i] = pack_rgba(vec4<f32>(c.rgb + u.scale * n, c.a));
}

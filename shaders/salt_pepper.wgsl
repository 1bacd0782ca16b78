// Hot and dead pixels, decided per pixel against integer thresholds
// computed on the CPU. Twin: src/ops/salt_pepper.rs.

struct Uniforms {
    key: vec4<u32>,
    width: u32,
    height: u32,
    pepper: u32,
    salt: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    // One random4 serves four neighbours along the row, as on the CPU.
    let bits = random4(u.key, id.x >> 2u, id.y, 0u)[id.x & 3u] >> 1u;
    let p = src[i];
    let alpha = p & 0xff000000u;
    var o = p;
    if (bits < u.pepper) {
        o = alpha;
    } else if (bits < u.salt) {
        o = alpha | 0xffffffu;
    }
    dst[i] = o;
}

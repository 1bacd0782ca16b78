// Detector striping: each pixel's colour times its line's 16.16 gain,
// rounded half up and clipped, in integers. Twin: src/ops/corduroy.rs.

struct Uniforms {
    width: u32,
    height: u32,
    // 1: columns are striped; 0: rows.
    vertical: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> gains: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    let g = gains[select(id.y, id.x, u.vertical == 1u)];
    let p = src[i];
    let c = vec3<u32>(p & 0xffu, (p >> 8u) & 0xffu, (p >> 16u) & 0xffu);
    let q = min(c * g + vec3<u32>(32768u), vec3<u32>(255u << 16u)) >> vec3<u32>(16u);
    dst[i] = q.x | (q.y << 8u) | (q.z << 16u) | (p & 0xff000000u);
}

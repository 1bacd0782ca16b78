// Separable Gaussian blur: rows into an f32 scratch image, then columns back
// to 8 bits. Edges reflect; alpha rides along unblurred in rows[i].w.
// Twin: src/ops/blur_gaussian.rs.

struct Uniforms {
    width: u32,
    height: u32,
    radius: i32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> rows: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> src: array<u32>;
@group(0) @binding(4) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(16, 16)
fn horizontal(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let line = id.y * u.width;
    var acc = vec3<f32>(0.0);
    for (var k = 0; k <= 2 * u.radius; k++) {
        let x = reflect_index(i32(id.x) + k - u.radius, i32(u.width));
        acc += weights[k] * unpack_rgba(src[line + u32(x)]).rgb;
    }
    rows[line + id.x] = vec4<f32>(acc, unpack_rgba(src[line + id.x]).a);
}

@compute @workgroup_size(16, 16)
fn vertical(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    var acc = vec3<f32>(0.0);
    for (var k = 0; k <= 2 * u.radius; k++) {
        let y = reflect_index(i32(id.y) + k - u.radius, i32(u.height));
        acc += weights[k] * rows[u32(y) * u.width + id.x].rgb;
    }
    let i = id.y * u.width + id.x;
    dst[i] = pack_rgba(vec4<f32>(acc, rows[i].w));
}

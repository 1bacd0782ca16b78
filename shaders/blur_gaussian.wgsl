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
    let x0 = i32(id.x) - u.radius;
    var acc = vec3<f32>(0.0);
    // Away from the edges no tap needs reflecting: the same taps in the
    // same order, without the index arithmetic.
    if (x0 >= 0 && x0 + 2 * u.radius < i32(u.width)) {
        for (var k = 0; k <= 2 * u.radius; k++) {
            acc += weights[k] * unpack_rgba(src[line + u32(x0 + k)]).rgb;
        }
    } else {
        for (var k = 0; k <= 2 * u.radius; k++) {
            let x = reflect_index(x0 + k, i32(u.width));
            acc += weights[k] * unpack_rgba(src[line + u32(x)]).rgb;
        }
    }
    rows[line + id.x] = vec4<f32>(acc, unpack_rgba(src[line + id.x]).a);
}

@compute @workgroup_size(16, 16)
fn vertical(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let y0 = i32(id.y) - u.radius;
    var acc = vec3<f32>(0.0);
    if (y0 >= 0 && y0 + 2 * u.radius < i32(u.height)) {
        for (var k = 0; k <= 2 * u.radius; k++) {
            acc += weights[k] * rows[u32(y0 + k) * u.width + id.x].rgb;
        }
    } else {
        for (var k = 0; k <= 2 * u.radius; k++) {
            let y = reflect_index(y0 + k, i32(u.height));
            acc += weights[k] * rows[u32(y) * u.width + id.x].rgb;
        }
    }
    let i = id.y * u.width + id.x;
    dst[i] = pack_rgba(vec4<f32>(acc, rows[i].w));
}

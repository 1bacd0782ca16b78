// Motion blur: the kernel's non-zero taps only, computed on the CPU (about
// two per kernel row); each adds w * src(x + dx, y + dy), edges reflect,
// alpha kept. Twin: src/ops/motion_blur.rs.

struct Uniforms {
    width: u32,
    height: u32,
    count: u32,
    reach_x: i32,
    reach_y: i32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

struct Tap {
    dx: i32,
    dy: i32,
    w: f32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> taps: array<Tap>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

// Rows of 64 pixels per workgroup: each warp reads one run of a row per tap.
@compute @workgroup_size(64, 4)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let x = i32(id.x);
    let y = i32(id.y);
    let w = i32(u.width);
    let h = i32(u.height);
    var acc = vec3<f32>(0.0);
    // Away from the edges no tap needs reflecting: the same taps in the
    // same order, without the index arithmetic.
    if (x >= u.reach_x && x + u.reach_x < w && y >= u.reach_y && y + u.reach_y < h) {
        for (var k = 0u; k < u.count; k++) {
            let t = taps[k];
            acc += t.w * unpack_rgba(src[u32((y + t.dy) * w + x + t.dx)]).rgb;
        }
    } else {
        for (var k = 0u; k < u.count; k++) {
            let t = taps[k];
            let sx = reflect_index(x + t.dx, w);
            let sy = reflect_index(y + t.dy, h);
            acc += t.w * unpack_rgba(src[u32(sy * w + sx)]).rgb;
        }
    }
    let i = id.y * u.width + id.x;
    dst[i] = pack_rgba(vec4<f32>(acc, unpack_rgba(src[i]).a));
}

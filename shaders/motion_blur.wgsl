// Motion blur: the kernel's non-zero taps only, computed on the CPU (about
// two per kernel row); each adds w * src(x + dx, y + dy), edges reflect,
// alpha kept. Twin: src/ops/motion_blur.rs.
//
// `tiled` loads the footprint of a 64x16 block of outputs (the block plus
// the kernel's reach each side) into shared memory once, then every tap is
// a shared read; kernels whose footprint does not fit take `main`, which
// reads its taps from the source directly.

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

// A pixel's colour as floats without an int-to-float conversion (a
// quarter-rate instruction on most GPUs): a byte under the exponent of 2^23
// is 2^23 + byte exactly, so subtracting 2^23 leaves the byte, as exact as
// the CPU's conversion.
fn rgb(p: u32) -> vec3<f32> {
    let bytes = vec3<u32>(p, p >> 8u, p >> 16u) & vec3<u32>(0xffu);
    return bitcast<vec3<f32>>(bytes | vec3<u32>(0x4b000000u)) - vec3<f32>(8388608.0);
}

fn put(x: u32, y: u32, acc: vec3<f32>) {
    if (x < u.width && y < u.height) {
        let i = y * u.width + x;
        dst[i] = pack_rgba(vec4<f32>(acc, f32(src[i] >> 24u)));
    }
}

// Outputs per workgroup of `tiled`: 64 columns, 16 rows (four per thread).
const BLOCK_W: u32 = 64u;
const BLOCK_H: u32 = 16u;
// Words of footprint `tiled` holds; src/ops/motion_blur.rs picks `tiled`
// only for kernels whose footprint fits.
const CAP: u32 = 3584u;

var<workgroup> tile: array<u32, CAP>;

@compute @workgroup_size(64, 4)
fn tiled(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let x0 = i32(wg.x * BLOCK_W);
    let y0 = i32(wg.y * BLOCK_H);
    let tw = BLOCK_W + 2u * u32(u.reach_x);
    let th = BLOCK_H + 2u * u32(u.reach_y);
    let w = i32(u.width);
    let h = i32(u.height);
    for (var ey = lid.y; ey < th; ey += 4u) {
        var sy = y0 + i32(ey) - u.reach_y;
        if (sy < 0 || sy >= h) {
            sy = reflect_index(sy, h);
        }
        for (var ex = lid.x; ex < tw; ex += 64u) {
            var sx = x0 + i32(ex) - u.reach_x;
            if (sx < 0 || sx >= w) {
                sx = reflect_index(sx, w);
            }
            tile[ey * tw + ex] = src[u32(sy * w + sx)];
        }
    }
    workgroupBarrier();
    // Rows lid.y + 4j of the block, j = 0..4, each tap at the same offset.
    let step = 4u * tw;
    var a0 = vec3<f32>(0.0);
    var a1 = vec3<f32>(0.0);
    var a2 = vec3<f32>(0.0);
    var a3 = vec3<f32>(0.0);
    for (var k = 0u; k < u.count; k++) {
        let t = taps[k];
        let i = u32(i32(lid.y) + u.reach_y + t.dy) * tw + u32(i32(lid.x) + u.reach_x + t.dx);
        a0 += t.w * rgb(tile[i]);
        a1 += t.w * rgb(tile[i + step]);
        a2 += t.w * rgb(tile[i + 2u * step]);
        a3 += t.w * rgb(tile[i + 3u * step]);
    }
    let x = u32(x0) + lid.x;
    let y = u32(y0) + lid.y;
    put(x, y, a0);
    put(x, y + 4u, a1);
    put(x, y + 8u, a2);
    put(x, y + 12u, a3);
}

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
            acc += t.w * rgb(src[u32((y + t.dy) * w + x + t.dx)]);
        }
    } else {
        for (var k = 0u; k < u.count; k++) {
            let t = taps[k];
            let sx = reflect_index(x + t.dx, w);
            let sy = reflect_index(y + t.dy, h);
            acc += t.w * rgb(src[u32(sy * w + sx)]);
        }
    }
    put(id.x, id.y, acc);
}

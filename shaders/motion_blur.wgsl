// Motion blur: the kernel's non-zero taps only, computed on the CPU (about
// two per kernel row); each adds w * src(x + dx, y + dy), edges reflect,
// alpha kept. Twin: src/ops/motion_blur.rs.
//
// A workgroup computes a block of 1024 columns by 4 rows, each thread the
// columns li + 256c (c = 0..4) of the four rows. The block's source rows go
// through shared memory one at a time, as three f32 colour planes, bottom
// up: each pixel is loaded and unpacked once per block, and a tap costs one
// shared read a plane. Source row r is kernel row dy = r - y of output row
// y, and going up visits every output's kernel rows in the order of the tap
// list (dy falling), so each output adds its taps in the CPU's order.

struct Uniforms {
    width: u32,
    height: u32,
    reach_x: i32,
    reach_y: i32,
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
// The taps of kernel row dy: taps[ranges[dy + reach_y].x ..][.. .y].
@group(0) @binding(4) var<storage, read> ranges: array<vec2<u32>>;

const COLS: u32 = 1024u;
const ROWS: u32 = 4u;
// A block row and its reach each side: reach_x at most 64 (k 100 reaches 50).
const SPAN: u32 = 1152u;

var<workgroup> plane_r: array<f32, SPAN>;
var<workgroup> plane_g: array<f32, SPAN>;
var<workgroup> plane_b: array<f32, SPAN>;

// The colours at span element e of this thread's four columns.
fn window(e: u32) -> mat4x3<f32> {
    return mat4x3<f32>(
        vec3<f32>(plane_r[e], plane_g[e], plane_b[e]),
        vec3<f32>(plane_r[e + 256u], plane_g[e + 256u], plane_b[e + 256u]),
        vec3<f32>(plane_r[e + 512u], plane_g[e + 512u], plane_b[e + 512u]),
        vec3<f32>(plane_r[e + 768u], plane_g[e + 768u], plane_b[e + 768u]),
    );
}

// Adds the taps of kernel row dy, read from the row in shared memory.
fn add_row(acc: ptr<function, mat4x3<f32>>, dy: i32, li: u32) {
    if (dy < -u.reach_y || dy > u.reach_y) {
        return;
    }
    let range = ranges[u32(dy + u.reach_y)];
    for (var k = range.x; k < range.y; k++) {
        let t = taps[k];
        *acc += t.w * window(u32(i32(li) + u.reach_x + t.dx));
    }
}

fn put(x: u32, y: u32, rgb: vec3<f32>) {
    if (x < u.width && y < u.height) {
        let i = y * u.width + x;
        dst[i] = pack_rgba(vec4<f32>(rgb, f32(src[i] >> 24u)));
    }
}

fn put_row(x: u32, y: u32, m: mat4x3<f32>) {
    put(x, y, m[0]);
    put(x + 256u, y, m[1]);
    put(x + 512u, y, m[2]);
    put(x + 768u, y, m[3]);
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let x0 = wg.x * COLS;
    let y0 = i32(wg.y * ROWS);
    let w = i32(u.width);
    let h = i32(u.height);
    let span = COLS + 2u * u32(u.reach_x);
    var a0 = mat4x3<f32>();
    var a1 = mat4x3<f32>();
    var a2 = mat4x3<f32>();
    var a3 = mat4x3<f32>();
    let bottom = y0 + i32(ROWS) - 1 + u.reach_y;
    for (var r = bottom; r >= y0 - u.reach_y; r--) {
        var sy = r;
        if (sy < 0 || sy >= h) {
            sy = reflect_index(sy, h);
        }
        for (var e = li; e < span; e += 256u) {
            var sx = i32(x0 + e) - u.reach_x;
            if (sx < 0 || sx >= w) {
                sx = reflect_index(sx, w);
            }
            let p = src[u32(sy * w + sx)];
            // A byte under the exponent of 2^23 is 2^23 + byte exactly:
            // floats without int-to-float conversions (quarter rate).
            let bytes = vec3<u32>(p, p >> 8u, p >> 16u) & vec3<u32>(0xffu);
            let v = bitcast<vec3<f32>>(bytes | vec3<u32>(0x4b000000u)) - vec3<f32>(8388608.0);
            plane_r[e] = v.x;
            plane_g[e] = v.y;
            plane_b[e] = v.z;
        }
        workgroupBarrier();
        add_row(&a0, r - y0, li);
        add_row(&a1, r - y0 - 1, li);
        add_row(&a2, r - y0 - 2, li);
        add_row(&a3, r - y0 - 3, li);
        workgroupBarrier();
    }
    let x = x0 + li;
    let y = u32(y0);
    put_row(x, y, a0);
    put_row(x, y + 1u, a1);
    put_row(x, y + 2u, a2);
    put_row(x, y + 3u, a3);
}

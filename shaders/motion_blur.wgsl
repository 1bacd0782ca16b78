// Motion blur: the kernel's non-zero taps only, computed on the CPU (about
// two per kernel row); each adds w * src(x + dx, y + dy), edges reflect,
// alpha kept. Twin: src/ops/motion_blur.rs.
//
// A workgroup computes a block of 288 columns by 8 rows, one warp-sized
// group of threads a row, each thread nine adjacent columns (an odd count,
// so that the 32 lanes' shared reads fall in 32 different banks). The block's
// source rows go through shared memory one at a time, as three f32 colour
// planes, bottom up, each pixel loaded and unpacked once per block; two
// buffers take turns, so one barrier a row suffices, and a row's pixels
// are fetched while the row before is in use. Small blocks of one row per
// group keep many warps on each multiprocessor to hide the latency of
// barriers and reads: at k 31 on the H200, blocks of 960x4 outputs with
// four rows a thread took 117 us, 160x4 one row a group 94, 160x8 85;
// nine columns a thread (288x8) 80.7, seven (224x8) 85.5, and 288x16
// with 512 threads 83.0, all with wgpu's loop counters (288x8 takes 73.7
// without them).
//
// The taps come in chunks of up to four on adjacent columns of one kernel
// row: a thread reads the twelve values its nine columns need of a chunk
// once per plane and makes 36 multiply-adds of them (one shared read
// per multiply-add when taps went one at a time). Source row r is kernel
// row dy = r - y of output row y, and going up visits every output's
// kernel rows in the order of the tap list (dy falling), a chunk's taps in
// the list's order (dx falling), so each output adds its taps in the CPU's
// order.

struct Uniforms {
    width: u32,
    height: u32,
    reach_x: i32,
    reach_y: i32,
}

// Weights of the taps at dx = d, d - 1, d - 2, d - 3 of one kernel row, in
// that order; 0 where the row has no tap.
struct Chunk {
    w: vec4<f32>,
    d: i32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> chunks: array<Chunk>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;
// The chunks of kernel row dy: chunks[ranges[dy + reach_y].x ..][.. .y].
@group(0) @binding(4) var<storage, read> ranges: array<vec2<u32>>;

const LANES: u32 = 32u;
const ROWS: u32 = 8u;
const THREADS: u32 = 256u;
const COLS: u32 = 288u;
// Zeros before the span: a chunk's lowest columns may lie up to three
// left of the reach, with zero weights, and 0 * 0 adds nothing.
const PAD: u32 = 3u;
// PAD, then a block row and reach_x (at most 50, k 100) each side; a
// thread fetches two of its pixels a row.
const SPAN: u32 = 391u;

// Two buffers of three planes (red, green, blue) of SPAN f32s each, as u32
// bits so that the packed output can be staged here too.
var<workgroup> rows: array<u32, 2346>;

// A thread's nine sums.
struct Sums {
    s0: vec3<f32>,
    s1: vec3<f32>,
    s2: vec3<f32>,
    s3: vec3<f32>,
    s4: vec3<f32>,
    s5: vec3<f32>,
    s6: vec3<f32>,
    s7: vec3<f32>,
    s8: vec3<f32>,
}

fn source_row(r: i32) -> u32 {
    let h = i32(u.height);
    if (r < 0 || r >= h) {
        return u32(reflect_index(r, h));
    }
    return u32(r);
}

// The pixel under span element e of source row sy, or 0 past the span.
fn fetch(sy: u32, x0: u32, e: u32, span: u32) -> u32 {
    if (e >= span) {
        return 0u;
    }
    let w = i32(u.width);
    var sx = i32(x0 + e) - u.reach_x;
    if (sx < 0 || sx >= w) {
        sx = reflect_index(sx, w);
    }
    return src[sy * u.width + u32(sx)];
}

fn keep(buf: u32, e: u32, span: u32, p: u32) {
    if (e < span) {
        // A byte under the exponent of 2^23 is 2^23 + byte exactly: floats
        // without int-to-float conversions (quarter rate).
        let bytes = vec3<u32>(p, p >> 8u, p >> 16u) & vec3<u32>(0xffu);
        let v = bitcast<vec3<f32>>(bytes | vec3<u32>(0x4b000000u)) - vec3<f32>(8388608.0);
        let at = buf + PAD + e;
        rows[at] = bitcast<u32>(v.x);
        rows[at + SPAN] = bitcast<u32>(v.y);
        rows[at + 2u * SPAN] = bitcast<u32>(v.z);
    }
}

fn texel(i: u32) -> vec3<f32> {
    return vec3<f32>(
        bitcast<f32>(rows[i]),
        bitcast<f32>(rows[i + SPAN]),
        bitcast<f32>(rows[i + 2u * SPAN]),
    );
}

// Adds the chunks of kernel row dy, read from the source row in buffer buf.
fn add_row(acc: ptr<function, Sums>, dy: i32, buf: u32, lane: u32) {
    if (dy < -u.reach_y || dy > u.reach_y) {
        return;
    }
    let range = ranges[u32(dy + u.reach_y)];
    for (var k = range.x; k < range.y; k++) {
        let c = chunks[k];
        let w = c.w;
        // v_m is column 9 lane + m + d - 3: output column 9 lane + i takes
        // tap j (dx = d - j) from v_(i - j + 3).
        let b = buf + PAD + 9u * lane + u32(u.reach_x + c.d - 3);
        let v0 = texel(b);
        let v1 = texel(b + 1u);
        let v2 = texel(b + 2u);
        let v3 = texel(b + 3u);
        let v4 = texel(b + 4u);
        let v5 = texel(b + 5u);
        let v6 = texel(b + 6u);
        let v7 = texel(b + 7u);
        let v8 = texel(b + 8u);
        let v9 = texel(b + 9u);
        let v10 = texel(b + 10u);
        let v11 = texel(b + 11u);
        var s = *acc;
        s.s0 += w.x * v3;
        s.s0 += w.y * v2;
        s.s0 += w.z * v1;
        s.s0 += w.w * v0;
        s.s1 += w.x * v4;
        s.s1 += w.y * v3;
        s.s1 += w.z * v2;
        s.s1 += w.w * v1;
        s.s2 += w.x * v5;
        s.s2 += w.y * v4;
        s.s2 += w.z * v3;
        s.s2 += w.w * v2;
        s.s3 += w.x * v6;
        s.s3 += w.y * v5;
        s.s3 += w.z * v4;
        s.s3 += w.w * v3;
        s.s4 += w.x * v7;
        s.s4 += w.y * v6;
        s.s4 += w.z * v5;
        s.s4 += w.w * v4;
        s.s5 += w.x * v8;
        s.s5 += w.y * v7;
        s.s5 += w.z * v6;
        s.s5 += w.w * v5;
        s.s6 += w.x * v9;
        s.s6 += w.y * v8;
        s.s6 += w.z * v7;
        s.s6 += w.w * v6;
        s.s7 += w.x * v10;
        s.s7 += w.y * v9;
        s.s7 += w.z * v8;
        s.s7 += w.w * v7;
        s.s8 += w.x * v11;
        s.s8 += w.y * v10;
        s.s8 += w.z * v9;
        s.s8 += w.w * v8;
        *acc = s;
    }
}

// pack_rgba's rounding, alpha left for the caller: truncating 0.5..=255.5
// is its floor.
fn pack_rgb(v: vec3<f32>) -> u32 {
    let q = vec3<u32>(clamp(v, vec3<f32>(0.0), vec3<f32>(255.0)) + 0.5);
    return q.x | (q.y << 8u) | (q.z << 16u);
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let x0 = wg.x * COLS;
    let y0 = i32(wg.y * ROWS);
    // Output row y0 + q, columns 9 lane ..= 9 lane + 8 of the block; q is
    // the same for a whole warp.
    let q = li / LANES;
    let lane = li % LANES;
    let span = COLS + 2u * u32(u.reach_x);
    var acc = Sums();
    let bottom = y0 + i32(ROWS) - 1 + u.reach_y;
    let top = y0 - u.reach_y;
    var sy = source_row(bottom);
    var p0 = fetch(sy, x0, li, span);
    var p1 = fetch(sy, x0, li + THREADS, span);
    var buf = 0u;
    for (var r = bottom; r >= top; r--) {
        // Everyone passed the last barrier, so is done with this buffer's
        // row of two turns ago.
        keep(buf, li, span, p0);
        keep(buf, li + THREADS, span, p1);
        if (r > top) {
            sy = source_row(r - 1);
            p0 = fetch(sy, x0, li, span);
            p1 = fetch(sy, x0, li + THREADS, span);
        }
        workgroupBarrier();
        add_row(&acc, r - y0 - i32(q), buf, lane);
        buf = 3u * SPAN - buf;
    }
    // Packed outputs staged row by row, written back in column order, so
    // that the stores coalesce.
    workgroupBarrier();
    let at = q * COLS + 9u * lane;
    rows[at] = pack_rgb(acc.s0);
    rows[at + 1u] = pack_rgb(acc.s1);
    rows[at + 2u] = pack_rgb(acc.s2);
    rows[at + 3u] = pack_rgb(acc.s3);
    rows[at + 4u] = pack_rgb(acc.s4);
    rows[at + 5u] = pack_rgb(acc.s5);
    rows[at + 6u] = pack_rgb(acc.s6);
    rows[at + 7u] = pack_rgb(acc.s7);
    rows[at + 8u] = pack_rgb(acc.s8);
    workgroupBarrier();
    for (var e = li; e < ROWS * COLS; e += THREADS) {
        let x = x0 + e % COLS;
        let y = u32(y0) + e / COLS;
        if (x < u.width && y < u.height) {
            let i = y * u.width + x;
            dst[i] = rows[e] | (src[i] & 0xff000000u);
        }
    }
}

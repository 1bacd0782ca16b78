// Disk blur by spans: `prefix` writes each row's colour prefix sums over
// the row padded by `radius` reflected pixels; `disk` adds one span per disk
// row, two reads each, and divides with rounding. Integer sums: exact.
// Radii up to 6 take `tile` instead (at the end), one pass that keeps its
// block's prefix sums in workgroup memory.
// Twin: src/ops/blur_circular.rs (which lays its sums out as three planes:
// the means are the same).
//
// Up to radius 63 a span holds at most 127 pixels, so its sum fits 15 bits
// (255 * 127 = 32385): an entry is then two words, red and green each
// modulo 2^15 in the low 15 bits of a half (the top bit of each half is 0)
// and blue in full in the other. Setting the top bits of the span's end
// before subtracting its start keeps each half from borrowing from the
// next, so one subtraction gives both channels' span sums, and `disk`
// reads 8 bytes a span end. Wider disks take `prefix_wide` and
// `disk_wide`, three full words an entry.

struct Uniforms {
    width: u32,
    height: u32,
    radius: u32,
    count: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums_out: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> sums: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> spans: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;
@group(0) @binding(6) var<storage, read_write> wide_out: array<u32>;
@group(0) @binding(7) var<storage, read> wide: array<u32>;

// Padded pixels per tile of `prefix`: 256 threads, four each.
const TILE: u32 = 1024u;

// The tile's pixels, then each one's sum within its thread's run of four
// (red | green << 16, and blue): skewed by one word every 32, so that
// thread t reading element 4t + k hits 32 different banks.
var<workgroup> run_rg: array<u32, 1056>;
var<workgroup> run_b: array<u32, 1056>;
// Each thread's run total, then their inclusive scan.
var<workgroup> part: array<vec3<u32>, 256>;

fn skew(e: u32) -> u32 {
    return e + (e >> 5u);
}

fn rgb(p: u32) -> vec3<u32> {
    return vec3<u32>(p & 0xffu, (p >> 8u) & 0xffu, (p >> 16u) & 0xffu);
}

// Loads padded pixels t0.. of row y into shared memory and scans them: after
// it, `sum_at(e, carry)` is the prefix sum through tile element e. Every
// thread of the workgroup calls it together.
fn scan_tile(y: u32, t0: u32, li: u32) {
    let n = u.width + 2u * u.radius;
    let w = i32(u.width);
    for (var e = li; e < TILE; e += 256u) {
        var p = 0u;
        if (t0 + e < n) {
            var x = i32(t0 + e) - i32(u.radius);
            if (x < 0 || x >= w) {
                x = reflect_index(x, w);
            }
            p = src[y * u.width + u32(x)];
        }
        run_rg[skew(e)] = p;
    }
    workgroupBarrier();
    var s = vec3<u32>(0u);
    for (var k = 0u; k < 4u; k++) {
        let e = skew(4u * li + k);
        s += rgb(run_rg[e]);
        run_rg[e] = s.x | (s.y << 16u);
        run_b[e] = s.z;
    }
    part[li] = s;
    workgroupBarrier();
    // Inclusive scan of the run totals (Hillis-Steele).
    for (var off = 1u; off < 256u; off *= 2u) {
        var a = vec3<u32>(0u);
        if (li >= off) {
            a = part[li - off];
        }
        workgroupBarrier();
        part[li] += a;
        workgroupBarrier();
    }
}

fn sum_at(e: u32, carry: vec3<u32>) -> vec3<u32> {
    let t = e / 4u;
    var before = carry;
    if (t > 0u) {
        before += part[t - 1u];
    }
    let rg = run_rg[skew(e)];
    return before + vec3<u32>(rg & 0xffffu, rg >> 16u, run_b[skew(e)]);
}

// One workgroup per row; entry 0 is 0, entry i + 1 sums padded pixels
// 0..=i. Each tile's sums are written in pixel order, so stores coalesce.
@compute @workgroup_size(256)
fn prefix(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let y = wg.x;
    let n = u.width + 2u * u.radius;
    let base = y * (n + 1u);
    if (li == 0u) {
        sums_out[base] = vec2<u32>(0u);
    }
    var carry = vec3<u32>(0u);
    for (var t0 = 0u; t0 < n; t0 += TILE) {
        scan_tile(y, t0, li);
        for (var e = li; e < TILE; e += 256u) {
            if (t0 + e < n) {
                let s = sum_at(e, carry);
                let rg = (s.x & 0x7fffu) | ((s.y & 0x7fffu) << 16u);
                sums_out[base + 1u + t0 + e] = vec2<u32>(rg, s.z);
            }
        }
        carry += part[255];
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn prefix_wide(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let y = wg.x;
    let n = u.width + 2u * u.radius;
    let base = 3u * y * (n + 1u);
    if (li < 3u) {
        wide_out[base + li] = 0u;
    }
    var carry = vec3<u32>(0u);
    for (var t0 = 0u; t0 < n; t0 += TILE) {
        scan_tile(y, t0, li);
        for (var e = li; e < TILE; e += 256u) {
            if (t0 + e < n) {
                let s = sum_at(e, carry);
                let at = base + 3u * (1u + t0 + e);
                wide_out[at] = s.x;
                wide_out[at + 1u] = s.y;
                wide_out[at + 2u] = s.z;
            }
        }
        carry += part[255];
        workgroupBarrier();
    }
}

// Where disk row d of output rows y + 4j (j = 0..4) starts reading: the
// entry of column `col` in each one's source row, reflected only near the
// top and bottom (the same test for all 32 pixels of a warp).
fn lines(y: u32, d: u32, stride: u32, col: u32) -> vec4<u32> {
    let s = i32(y + d) - i32(u.radius);
    if (s >= 0 && s + 12 < i32(u.height)) {
        let l = u32(s) * stride + col;
        let step = 4u * stride;
        return vec4<u32>(l, l + step, l + 2u * step, l + 3u * step);
    }
    let h = i32(u.height);
    let sy = vec4<i32>(s, s + 4, s + 8, s + 12);
    let r = vec4<u32>(
        u32(reflect_index(sy.x, h)),
        u32(reflect_index(sy.y, h)),
        u32(reflect_index(sy.z, h)),
        u32(reflect_index(sy.w, h)),
    );
    return r * stride + vec4<u32>(col);
}

// The rounded mean, with the division as a multiply by the reciprocal
// (the integer division cost 2 of the 62 us at r 6 on the H200): the
// quotient, at most 255.5, comes out within a ten-thousandth, so at most
// one off, and the remainder puts it right.
fn finish(x: u32, y: u32, acc: vec3<u32>) {
    if (x < u.width && y < u.height) {
        let n = acc + vec3<u32>(u.count / 2u);
        let d = vec3<u32>(u.count);
        var q = vec3<u32>(vec3<f32>(n) * (1.0 / f32(u.count)));
        let r = vec3<i32>(n - q * d);
        q -= select(vec3<u32>(0u), vec3<u32>(1u), r < vec3<i32>(0));
        q += select(vec3<u32>(0u), vec3<u32>(1u), r >= vec3<i32>(d));
        let i = y * u.width + x;
        dst[i] = q.x | (q.y << 8u) | (q.z << 16u) | (src[i] & 0xff000000u);
    }
}

// The span of width 2h + 1 centred at entry `line` (of the padded row).
fn span(line: u32, h: u32) -> vec3<u32> {
    let hi = sums[line + h + 1u];
    let lo = sums[line - h];
    let rg = (hi.x | 0x80008000u) - lo.x;
    return vec3<u32>(rg & 0x7fffu, (rg >> 16u) & 0x7fffu, hi.y - lo.y);
}

fn span_wide(line: u32, h: u32) -> vec3<u32> {
    let hi = 3u * (line + h + 1u);
    let lo = 3u * (line - h);
    return vec3<u32>(wide[hi], wide[hi + 1u], wide[hi + 2u])
        - vec3<u32>(wide[lo], wide[lo + 1u], wide[lo + 2u]);
}

// Blocks of 64x16 outputs, four rows a thread (lid.y + 4j): a warp is 32
// pixels of one row, so each span end is one run of entries and the
// reflection test is the same for all; the block's 16 rows share their
// source rows through the cache (at radius 40, 96 rows of sums for 16 rows
// of output, where a 4-row block needs 84 for 4).
@compute @workgroup_size(64, 4)
fn disk(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y = (id.y / 4u) * 16u + id.y % 4u;
    let stride = u.width + 2u * u.radius + 1u;
    let col = min(x, u.width - 1u) + u.radius;
    var a0 = vec3<u32>(0u);
    var a1 = vec3<u32>(0u);
    var a2 = vec3<u32>(0u);
    var a3 = vec3<u32>(0u);
    for (var d = 0u; d <= 2u * u.radius; d++) {
        let h = spans[d];
        let l = lines(y, d, stride, col);
        a0 += span(l.x, h);
        a1 += span(l.y, h);
        a2 += span(l.z, h);
        a3 += span(l.w, h);
    }
    finish(x, y, a0);
    finish(x, y + 4u, a1);
    finish(x, y + 8u, a2);
    finish(x, y + 12u, a3);
}

// `disk` for radii of 64 and up, whose sums are three full words: the same
// loop with `span_wide`. Two entry points rather than one with a branch per
// tap, since WGSL cannot pass `span` as a parameter and the loop is the
// kernel's whole cost.
@compute @workgroup_size(64, 4)
fn disk_wide(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y = (id.y / 4u) * 16u + id.y % 4u;
    let stride = u.width + 2u * u.radius + 1u;
    let col = min(x, u.width - 1u) + u.radius;
    var a0 = vec3<u32>(0u);
    var a1 = vec3<u32>(0u);
    var a2 = vec3<u32>(0u);
    var a3 = vec3<u32>(0u);
    for (var d = 0u; d <= 2u * u.radius; d++) {
        let h = spans[d];
        let l = lines(y, d, stride, col);
        a0 += span_wide(l.x, h);
        a1 += span_wide(l.y, h);
        a2 += span_wide(l.z, h);
        a3 += span_wide(l.w, h);
    }
    finish(x, y, a0);
    finish(x, y + 4u, a1);
    finish(x, y + 8u, a2);
    finish(x, y + 12u, a3);
}

// Radii up to TILE_RADIUS in one pass, with no scratch frame: a workgroup
// makes a block of 32x32 outputs from its (32 + 2r)-square source block,
// whose row prefix sums it keeps in workgroup memory. A span sum of at most
// 44 pixels fits 16 bits, so red and green share a word with no guard bits.
const TILE_RADIUS: u32 = 6u;
const BLOCK: u32 = 32u;
// Source block side at most, and entries a row (one more: entry 0 is 0).
const SIDE: u32 = 44u;
const ROW: u32 = 45u;
// Each row's 44 entries are scanned as four runs of 11.
const RUN: u32 = 11u;

var<workgroup> tile_sums: array<vec2<u32>, 1980>;
var<workgroup> run_carry: array<vec2<u32>, 176>;

// One span of padded row entry `row`, as the three channels' sums.
fn tile_span(row: u32, lo: u32, hi: u32) -> vec3<u32> {
    let a = tile_sums[row + hi];
    let b = tile_sums[row + lo];
    let rg = a.x - b.x;
    return vec3<u32>(rg & 0xffffu, rg >> 16u, a.y - b.y);
}

@compute @workgroup_size(256)
fn tile(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let r = u.radius;
    let side = BLOCK + 2u * r;
    let x0 = i32(wg.x * BLOCK) - i32(r);
    let y0 = i32(wg.y * BLOCK) - i32(r);
    let w = i32(u.width);
    let h = i32(u.height);
    // Source pixels, reflected at the frame's edges, after entry 0 of
    // their row: four rows at a time, a column a thread.
    let i = li % 64u;
    if (i < side) {
        var sx = x0 + i32(i);
        if (sx < 0 || sx >= w) {
            sx = reflect_index(sx, w);
        }
        for (var j = li / 64u; j < side; j += 4u) {
            var sy = y0 + i32(j);
            if (sy < 0 || sy >= h) {
                sy = reflect_index(sy, h);
            }
            let c = rgb(src[u32(sy) * u.width + u32(sx)]);
            tile_sums[j * ROW + 1u + i] = vec2<u32>(c.x | (c.y << 16u), c.z);
        }
    }
    if (li < SIDE) {
        tile_sums[li * ROW] = vec2<u32>(0u);
    }
    workgroupBarrier();
    // Each run's own prefix sums, then each run's carry from the runs
    // before it in its row, then the carries added.
    let j = li / 4u;
    let k = li % 4u;
    let first = j * ROW + 1u + k * RUN;
    if (li < 4u * SIDE) {
        var s = vec2<u32>(0u);
        for (var e = 0u; e < RUN; e++) {
            s += tile_sums[first + e];
            tile_sums[first + e] = s;
        }
    }
    workgroupBarrier();
    if (li < 4u * SIDE) {
        var c = vec2<u32>(0u);
        for (var q = 0u; q < k; q++) {
            c += tile_sums[j * ROW + (q + 1u) * RUN];
        }
        run_carry[li] = c;
    }
    workgroupBarrier();
    if (li < 4u * SIDE && k > 0u) {
        let c = run_carry[li];
        for (var e = 0u; e < RUN; e++) {
            tile_sums[first + e] += c;
        }
    }
    workgroupBarrier();
    // Four outputs a thread, rows 8 apart, so that a warp reads 32
    // adjacent entries of one row.
    let x = li % BLOCK;
    let ry = li / BLOCK;
    var a0 = vec3<u32>(0u);
    var a1 = vec3<u32>(0u);
    var a2 = vec3<u32>(0u);
    var a3 = vec3<u32>(0u);
    for (var d = 0u; d <= 2u * r; d++) {
        let hw = spans[d];
        let lo = x + r - hw;
        let hi = x + r + hw + 1u;
        let row = (ry + d) * ROW;
        a0 += tile_span(row, lo, hi);
        a1 += tile_span(row + 8u * ROW, lo, hi);
        a2 += tile_span(row + 16u * ROW, lo, hi);
        a3 += tile_span(row + 24u * ROW, lo, hi);
    }
    let ox = wg.x * BLOCK + x;
    let oy = wg.y * BLOCK + ry;
    finish(ox, oy, a0);
    finish(ox, oy + 8u, a1);
    finish(ox, oy + 16u, a2);
    finish(ox, oy + 24u, a3);
}

// Disk blur by spans: `prefix` writes each row's colour prefix sums over
// the row padded by `radius` reflected pixels (one workgroup per row, a
// chunk per invocation and a scan of the chunks); `disk` adds one span per
// disk row, two reads each, and divides with rounding. Integer sums: exact.
// Twin: src/ops/blur_circular.rs.

struct Uniforms {
    width: u32,
    height: u32,
    radius: u32,
    count: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums_out: array<u32>;
@group(0) @binding(3) var<storage, read> sums: array<u32>;
@group(0) @binding(4) var<storage, read> spans: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;

const SCAN: u32 = 256u;

var<workgroup> part: array<vec3<u32>, SCAN>;

// Colour of padded pixel `i` of the row starting at `row`.
fn padded_rgb(row: u32, i: u32) -> vec3<u32> {
    let x = reflect_index(i32(i) - i32(u.radius), i32(u.width));
    let p = src[row + u32(x)];
    return vec3<u32>(p & 0xffu, (p >> 8u) & 0xffu, (p >> 16u) & 0xffu);
}

@compute @workgroup_size(256)
fn prefix(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let y = wg.x;
    let n = u.width + 2u * u.radius;
    let chunk = (n + SCAN - 1u) / SCAN;
    let start = min(li * chunk, n);
    let end = min(start + chunk, n);
    let row = y * u.width;
    var s = vec3<u32>(0u);
    for (var i = start; i < end; i++) {
        s += padded_rgb(row, i);
    }
    part[li] = s;
    workgroupBarrier();
    // Inclusive scan of the chunk sums (Hillis-Steele).
    for (var off = 1u; off < SCAN; off *= 2u) {
        var v = vec3<u32>(0u);
        if (li >= off) {
            v = part[li - off];
        }
        workgroupBarrier();
        part[li] += v;
        workgroupBarrier();
    }
    var acc = part[li] - s;
    let base = y * 3u * (n + 1u);
    if (li == 0u) {
        sums_out[base] = 0u;
        sums_out[base + 1u] = 0u;
        sums_out[base + 2u] = 0u;
    }
    for (var i = start; i < end; i++) {
        acc += padded_rgb(row, i);
        let o = base + 3u * (i + 1u);
        sums_out[o] = acc.x;
        sums_out[o + 1u] = acc.y;
        sums_out[o + 2u] = acc.z;
    }
}

@compute @workgroup_size(16, 16)
fn disk(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let stride = 3u * (u.width + 2u * u.radius + 1u);
    var acc = vec3<u32>(0u);
    for (var d = 0u; d <= 2u * u.radius; d++) {
        let sy = reflect_index(i32(id.y + d) - i32(u.radius), i32(u.height));
        let h = spans[d];
        let line = u32(sy) * stride;
        let hi = line + 3u * (id.x + u.radius + h + 1u);
        let lo = line + 3u * (id.x + u.radius - h);
        acc += vec3<u32>(sums[hi], sums[hi + 1u], sums[hi + 2u])
            - vec3<u32>(sums[lo], sums[lo + 1u], sums[lo + 2u]);
    }
    let q = (acc + vec3<u32>(u.count / 2u)) / vec3<u32>(u.count);
    let i = id.y * u.width + id.x;
    dst[i] = q.x | (q.y << 8u) | (q.z << 16u) | (src[i] & 0xff000000u);
}

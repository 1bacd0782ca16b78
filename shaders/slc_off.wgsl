// Landsat 7 SLC-off: each row's two gaps [lo, hi) (x, y and z, w; the band
// leaves the second empty) come from the CPU; the fill is flat, or the
// row's integer mean outside the gaps plus a per-pixel offset in -5..=5.
// Twin: src/ops/slc_off.rs.

struct Uniforms {
    key: vec4<u32>,
    width: u32,
    height: u32,
    // Packed RGB of a black or white fill.
    flat: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> spans: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

// Twin of the CPU's two gap slices of a row.
fn in_gap(x: u32, s: vec4<u32>) -> bool {
    return (x >= s.x && x < s.y) || (x >= s.z && x < s.w);
}

@compute @workgroup_size(16, 16)
fn fill_flat(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    let s = spans[id.y];
    let p = src[i];
    dst[i] = select(p, (p & 0xff000000u) | u.flat, in_gap(id.x, s));
}

var<workgroup> sums: array<atomic<u32>, 3>;

fn offset_channel(mean: u32, shift: u32, w: u32) -> u32 {
    let v = i32((mean >> shift) & 0xffu) + i32(((w >> 8u) * 11u) >> 24u) - 5;
    return u32(clamp(v, 0, 255)) << shift;
}

// One workgroup per row: the per-channel sums outside the gap, in integers,
// then the row written with the gap filled. The row is read twice, the
// second time from cache: one pass over the frame in memory, not two.
@compute @workgroup_size(256)
fn fill_mean(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let y = wg.y;
    if (t < 3u) {
        atomicStore(&sums[t], 0u);
    }
    workgroupBarrier();
    let s = spans[y];
    let row = y * u.width;
    var acc = vec3<u32>(0u);
    for (var x = t; x < u.width; x += 256u) {
        if (!in_gap(x, s)) {
            let p = src[row + x];
            acc += vec3<u32>(p & 0xffu, (p >> 8u) & 0xffu, (p >> 16u) & 0xffu);
        }
    }
    atomicAdd(&sums[0], acc.x);
    atomicAdd(&sums[1], acc.y);
    atomicAdd(&sums[2], acc.z);
    workgroupBarrier();
    let n = max(u.width - (s.y - s.x) - (s.w - s.z), 1u);
    let m = (vec3<u32>(atomicLoad(&sums[0]), atomicLoad(&sums[1]), atomicLoad(&sums[2]))
        + vec3<u32>(n / 2u)) / vec3<u32>(n);
    let mean = m.x | (m.y << 8u) | (m.z << 16u);
    // One offset for all three where the mean is gray: gray stays gray.
    let gray = (mean & 0xffu) * 0x010101u == mean;
    for (var x = t; x < u.width; x += 256u) {
        let p = src[row + x];
        if (!in_gap(x, s)) {
            dst[row + x] = p;
            continue;
        }
        let r = random4(u.key, x, y, 0u);
        var g = r.y;
        var b = r.z;
        if (gray) {
            g = r.x;
            b = r.x;
        }
        dst[row + x] = (p & 0xff000000u) | offset_channel(mean, 0u, r.x)
            | offset_channel(mean, 8u, g) | offset_channel(mean, 16u, b);
    }
}

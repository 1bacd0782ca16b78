// Disk blur by spans: `prefix` writes each row's colour prefix sums over
// the row padded by `radius` reflected pixels (one workgroup per row, a
// workgroup scan per 256 pixels, so loads and stores are coalesced); `disk`
// adds one span per disk row, two vector reads each, and divides with
// rounding. Integer sums: exact. Twin: src/ops/blur_circular.rs (which
// lays its sums out as three words, not four: the means are the same).

struct Uniforms {
    width: u32,
    height: u32,
    radius: u32,
    count: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums_out: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> sums: array<vec4<u32>>;
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
    let row = y * u.width;
    let base = y * (n + 1u);
    if (li == 0u) {
        sums_out[base] = vec4<u32>(0u);
    }
    var carry = vec3<u32>(0u);
    let tiles = (n + SCAN - 1u) / SCAN;
    for (var t = 0u; t < tiles; t++) {
        let i = t * SCAN + li;
        var v = vec3<u32>(0u);
        if (i < n) {
            v = padded_rgb(row, i);
        }
        part[li] = v;
        workgroupBarrier();
        // Inclusive scan of this tile (Hillis-Steele).
        for (var off = 1u; off < SCAN; off *= 2u) {
            var a = vec3<u32>(0u);
            if (li >= off) {
                a = part[li - off];
            }
            workgroupBarrier();
            part[li] += a;
            workgroupBarrier();
        }
        if (i < n) {
            sums_out[base + i + 1u] = vec4<u32>(carry + part[li], 0u);
        }
        carry += part[SCAN - 1u];
        workgroupBarrier();
    }
}

// Rows of 64 pixels per workgroup: each warp reads one run of entries.
@compute @workgroup_size(64, 4)
fn disk(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let stride = u.width + 2u * u.radius + 1u;
    var acc = vec3<u32>(0u);
    for (var d = 0u; d <= 2u * u.radius; d++) {
        let sy = reflect_index(i32(id.y + d) - i32(u.radius), i32(u.height));
        let h = spans[d];
        let line = u32(sy) * stride + id.x + u.radius;
        acc += (sums[line + h + 1u] - sums[line - h]).xyz;
    }
    let q = (acc + vec3<u32>(u.count / 2u)) / vec3<u32>(u.count);
    let i = id.y * u.width + id.x;
    dst[i] = q.x | (q.y << 8u) | (q.z << 16u) | (src[i] & 0xff000000u);
}

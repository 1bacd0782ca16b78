// Separable Gaussian blur: rows into an f32 scratch of three colour planes
// (R, G, B; rows padded to `stride`, a multiple of 4), then columns back to
// 8 bits with the alpha of the source. Edges reflect. Twin:
// src/ops/blur_gaussian.rs.
//
// Both passes give each thread four consecutive outputs and slide one
// window of source values past them: step `s` reads one value and adds it
// to output `j` with weight w[s - j], the four weights of a step one vector
// of `weights` (w[s], w[s - 1], w[s - 2], w[s - 3]; 0 past the kernel's
// ends), and the zero-weight steps change no sum. The CPU adds each
// mirrored pair of taps before one multiply instead, so the two differ by
// float rounding only (parity within one level).

struct Uniforms {
    width: u32,
    height: u32,
    radius: u32,
    // Floats per scratch row: `width` rounded up to a multiple of 4.
    stride: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> planes_out: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> src: array<u32>;
@group(0) @binding(4) var<storage, read_write> dst: array<u32>;
@group(0) @binding(5) var<storage, read> planes: array<f32>;

// Outputs per workgroup of `horizontal`: 256 threads, four each.
const SEG: u32 = 1024u;
// Source pixels in shared memory at a time: one chunk holds a segment's
// whole span up to radius 128; wider kernels take several chunks.
const CAP: u32 = 1280u;

// One colour plane of the chunk each, skewed by one word every 32 so that
// thread t reading element 4t + s hits 32 different banks.
var<workgroup> tile_r: array<f32, 1320>;
var<workgroup> tile_g: array<f32, 1320>;
var<workgroup> tile_b: array<f32, 1320>;

fn skew(e: u32) -> u32 {
    return e + (e >> 5u);
}

// One row segment of 1024 outputs: its span (segment plus radius each side)
// goes through shared memory a chunk at a time, each source pixel loaded and
// unpacked once per workgroup.
@compute @workgroup_size(256)
fn horizontal(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let y = wg.y;
    let x0 = wg.x * SEG;
    let taps = 2u * u.radius + 1u;
    let span = SEG + 2u * u.radius;
    let first = i32(x0) - i32(u.radius);
    let w = i32(u.width);
    let row = y * u.width;
    // This thread's outputs are x0 + me + 0..4; step s reads span element me + s.
    let me = 4u * li;
    var a0 = vec3<f32>(0.0);
    var a1 = vec3<f32>(0.0);
    var a2 = vec3<f32>(0.0);
    var a3 = vec3<f32>(0.0);
    let chunks = (span + CAP - 1u) / CAP;
    for (var c = 0u; c < chunks; c++) {
        let c0 = c * CAP;
        let n = min(CAP, span - c0);
        for (var e = li; e < n; e += 256u) {
            var x = first + i32(c0 + e);
            if (x < 0 || x >= w) {
                x = reflect_index(x, w);
            }
            let p = src[row + u32(x)];
            let k = skew(e);
            tile_r[k] = f32(p & 0xffu);
            tile_g[k] = f32((p >> 8u) & 0xffu);
            tile_b[k] = f32((p >> 16u) & 0xffu);
        }
        workgroupBarrier();
        // The steps whose element is in this chunk.
        let hi = u32(clamp(i32(c0 + n) - i32(me), 0, i32(taps + 3u)));
        let lo = u32(max(i32(c0) - i32(me), 0));
        for (var s = lo; s < hi; s++) {
            let w = weights[s];
            let k = skew(me + s - c0);
            let v = vec3<f32>(tile_r[k], tile_g[k], tile_b[k]);
            a0 += w.x * v;
            a1 += w.y * v;
            a2 += w.z * v;
            a3 += w.w * v;
        }
        workgroupBarrier();
    }
    if (x0 + me < u.stride) {
        let o = (y * u.stride + x0 + me) / 4u;
        let plane = u.height * u.stride / 4u;
        planes_out[o] = vec4<f32>(a0.x, a1.x, a2.x, a3.x);
        planes_out[plane + o] = vec4<f32>(a0.y, a1.y, a2.y, a3.y);
        planes_out[2u * plane + o] = vec4<f32>(a0.z, a1.z, a2.z, a3.z);
    }
}

// Four rows of one column per thread; a warp is 32 columns of one row, so
// every read of a plane is one run of 128 bytes, and the workgroup's eight
// thread rows share most of their source rows through the cache.
@compute @workgroup_size(32, 8)
fn vertical(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y0 = 4u * id.y;
    if (x >= u.width || y0 >= u.height) {
        return;
    }
    let taps = 2u * u.radius + 1u;
    let h = i32(u.height);
    let plane = u.height * u.stride;
    let top = i32(y0) - i32(u.radius);
    var a0 = vec3<f32>(0.0);
    var a1 = vec3<f32>(0.0);
    var a2 = vec3<f32>(0.0);
    var a3 = vec3<f32>(0.0);
    // Away from the top and bottom (the same for a whole warp) the window's
    // rows are consecutive: one add a step instead of a test and a multiply.
    let inside = top >= 0 && top + i32(taps + 3u) <= h;
    var i = u32(max(top, 0)) * u.stride + x;
    for (var s = 0u; s < taps + 3u; s++) {
        let w = weights[s];
        if (!inside) {
            i = u32(reflect_index(top + i32(s), h)) * u.stride + x;
        }
        let v = vec3<f32>(planes[i], planes[plane + i], planes[2u * plane + i]);
        a0 += w.x * v;
        a1 += w.y * v;
        a2 += w.z * v;
        a3 += w.w * v;
        i += u.stride;
    }
    put(x, y0, a0);
    put(x, y0 + 1u, a1);
    put(x, y0 + 2u, a2);
    put(x, y0 + 3u, a3);
}

fn put(x: u32, y: u32, rgb: vec3<f32>) {
    if (y < u.height) {
        let i = y * u.width + x;
        dst[i] = pack_rgba(vec4<f32>(rgb, f32(src[i] >> 24u)));
    }
}

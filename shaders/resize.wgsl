// Separable resampling with precomputed Pillow taps: rows into an f32
// scratch image (out_width x in_height), then columns back to 8 bits; nearest
// both ways is one gather of packed pixels. Twin: src/ops/resize.rs
// (`resample`).
//
// `weights` is tap-major (tap t of output i at t * outputs + i), so that a
// warp of 32 neighbouring outputs reads one run of them per tap.

struct Uniforms {
    in_width: u32,
    in_height: u32,
    out_width: u32,
    out_height: u32,
    taps: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> starts: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> rows: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> src: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;
@group(0) @binding(6) var<storage, read> starts_y: array<u32>;
@group(0) @binding(7) var<storage, read> groups: array<vec4<u32>>;
@group(0) @binding(8) var<storage, read> table: array<vec4<f32>>;

// A pixel as floats without int-to-float conversions (quarter rate on most
// GPUs): a byte under the exponent of 2^23 is 2^23 + byte exactly.
fn rgba(p: u32) -> vec4<f32> {
    let bytes = vec4<u32>(p, p >> 8u, p >> 16u, p >> 24u) & vec4<u32>(0xffu);
    return bitcast<vec4<f32>>(bytes | vec4<u32>(0x4b000000u)) - vec4<f32>(8388608.0);
}

// Blocks of 64x16 outputs, four rows a thread (lid.y + 4j): a warp is 32
// neighbours in one row, and each tap's weight and start are read once for
// four rows.
@compute @workgroup_size(64, 4)
fn horizontal(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let x = wg.x * 64u + lid.x;
    if (x >= u.out_width) {
        return;
    }
    let y = wg.y * 16u + lid.y;
    let last = u.in_height - 1u;
    let l0 = min(y, last) * u.in_width;
    let l1 = min(y + 4u, last) * u.in_width;
    let l2 = min(y + 8u, last) * u.in_width;
    let l3 = min(y + 12u, last) * u.in_width;
    let start = starts[x];
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var t = 0u; t < u.taps; t++) {
        let sx = min(start + t, u.in_width - 1u);
        let w = weights[t * u.out_width + x];
        a0 += w * rgba(src[l0 + sx]);
        a1 += w * rgba(src[l1 + sx]);
        a2 += w * rgba(src[l2 + sx]);
        a3 += w * rgba(src[l3 + sx]);
    }
    put_row(x, y, a0);
    put_row(x, y + 4u, a1);
    put_row(x, y + 8u, a2);
    put_row(x, y + 12u, a3);
}

fn put_row(x: u32, y: u32, acc: vec4<f32>) {
    if (y < u.in_height) {
        rows[y * u.out_width + x] = acc;
    }
}

fn put(x: u32, y: u32, acc: vec4<f32>) {
    if (y < u.out_height) {
        dst[y * u.out_width + x] = pack_rgba(acc);
    }
}

// Four consecutive output rows per thread, whose taps mostly read the same
// source rows: each source row of any of them is read once and added to
// all four with the table's weights (0 where it is not one of an output's
// taps), so every output still sums its own taps in order. 2x up with 7
// taps: 10 row reads for four outputs, not 28, and no per-tap tests.
@compute @workgroup_size(64, 4)
fn vertical(@builtin(global_invocation_id) id: vec3<u32>) {
    let y0 = 4u * id.y;
    if (id.x >= u.out_width || y0 >= u.out_height) {
        return;
    }
    // Source rows first.., len of them; their weights from table[at].
    let g = groups[id.y];
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var k = 0u; k < g.z; k++) {
        let v = rows[min(g.x + k, u.in_height - 1u) * u.out_width + id.x];
        let w = table[g.y + k];
        a0 += w.x * v;
        a1 += w.y * v;
        a2 += w.z * v;
        a3 += w.w * v;
    }
    put(id.x, y0, a0);
    put(id.x, y0 + 1u, a1);
    put(id.x, y0 + 2u, a2);
    put(id.x, y0 + 3u, a3);
}

// Nearest both ways: every output is one source pixel, copied packed.
@compute @workgroup_size(64, 4)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.out_width || id.y >= u.out_height) {
        return;
    }
    dst[id.y * u.out_width + id.x] = src[starts_y[id.y] * u.in_width + starts[id.x]];
}

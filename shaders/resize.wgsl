// Separable resampling with precomputed Pillow taps: rows into an f32
// scratch image (out_width x in_height), then columns back to 8 bits; nearest
// both ways is one gather of packed pixels. Twin: src/ops/resize.rs
// (`resample`).
//
// Both passes give a thread four neighbouring outputs along their axis,
// whose taps mostly read the same source pixels: each source pixel of any
// of the four is read once and added to all four with a table's weights (0
// where it is not one of an output's taps), so every output still sums its
// own taps in the CPU's order, with no per-tap tests. 2x up with 7 taps:
// about 9 source reads for four outputs, not 28.

struct Uniforms {
    in_width: u32,
    in_height: u32,
    out_width: u32,
    out_height: u32,
    // `horizontal`: source pixels per column group, and how many groups.
    len: u32,
    groups: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
// `horizontal`: each column group's first source column; `gather`: each
// output column's source column.
@group(0) @binding(1) var<storage, read> starts: array<u32>;
// Entry k of column group g at k * groups + g: a warp's 32 groups read one run.
@group(0) @binding(2) var<storage, read> col_weights: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> rows: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> src: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;
@group(0) @binding(6) var<storage, read> starts_y: array<u32>;
// Per group of four output rows: (first source row, where its weights start
// in `row_weights`, how many source rows).
@group(0) @binding(7) var<storage, read> row_groups: array<vec4<u32>>;
@group(0) @binding(8) var<storage, read> row_weights: array<vec4<f32>>;

// A pixel as floats without int-to-float conversions (quarter rate on most
// GPUs): a byte under the exponent of 2^23 is 2^23 + byte exactly.
fn rgba(p: u32) -> vec4<f32> {
    let bytes = vec4<u32>(p, p >> 8u, p >> 16u, p >> 24u) & vec4<u32>(0xffu);
    return bitcast<vec4<f32>>(bytes | vec4<u32>(0x4b000000u)) - vec4<f32>(8388608.0);
}

// Column j of the result: pixel v weighted for output j of a group.
fn spread(w: vec4<f32>, v: vec4<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(w.x * v, w.y * v, w.z * v, w.w * v);
}

fn put_columns(x0: u32, y: u32, m: mat4x4<f32>) {
    if (y >= u.in_height) {
        return;
    }
    let i = y * u.out_width + x0;
    rows[i] = m[0];
    if (x0 + 1u < u.out_width) {
        rows[i + 1u] = m[1];
    }
    if (x0 + 2u < u.out_width) {
        rows[i + 2u] = m[2];
    }
    if (x0 + 3u < u.out_width) {
        rows[i + 3u] = m[3];
    }
}

// Blocks of 256 output columns by 16 rows: a thread has one group of four
// columns in four rows (lid.y + 4j), so each weight read serves 16 outputs
// and each source pixel read four.
@compute @workgroup_size(64, 4)
fn horizontal(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let g = wg.x * 64u + lid.x;
    if (g >= u.groups) {
        return;
    }
    let y = wg.y * 16u + lid.y;
    let last = u.in_height - 1u;
    let l0 = min(y, last) * u.in_width;
    let l1 = min(y + 4u, last) * u.in_width;
    let l2 = min(y + 8u, last) * u.in_width;
    let l3 = min(y + 12u, last) * u.in_width;
    let first = starts[g];
    var a0 = mat4x4<f32>();
    var a1 = mat4x4<f32>();
    var a2 = mat4x4<f32>();
    var a3 = mat4x4<f32>();
    for (var k = 0u; k < u.len; k++) {
        let w = col_weights[k * u.groups + g];
        let sx = min(first + k, u.in_width - 1u);
        a0 += spread(w, rgba(src[l0 + sx]));
        a1 += spread(w, rgba(src[l1 + sx]));
        a2 += spread(w, rgba(src[l2 + sx]));
        a3 += spread(w, rgba(src[l3 + sx]));
    }
    put_columns(4u * g, y, a0);
    put_columns(4u * g, y + 4u, a1);
    put_columns(4u * g, y + 8u, a2);
    put_columns(4u * g, y + 12u, a3);
}

fn put(x: u32, y: u32, acc: vec4<f32>) {
    if (y < u.out_height) {
        dst[y * u.out_width + x] = pack_rgba(acc);
    }
}

// Four consecutive output rows per thread (a warp: 32 columns of the same
// four rows, so a group's weights are one read for all).
@compute @workgroup_size(64, 4)
fn vertical(@builtin(global_invocation_id) id: vec3<u32>) {
    let y0 = 4u * id.y;
    if (id.x >= u.out_width || y0 >= u.out_height) {
        return;
    }
    let g = row_groups[id.y];
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var k = 0u; k < g.z; k++) {
        let v = rows[min(g.x + k, u.in_height - 1u) * u.out_width + id.x];
        let w = row_weights[g.y + k];
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

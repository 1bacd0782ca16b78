// One JPEG round trip per tile with libjpeg's integer arithmetic: colour
// conversion, chroma downsampling, accurate DCT, quantization, IDCT, fancy
// upsampling. This file holds the bindings and entry points; the stages are
// the files beside it, each named as its CPU twin, joined before this one by
// src/backend/gpu/shaders.rs. `blocks` runs one workgroup per 8 blocks (a
// thread per block row) and writes decoded samples, four to a word, into
// `planes`; `decode` upsamples and converts back. Twin:
// src/ops/compression/mod.rs.

struct Uniforms {
    width: u32,
    height: u32,
    hs: u32,
    vs: u32,
    blocks: u32,
    tiles: u32,
    pad0: u32,
    pad1: u32,
}

// A rect compressed as an image of its own; its planes start at word `offset`.
struct Tile {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    first_block: u32,
    ybw: u32,
    ybh: u32,
    cbw: u32,
    cbh: u32,
    cw: u32,
    ch: u32,
    offset: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> tiles: array<Tile>;
// Per coefficient (step, reciprocal, correction, shift): luma, then chroma.
@group(0) @binding(2) var<storage, read> quant: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> src: array<u32>;
@group(0) @binding(4) var<storage, read_write> planes: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;
@group(0) @binding(6) var<storage, read> lut: array<u32>;

var<workgroup> blk: array<array<i32, 64>, 8>;

@compute @workgroup_size(64)
fn blocks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let b = li / 8u;
    let r = li % 8u;
    let g = (wid.y * groups.x + wid.x) * 8u + b;
    let live = g < u.blocks;

    // Which tile, component and block this thread's block is.
    var t = 0u;
    for (var i = 1u; i < u.tiles; i++) {
        if (tiles[i].first_block <= g) {
            t = i;
        }
    }
    let tile = tiles[t];
    let luma_blocks = tile.ybw * tile.ybh;
    let chroma_blocks = tile.cbw * tile.cbh;
    var local = g - tile.first_block;
    var comp = 0u;
    var across = tile.ybw;
    var base = tile.offset;
    if (local >= luma_blocks) {
        local -= luma_blocks;
        comp = 1u + local / chroma_blocks;
        local %= chroma_blocks;
        across = tile.cbw;
        base += tile.ybw * tile.ybh * 16u + (comp - 1u) * chroma_blocks * 16u;
    }
    let bx = local % across;
    let by = local / across;

    let o = r * 8u;
    if (live) {
        let y = by * 8u + r;
        let x = bx * 8u;
        let f = fdct8(array<i32, 8>(
            sample_of(tile, comp, x, y),
            sample_of(tile, comp, x + 1u, y),
            sample_of(tile, comp, x + 2u, y),
            sample_of(tile, comp, x + 3u, y),
            sample_of(tile, comp, x + 4u, y),
            sample_of(tile, comp, x + 5u, y),
            sample_of(tile, comp, x + 6u, y),
            sample_of(tile, comp, x + 7u, y),
        ), true);
        blk[b][o] = f[0];
        blk[b][o + 1u] = f[1];
        blk[b][o + 2u] = f[2];
        blk[b][o + 3u] = f[3];
        blk[b][o + 4u] = f[4];
        blk[b][o + 5u] = f[5];
        blk[b][o + 6u] = f[6];
        blk[b][o + 7u] = f[7];
    }
    workgroupBarrier();
    if (live) {
        // Column r: forward pass, quantization and back, inverse pass.
        let f = fdct8(array<i32, 8>(
            blk[b][r], blk[b][8u + r], blk[b][16u + r], blk[b][24u + r],
            blk[b][32u + r], blk[b][40u + r], blk[b][48u + r], blk[b][56u + r],
        ), false);
        let q = select(64u, 0u, comp == 0u) + r;
        let w = idct8(array<i32, 8>(
            requantize(f[0], quant[q]),
            requantize(f[1], quant[q + 8u]),
            requantize(f[2], quant[q + 16u]),
            requantize(f[3], quant[q + 24u]),
            requantize(f[4], quant[q + 32u]),
            requantize(f[5], quant[q + 40u]),
            requantize(f[6], quant[q + 48u]),
            requantize(f[7], quant[q + 56u]),
        ), CONST_BITS - PASS1_BITS);
        blk[b][r] = w[0];
        blk[b][8u + r] = w[1];
        blk[b][16u + r] = w[2];
        blk[b][24u + r] = w[3];
        blk[b][32u + r] = w[4];
        blk[b][40u + r] = w[5];
        blk[b][48u + r] = w[6];
        blk[b][56u + r] = w[7];
    }
    workgroupBarrier();
    if (live) {
        let s = idct8(array<i32, 8>(
            blk[b][o], blk[b][o + 1u], blk[b][o + 2u], blk[b][o + 3u],
            blk[b][o + 4u], blk[b][o + 5u], blk[b][o + 6u], blk[b][o + 7u],
        ), CONST_BITS + PASS1_BITS + 3);
        let lo = range_limit(s[0]) | (range_limit(s[1]) << 8u) | (range_limit(s[2]) << 16u)
            | (range_limit(s[3]) << 24u);
        let hi = range_limit(s[4]) | (range_limit(s[5]) << 8u) | (range_limit(s[6]) << 16u)
            | (range_limit(s[7]) << 24u);
        let i = base + (by * 8u + r) * across * 2u + bx * 2u;
        planes[i] = lo;
        planes[i + 1u] = hi;
    }
}

// Byte (x, y) of a plane starting at word `base`, `width` bytes to a row.
fn sample_at(base: u32, width: u32, x: u32, y: u32) -> i32 {
    let i = y * width + x;
    return i32((planes[base + i / 4u] >> ((i % 4u) * 8u)) & 0xffu);
}

fn decoded_rgb(t: Tile, x: u32, y: u32) -> u32 {
    let l = sample_at(t.offset, t.ybw * 8u, x, y);
    let cb_base = t.offset + t.ybw * t.ybh * 16u;
    let cb = upsampled(t, cb_base, x, y);
    let cr = upsampled(t, cb_base + t.cbw * t.cbh * 16u, x, y);
    return ycc_to_rgb(l, cb, cr);
}

// A fresh output: RGB decoded, alpha from the input.
@compute @workgroup_size(16, 16)
fn decode(@builtin(global_invocation_id) id: vec3<u32>) {
    let t = tiles[id.z];
    if (id.x >= t.w || id.y >= t.h) {
        return;
    }
    let i = (t.y + id.y) * u.width + t.x + id.x;
    dst[i] = decoded_rgb(t, id.x, id.y) | (src[i] & 0xff000000u);
}

@compute @workgroup_size(16, 16)
fn decode_in_place(@builtin(global_invocation_id) id: vec3<u32>) {
    let t = tiles[id.z];
    if (id.x >= t.w || id.y >= t.h) {
        return;
    }
    let i = (t.y + id.y) * u.width + t.x + id.x;
    dst[i] = decoded_rgb(t, id.x, id.y) | (dst[i] & 0xff000000u);
}

// Input to output through an 8-bit curve on RGB, before in-place round trips.
@compute @workgroup_size(16, 16)
fn prepare(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    let p = src[i];
    dst[i] = lut[p & 0xffu] | (lut[(p >> 8u) & 0xffu] << 8u) | (lut[(p >> 16u) & 0xffu] << 16u)
        | (p & 0xff000000u);
}

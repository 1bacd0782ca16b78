// One JPEG round trip per tile with libjpeg's integer arithmetic: colour
// conversion, chroma downsampling, accurate DCT, quantization, IDCT, fancy
// upsampling. `blocks` runs one workgroup per 8 blocks (a thread per block
// row) and writes decoded samples, four to a word, into `planes`; `decode`
// upsamples and converts back. Twin: src/ops/compression.rs, which says
// which libjpeg file each step follows.

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

const CONST_BITS: i32 = 13;
const PASS1_BITS: i32 = 2;

fn descale(x: i32, n: i32) -> i32 {
    return (x + (1 << u32(n - 1))) >> u32(n);
}

fn rgb_at(t: Tile, x: u32, y: u32) -> vec3<i32> {
    let p = src[(t.y + min(y, t.h - 1u)) * u.width + t.x + min(x, t.w - 1u)];
    return vec3<i32>(i32(p & 0xffu), i32((p >> 8u) & 0xffu), i32((p >> 16u) & 0xffu));
}

fn luma_of(c: vec3<i32>) -> i32 {
    return (19595 * c.r + 38470 * c.g + 7471 * c.b + 32768) >> 16u;
}

// Component `comp` (1 = Cb, 2 = Cr) of chroma sample (cx, cy): the mean of
// hs x vs pixels with libjpeg's alternating bias. Written out rather than
// looped, like everything on the path of `blocks`, so that nothing is
// indexed at run time and the compiler keeps it all in registers.
fn downsampled(t: Tile, cx: u32, cy_in: u32, comp: u32) -> i32 {
    let k = select(vec3<i32>(32768, -27439, -5329), vec3<i32>(-11059, -21709, 32768), comp == 1u);
    let cy = min(cy_in, t.ch - 1u);
    let x0 = cx * u.hs;
    let y0 = cy * u.vs;
    let x1 = x0 + u.hs - 1u;
    let y1 = y0 + u.vs - 1u;
    let offset = (128 << 16u) + 32767;
    var sum = (dot(k, rgb_at(t, x0, y0)) + offset) >> 16u;
    var bias = 0;
    if (u.hs == 2u) {
        sum += (dot(k, rgb_at(t, x1, y0)) + offset) >> 16u;
        bias = i32(cx & 1u);
    }
    if (u.vs == 2u) {
        sum += (dot(k, rgb_at(t, x0, y1)) + offset) >> 16u;
        sum += (dot(k, rgb_at(t, x1, y1)) + offset) >> 16u;
        bias += 1;
    }
    return (sum + bias) >> countTrailingZeros(u.hs * u.vs);
}

// Centred sample (x, y) of component `comp` of a tile, as the encoder sees it.
fn sample_of(t: Tile, comp: u32, x: u32, y: u32) -> i32 {
    if (comp == 0u) {
        return luma_of(rgb_at(t, x, y)) - 128;
    }
    return downsampled(t, x, y, comp) - 128;
}

fn fdct8(d: array<i32, 8>, first: bool) -> array<i32, 8> {
    let tmp0 = d[0] + d[7];
    let tmp7 = d[0] - d[7];
    let tmp1 = d[1] + d[6];
    let tmp6 = d[1] - d[6];
    let tmp2 = d[2] + d[5];
    let tmp5 = d[2] - d[5];
    let tmp3 = d[3] + d[4];
    let tmp4 = d[3] - d[4];
    let tmp10 = tmp0 + tmp3;
    let tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;
    var o: array<i32, 8>;
    var n = CONST_BITS + PASS1_BITS;
    if (first) {
        o[0] = (tmp10 + tmp11) << u32(PASS1_BITS);
        o[4] = (tmp10 - tmp11) << u32(PASS1_BITS);
        n = CONST_BITS - PASS1_BITS;
    } else {
        o[0] = descale(tmp10 + tmp11, PASS1_BITS);
        o[4] = descale(tmp10 - tmp11, PASS1_BITS);
    }
    let z1 = (tmp12 + tmp13) * 4433;
    o[2] = descale(z1 + tmp13 * 6270, n);
    o[6] = descale(z1 - tmp12 * 15137, n);

    let z5 = (tmp4 + tmp6 + tmp5 + tmp7) * 9633;
    let m1 = (tmp4 + tmp7) * -7373;
    let m2 = (tmp5 + tmp6) * -20995;
    let m3 = (tmp4 + tmp6) * -16069 + z5;
    let m4 = (tmp5 + tmp7) * -3196 + z5;
    o[7] = descale(tmp4 * 2446 + m1 + m3, n);
    o[5] = descale(tmp5 * 16819 + m2 + m4, n);
    o[3] = descale(tmp6 * 25172 + m2 + m3, n);
    o[1] = descale(tmp7 * 12299 + m1 + m4, n);
    return o;
}

fn idct8(d: array<i32, 8>, n: i32) -> array<i32, 8> {
    let z1 = (d[2] + d[6]) * 4433;
    let tmp2 = z1 - d[6] * 15137;
    let tmp3 = z1 + d[2] * 6270;
    let tmp0 = (d[0] + d[4]) << u32(CONST_BITS);
    let tmp1 = (d[0] - d[4]) << u32(CONST_BITS);
    let tmp10 = tmp0 + tmp3;
    let tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;

    let z5 = (d[7] + d[3] + d[5] + d[1]) * 9633;
    let m1 = (d[7] + d[1]) * -7373;
    let m2 = (d[5] + d[3]) * -20995;
    let m3 = (d[7] + d[3]) * -16069 + z5;
    let m4 = (d[5] + d[1]) * -3196 + z5;
    let t0 = d[7] * 2446 + m1 + m3;
    let t1 = d[5] * 16819 + m2 + m4;
    let t2 = d[3] * 25172 + m2 + m3;
    let t3 = d[1] * 12299 + m1 + m4;
    return array<i32, 8>(
        descale(tmp10 + t3, n),
        descale(tmp11 + t2, n),
        descale(tmp12 + t1, n),
        descale(tmp13 + t0, n),
        descale(tmp13 - t0, n),
        descale(tmp12 - t1, n),
        descale(tmp11 - t2, n),
        descale(tmp10 - t3, n),
    );
}

fn requantize(x: i32, q: vec4<u32>) -> i32 {
    let n = i32(((u32(abs(x)) + q.z) * q.y) >> q.w);
    return select(n, -n, x < 0) * i32(q.x);
}

fn range_limit(x: i32) -> u32 {
    return u32(clamp((((x + 512) & 1023) - 512) + 128, 0, 255));
}

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

// Fancy upsampling: the nearer chroma samples weigh 3:1, edges repeated.
fn upsampled(t: Tile, base: u32, x: u32, y: u32) -> i32 {
    let width = t.cbw * 8u;
    if (u.hs == 1u) {
        return sample_at(base, width, x, y);
    }
    let even = (x & 1u) == 0u;
    let cx = i32(x >> 1u);
    let c0 = u32(cx);
    let c1 = u32(clamp(select(cx + 1, cx - 1, even), 0, i32(t.cw) - 1));
    if (u.vs == 1u) {
        let s = 3 * sample_at(base, width, c0, y) + sample_at(base, width, c1, y);
        return (s + select(2, 1, even)) >> 2u;
    }
    let cy = i32(y >> 1u);
    let r0 = u32(cy);
    let r1 = u32(clamp(select(cy + 1, cy - 1, (y & 1u) == 0u), 0, i32(t.ch) - 1));
    let near = 3 * sample_at(base, width, c0, r0) + sample_at(base, width, c0, r1);
    let far = 3 * sample_at(base, width, c1, r0) + sample_at(base, width, c1, r1);
    return (3 * near + far + select(7, 8, even)) >> 4u;
}

fn decoded_rgb(t: Tile, x: u32, y: u32) -> u32 {
    let l = sample_at(t.offset, t.ybw * 8u, x, y);
    let cb_base = t.offset + t.ybw * t.ybh * 16u;
    let cb = upsampled(t, cb_base, x, y) - 128;
    let cr = upsampled(t, cb_base + t.cbw * t.cbh * 16u, x, y) - 128;
    let r = l + ((91881 * cr + 32768) >> 16u);
    let g = l + ((-22554 * cb - 46802 * cr + 32768) >> 16u);
    let b = l + ((116130 * cb + 32768) >> 16u);
    let c = vec3<u32>(clamp(vec3<i32>(r, g, b), vec3<i32>(0), vec3<i32>(255)));
    return c.x | (c.y << 8u) | (c.z << 16u);
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

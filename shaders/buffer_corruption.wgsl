// Memory upsets in random tiles, applied in order: each pixel walks the
// tile list, so overlaps compose exactly as on the CPU. Integer arithmetic
// throughout. Twin: src/ops/buffer_corruption.rs.

struct Uniforms {
    key: vec4<u32>,
    width: u32,
    height: u32,
    tile_count: u32,
    // 0 xor, 1 invert, 2 channel shuffle.
    code: u32,
    // xor values are uniform in 0..xor_span.
    xor_span: u32,
    // Severity in 1/65536ths.
    weight: u32,
    pad0: u32,
    pad1: u32,
}

struct Tile {
    rect: vec4<u32>,
    // Source channel of new R, G, B in bytes 0, 1, 2.
    sources: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> tiles: array<Tile>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

fn xor_value(w: u32) -> u32 {
    return ((w >> 8u) * u.xor_span) >> 24u;
}

fn invert_channel(v: u32) -> u32 {
    return (v * (65536u - u.weight) + (255u - v) * u.weight + 32768u) >> 16u;
}

fn corrupt(p: u32, s: u32, t: u32, x: u32, y: u32) -> u32 {
    let alpha = p & 0xff000000u;
    if (u.code == 0u) {
        let r = random4(u.key, x, y, t);
        // A gray pixel gets one value for all three: gray stays gray.
        var g = r.y;
        var b = r.z;
        if ((p & 0xffu) * 0x010101u == (p & 0xffffffu)) {
            g = r.x;
            b = r.x;
        }
        return p ^ (xor_value(r.x) | (xor_value(g) << 8u) | (xor_value(b) << 16u));
    }
    if (u.code == 1u) {
        let r = invert_channel(p & 0xffu);
        let g = invert_channel((p >> 8u) & 0xffu);
        let b = invert_channel((p >> 16u) & 0xffu);
        return r | (g << 8u) | (b << 16u) | alpha;
    }
    let r = (p >> (8u * (s & 0xffu))) & 0xffu;
    let g = (p >> (8u * ((s >> 8u) & 0xffu))) & 0xffu;
    let b = (p >> (8u * (s >> 16u))) & 0xffu;
    return r | (g << 8u) | (b << 16u) | alpha;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    var p = src[i];
    for (var t = 0u; t < u.tile_count; t++) {
        let r = tiles[t].rect;
        // Unsigned wrap-around makes each test one compare per axis.
        if (id.x - r.x < r.z && id.y - r.y < r.w) {
            p = corrupt(p, tiles[t].sources, t, id.x, id.y);
        }
    }
    dst[i] = p;
}

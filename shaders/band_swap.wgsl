// Colour band permutation in random tiles, applied in order: each pixel
// walks the tile list, so overlaps compose exactly as on the CPU.
// Twin: src/ops/band_swap.rs.

struct Uniforms {
    width: u32,
    height: u32,
    tile_count: u32,
    // Source channel of new R, G, B in bytes 0, 1, 2.
    sources: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> tiles: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

fn permute(p: u32, s: u32) -> u32 {
    let r = (p >> (8u * (s & 0xffu))) & 0xffu;
    let g = (p >> (8u * ((s >> 8u) & 0xffu))) & 0xffu;
    let b = (p >> (8u * (s >> 16u))) & 0xffu;
    return r | (g << 8u) | (b << 16u) | (p & 0xff000000u);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    var p = src[i];
    for (var t = 0u; t < u.tile_count; t++) {
        let r = tiles[t];
        // Unsigned wrap-around makes each test one compare per axis.
        if (id.x - r.x < r.z && id.y - r.y < r.w) {
            p = permute(p, u.sources);
        }
    }
    dst[i] = p;
}

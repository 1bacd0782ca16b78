// Bayer mosaic then Malvar-He-Cutler demosaic, kernels times 16 in
// integers, round half to even; a pixel whose footprint is all gray passes
// unchanged. Twin: src/ops/bayer_filter.rs.

struct Uniforms {
    width: u32,
    height: u32,
    // Channel of cell (x, y) in bits 2 * (2y + x).
    pattern: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

fn channel(x: u32, y: u32) -> u32 {
    return (u.pattern >> (2u * (2u * (y & 1u) + (x & 1u)))) & 3u;
}

// Set by `sample` when a footprint pixel is not gray.
var<private> colour: bool;

// The mosaic sample at (x, y), already reflected into the frame.
fn sample(x: i32, y: i32) -> i32 {
    let p = src[u32(y) * u.width + u32(x)];
    colour = colour || ((p & 0xffu) * 0x010101u != (p & 0xffffffu));
    return i32((p >> (8u * channel(u32(x), u32(y)))) & 0xffu);
}

// reflect_index, with the modulo only where the offset leaves the frame.
fn fold(i: i32, n: i32) -> i32 {
    if (i >= 0 && i < n) {
        return i;
    }
    return reflect_index(i, n);
}

fn div16_even(s: i32) -> i32 {
    let q = s >> 4u;
    let r = s & 15;
    return q + select(0, 1, r > 8 || (r == 8 && (q & 1) == 1));
}

fn clip(s: i32) -> u32 {
    return u32(clamp(div16_even(s), 0, 255));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let w = i32(u.width);
    let h = i32(u.height);
    let x = i32(id.x);
    let y = i32(id.y);
    let xm1 = fold(x - 1, w);
    let xp1 = fold(x + 1, w);
    let xm2 = fold(x - 2, w);
    let xp2 = fold(x + 2, w);
    let ym1 = fold(y - 1, h);
    let yp1 = fold(y + 1, h);
    let ym2 = fold(y - 2, h);
    let yp2 = fold(y + 2, h);

    colour = false;
    let c = sample(x, y);
    let h1 = sample(xm1, y) + sample(xp1, y);
    let h2 = sample(xm2, y) + sample(xp2, y);
    let v1 = sample(x, ym1) + sample(x, yp1);
    let v2 = sample(x, ym2) + sample(x, yp2);
    let d = sample(xm1, ym1) + sample(xp1, ym1) + sample(xm1, yp1) + sample(xp1, yp1);

    let i = id.y * u.width + id.x;
    let p = src[i];
    if (!colour) {
        dst[i] = p;
        return;
    }
    // Selects rather than an indexed local array, which GPUs keep in memory.
    let own = channel(id.x, id.y);
    var r: u32;
    var g: u32;
    var b: u32;
    if (own == 1u) {
        // Green site: the channel beside it from the horizontal kernel,
        // the other from its transpose.
        let along = clip(10 * c + 8 * h1 - 2 * h2 - 2 * d + v2);
        let across = clip(10 * c + 8 * v1 - 2 * v2 - 2 * d + h2);
        let red_beside = channel(id.x ^ 1u, id.y) == 0u;
        r = select(across, along, red_beside);
        g = u32(c);
        b = select(along, across, red_beside);
    } else {
        let green = clip(8 * c + 4 * (h1 + v1) - 2 * (h2 + v2));
        let other = clip(12 * c + 4 * d - 3 * (h2 + v2));
        r = select(other, u32(c), own == 0u);
        g = green;
        b = select(u32(c), other, own == 0u);
    }
    dst[i] = r | (g << 8u) | (b << 16u) | (p & 0xff000000u);
}

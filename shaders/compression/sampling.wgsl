// From pixels to the planes the DCT works on, and back: partial blocks
// padded by repeating the last column and row (jcprepct.c), chroma
// downsampled with libjpeg's alternating bias (jcsample.c), and "fancy"
// upsampling on decode (jdsample.c). Twin: src/ops/compression/sampling.rs.

fn rgb_at(t: Tile, x: u32, y: u32) -> vec3<i32> {
    return rgb_of(src[(t.y + min(y, t.h - 1u)) * u.width + t.x + min(x, t.w - 1u)]);
}

// Component `comp` (1 = Cb, 2 = Cr) of chroma sample (cx, cy): the mean of
// hs x vs pixels with libjpeg's alternating bias. Written out rather than
// looped, like everything on the path of `blocks`, so that nothing is
// indexed at run time and the compiler keeps it all in registers.
fn downsampled(t: Tile, cx: u32, cy_in: u32, comp: u32) -> i32 {
    let k = select(CR_WEIGHTS, CB_WEIGHTS, comp == 1u);
    let cy = min(cy_in, t.ch - 1u);
    let x0 = cx * u.hs;
    let y0 = cy * u.vs;
    let x1 = x0 + u.hs - 1u;
    let y1 = y0 + u.vs - 1u;
    var sum = chroma_of(k, rgb_at(t, x0, y0));
    var bias = 0;
    if (u.hs == 2u) {
        sum += chroma_of(k, rgb_at(t, x1, y0));
        bias = i32(cx & 1u);
    }
    if (u.vs == 2u) {
        sum += chroma_of(k, rgb_at(t, x0, y1));
        sum += chroma_of(k, rgb_at(t, x1, y1));
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

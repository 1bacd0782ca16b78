// Colour conversion in libjpeg's 16-bit fixed point: JFIF RGB to YCbCr
// (jccolor.c) and back (jdcolor.c). Twin: src/ops/compression/color.rs.

fn rgb_of(p: u32) -> vec3<i32> {
    return vec3<i32>(i32(p & 0xffu), i32((p >> 8u) & 0xffu), i32((p >> 16u) & 0xffu));
}

fn luma_of(c: vec3<i32>) -> i32 {
    return (19595 * c.r + 38470 * c.g + 7471 * c.b + 32768) >> 16u;
}

// The weights of Cb and Cr, for `chroma_of`: a sample computes only its own
// component.
const CB_WEIGHTS = vec3<i32>(-11059, -21709, 32768);
const CR_WEIGHTS = vec3<i32>(32768, -27439, -5329);

// Cb or Cr by its weights `k`; the offset is 128 plus one half less one.
fn chroma_of(k: vec3<i32>, c: vec3<i32>) -> i32 {
    let offset = (128 << 16u) + 32767;
    return (dot(k, c) + offset) >> 16u;
}

fn ycc_to_rgb(y: i32, cb_in: i32, cr_in: i32) -> u32 {
    let cb = cb_in - 128;
    let cr = cr_in - 128;
    let r = y + ((91881 * cr + 32768) >> 16u);
    let g = y + ((-22554 * cb - 46802 * cr + 32768) >> 16u);
    let b = y + ((116130 * cb + 32768) >> 16u);
    let c = vec3<u32>(clamp(vec3<i32>(r, g, b), vec3<i32>(0), vec3<i32>(255)));
    return c.x | (c.y << 8u) | (c.z << 16u);
}

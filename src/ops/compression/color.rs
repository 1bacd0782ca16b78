//! Colour conversion: JFIF RGB to YCbCr and back in libjpeg's 16-bit fixed
//! point (jccolor.c, jdcolor.c). Twin: `shaders/compression/color.wgsl`.

/// R, G, B of a packed pixel.
#[inline]
pub(super) fn rgb_of(p: u32) -> [i32; 3] {
    [
        (p & 0xff) as i32,
        ((p >> 8) & 0xff) as i32,
        ((p >> 16) & 0xff) as i32,
    ]
}

/// JFIF luma in libjpeg's 16-bit fixed point (jccolor.c).
#[inline]
pub(super) fn luma_of([r, g, b]: [i32; 3]) -> i32 {
    (19595 * r + 38470 * g + 7471 * b + 32768) >> 16
}

/// JFIF Cb and Cr; the offset is 128 plus one half less one, as jccolor.c has it.
#[inline]
pub(super) fn chroma_of([r, g, b]: [i32; 3]) -> [i32; 2] {
    const OFFSET: i32 = (128 << 16) + 32767;
    [
        (-11059 * r - 21709 * g + 32768 * b + OFFSET) >> 16,
        (32768 * r - 27439 * g - 5329 * b + OFFSET) >> 16,
    ]
}

/// YCbCr back to packed RGB (alpha zero) with jdcolor.c's fixed point.
#[inline]
pub(super) fn ycc_to_rgb(y: i32, cb: i32, cr: i32) -> u32 {
    let (cb, cr) = (cb - 128, cr - 128);
    let r = y + ((91881 * cr + 32768) >> 16);
    let g = y + ((-22554 * cb - 46802 * cr + 32768) >> 16);
    let b = y + ((116130 * cb + 32768) >> 16);
    let c = |v: i32| v.clamp(0, 255) as u32;
    c(r) | (c(g) << 8) | (c(b) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_stays_gray_through_colour_conversion() {
        for v in 0..=255 {
            let c = [v; 3];
            assert_eq!(luma_of(c), v);
            assert_eq!(chroma_of(c), [128, 128]);
            assert_eq!(ycc_to_rgb(v, 128, 128), (v as u32) * 0x01_01_01);
        }
    }
}

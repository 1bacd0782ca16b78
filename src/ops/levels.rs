//! Back to 8 bits in a form that vectorizes. [`pack_rgba`] ends in a
//! float-to-integer cast, which Rust saturates and LLVM then does one lane
//! at a time; here the cast is a `floor` (one instruction where SSE4.1 is
//! on, as in every `avx2_twin!` body) and the integer comes from the
//! float's bits. Exactly `pack_rgba`'s result for every input.
//!
//! [`pack_rgba`]: crate::frame::pack_rgba

/// `(c.clamp(0.0, 255.0) + 0.5) as u32`, `pack_rgba`'s rounding, with NaN
/// going to 0 as the cast sends it.
#[inline(always)]
fn level(c: f32) -> u32 {
    // 2²³: added to an integer in 0..2²³, it leaves it in the low mantissa bits.
    const MAGIC: f32 = 8_388_608.0;
    let t = if c.is_nan() { 0.0 } else { c.clamp(0.0, 255.0) };
    // Non-negative, so `floor` is the cast's truncation.
    ((t + 0.5).floor() + MAGIC).to_bits() - MAGIC.to_bits()
}

/// `pack_rgba([r, g, b, 0.0])`: clamped to 0..=255, rounded half up.
#[inline(always)]
pub fn pack_rgb(r: f32, g: f32, b: f32) -> u32 {
    level(r) | (level(g) << 8) | (level(b) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::pack_rgba;

    #[test]
    fn pack_rgb_is_pack_rgba_without_alpha() {
        // Half-way points and their neighbours either side, the clamp's
        // edges, out of range and non-finite, and a fine sweep.
        let mut values = vec![-1e30, -0.5, -0.0, 0.0, 255.0, 300.0, 1e30];
        values.extend([f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
        for n in -2..258 {
            let half = n as f32 + 0.5;
            let below = f32::from_bits(half.to_bits() - 1);
            let above = f32::from_bits(half.to_bits() + 1);
            values.extend([n as f32, half, below, above]);
        }
        values.extend((0..26_000).map(|i| i as f32 * 0.01 - 2.0));
        for &v in &values {
            assert_eq!(pack_rgb(v, 1.0, 2.0), pack_rgba([v, 1.0, 2.0, 0.0]), "{v}");
            assert_eq!(pack_rgb(3.0, v, v), pack_rgba([3.0, v, v, 0.0]), "{v}");
        }
        assert_eq!(pack_rgb(0.5, 127.5, 254.4), 0x00_fe_80_01);
    }
}

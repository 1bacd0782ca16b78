//! Frames as they travel between nodes: 8-bit RGBA, one packed `u32` per
//! pixel, row-major. The GPU storage buffers hold the same words, so a CPU
//! kernel indexes exactly as its WGSL twin does.

use std::fmt;

/// Width and height of a frame in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Number of pixels.
    pub fn pixels(self) -> usize {
        self.width as usize * self.height as usize
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// An RGBA8 frame; each `u32` holds R in its low byte and A in its high byte,
/// the layout of WGSL's `unpack4x8unorm`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    size: Size,
    pixels: Vec<u32>,
}

impl Frame {
    /// A frame of transparent black.
    pub fn new(size: Size) -> Self {
        Self {
            size,
            pixels: vec![0; size.pixels()],
        }
    }

    /// Wraps packed pixels; `None` when the count does not match the size.
    pub fn from_pixels(size: Size, pixels: Vec<u32>) -> Option<Self> {
        (pixels.len() == size.pixels()).then_some(Self { size, pixels })
    }

    /// Builds a frame from interleaved RGBA bytes; `None` on a length mismatch.
    pub fn from_rgba8(size: Size, bytes: &[u8]) -> Option<Self> {
        if bytes.len() != size.pixels() * 4 {
            return None;
        }
        let pixels = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(Self { size, pixels })
    }

    /// Interleaved RGBA bytes.
    pub fn to_rgba8(&self) -> Vec<u8> {
        self.pixels.iter().flat_map(|p| p.to_le_bytes()).collect()
    }

    pub fn size(&self) -> Size {
        self.size
    }

    pub fn width(&self) -> u32 {
        self.size.width
    }

    pub fn height(&self) -> u32 {
        self.size.height
    }

    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    pub fn pixels_mut(&mut self) -> &mut [u32] {
        &mut self.pixels
    }

    /// The packed pixel at (x, y).
    pub fn get(&self, x: u32, y: u32) -> u32 {
        self.pixels[y as usize * self.size.width as usize + x as usize]
    }

    /// Changes the size, reusing the allocation (contents are unspecified).
    pub(crate) fn reshape(&mut self, size: Size) {
        self.size = size;
        self.pixels.resize(size.pixels(), 0);
    }
}

/// The four channels of a packed pixel as floats in 0..=255 (WGSL `unpack_rgba`).
#[inline]
pub fn unpack_rgba(p: u32) -> [f32; 4] {
    [
        (p & 0xff) as f32,
        ((p >> 8) & 0xff) as f32,
        ((p >> 16) & 0xff) as f32,
        (p >> 24) as f32,
    ]
}

/// Rounds half up, clamps to 0..=255 and packs (WGSL `pack_rgba`). Every
/// kernel converts back to 8 bits through this one function, so rounding
/// happens at the same place on both backends.
#[inline(always)]
pub fn pack_rgba(v: [f32; 4]) -> u32 {
    level(v[0]) | (level(v[1]) << 8) | (level(v[2]) << 16) | (level(v[3]) << 24)
}

/// `pack_rgba([r, g, b, 0.0])`, for kernels that put the alpha back as it was.
#[inline(always)]
pub fn pack_rgb(r: f32, g: f32, b: f32) -> u32 {
    level(r) | (level(g) << 8) | (level(b) << 16)
}

/// One channel back to 8 bits: clamped to 0..=255, rounded half up (the
/// shader's `floor(c + 0.5)`), NaN to 0. Written so that it vectorizes: a
/// float-to-integer cast is saturating in Rust and LLVM does it one lane at a
/// time, so the integer comes from the float's bits after adding 2²³ (which
/// leaves an integer in 0..2²³ in the low mantissa bits); `floor` is one
/// instruction in every `avx2_twin!` body (SSE4.1).
#[inline(always)]
fn level(c: f32) -> u32 {
    const MAGIC: f32 = 8_388_608.0;
    let t = if c.is_nan() { 0.0 } else { c.clamp(0.0, 255.0) };
    ((t + 0.5).floor() + MAGIC).to_bits() - MAGIC.to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit trick is the plain rounding it replaces, `(clamp + 0.5) as
    /// u32`, at half-way points and either side of them, the clamp's edges,
    /// out of range, non-finite values and a fine sweep.
    #[test]
    fn levels_are_the_plain_cast() {
        let plain = |c: f32| (c.clamp(0.0, 255.0) + 0.5) as u32;
        let mut values = vec![-1e30, -0.5, -0.0, 0.0, 255.0, 300.0, 1e30];
        values.extend([f32::INFINITY, f32::NEG_INFINITY]);
        for n in -2..258 {
            let half = n as f32 + 0.5;
            values.extend([n as f32, half]);
            values.extend([
                f32::from_bits(half.to_bits() - 1),
                f32::from_bits(half.to_bits() + 1),
            ]);
        }
        values.extend((0..26_000).map(|i| i as f32 * 0.01 - 2.0));
        for &v in &values {
            assert_eq!(level(v), plain(v), "{v}");
        }
        assert_eq!(level(f32::NAN), 0);
        assert_eq!(pack_rgb(0.5, 127.5, 254.4), 0x00_fe_80_01);
        assert_eq!(pack_rgba([0.5, 127.5, 254.4, 9.0]), 0x09_fe_80_01);
    }

    #[test]
    fn pack_rounds_half_up_and_clamps() {
        assert_eq!(pack_rgba([0.49, 0.5, 254.6, 300.0]), 0xff_ff_01_00);
        assert_eq!(pack_rgba([-3.0, 1.0, 2.0, 3.0]), 0x03_02_01_00);
    }

    #[test]
    fn unpack_inverts_pack() {
        for p in [0u32, 0x12345678, 0xffffffff, 0x80ff0001] {
            assert_eq!(pack_rgba(unpack_rgba(p)), p);
        }
    }

    #[test]
    fn rgba8_round_trip() {
        let bytes: Vec<u8> = (0..24).collect();
        let f = Frame::from_rgba8(Size::new(3, 2), &bytes).unwrap();
        assert_eq!(f.get(0, 0), u32::from_le_bytes([0, 1, 2, 3]));
        assert_eq!(f.to_rgba8(), bytes);
        assert!(Frame::from_rgba8(Size::new(3, 3), &bytes).is_none());
    }
}

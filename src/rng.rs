//! The counter-based random function shared with `shaders/lib/rng.wgsl`.
//!
//! WGSL has no 64-bit integers, so everything here works on 32-bit words.
//! A pixel's random bits are a function of (key, x, y, draw) alone, and the
//! key is a function of (seed, step, repeat, frame), so a seed reproduces the
//! same picture on every backend, thread count and GPU.

/// pcg4d from Jarzynski and Olano, "Hash Functions for GPU Rendering" (JCGT 2020).
#[inline(always)]
pub fn pcg4d(a: [u32; 4]) -> [u32; 4] {
    let mut v = a.map(|x| x.wrapping_mul(1664525).wrapping_add(1013904223));
    for round in 0..2 {
        v[0] = v[0].wrapping_add(v[1].wrapping_mul(v[3]));
        v[1] = v[1].wrapping_add(v[2].wrapping_mul(v[0]));
        v[2] = v[2].wrapping_add(v[0].wrapping_mul(v[1]));
        v[3] = v[3].wrapping_add(v[1].wrapping_mul(v[2]));
        if round == 0 {
            v = v.map(|x| x ^ (x >> 16));
        }
    }
    v
}

/// Inputs and outputs of [`pcg4d`], computed independently from the
/// published algorithm by `tests/rng_vector.py`; the Rust function is checked
/// against them here and the WGSL one in `tests/gpu.rs`.
pub const PCG4D_TEST_VECTOR: [([u32; 4], [u32; 4]); 3] = [
    (
        [0, 0, 0, 0],
        [0x0f02f829, 0x2d568769, 0x32b0c43b, 0xd32548ea],
    ),
    (
        [1, 2, 3, 4],
        [0x3622cd16, 0xf11471d8, 0xe1109b3f, 0x02b94c2f],
    ),
    (
        [0xdeadbeef, 0xffffffff, 12345, 0x80000000],
        [0x1ce3464c, 0x4571ad90, 0x00f914f0, 0xa42c141d],
    ),
];

/// The per-node, per-frame key that every random draw of a kernel mixes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RngKey(pub [u32; 4]);

impl RngKey {
    /// Key for one application of a step: `seed` is the step's seed, `repeat`
    /// the repeat index and `frame` the frame index (0 unless the step animates).
    pub fn new(seed: u64, repeat: u32, frame: u32) -> Self {
        Self(pcg4d(pcg4d([
            seed as u32,
            (seed >> 32) as u32,
            repeat,
            frame,
        ])))
    }

    /// Four random words for pixel (x, y), draw `i` (WGSL `random4`).
    #[inline(always)]
    pub fn random4(self, x: u32, y: u32, i: u32) -> [u32; 4] {
        let k = self.0;
        pcg4d(pcg4d([x ^ k[0], y ^ k[1], i ^ k[2], k[3]]))
    }

    /// A sequential generator for the few structural choices a kernel makes
    /// per frame (which tiles, which lines), drawn on the CPU and handed to
    /// both backends.
    pub fn stream(self) -> Rng {
        Rng { key: self, next: 0 }
    }
}

/// Uniform in [0, 1) from 24 random bits: exact in f32 everywhere (WGSL `unit_f32`).
#[inline(always)]
pub fn unit_f32(bits: u32) -> f32 {
    (bits >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Two independent standard normal draws from two random words, by
/// Box–Muller on 24-bit uniforms (WGSL `gaussian_pair`). `u1` is taken as
/// `1 - unit_f32(a)`, in (0, 1], so the logarithm is always finite. The
/// logarithm, sine and cosine are polynomials written out the same way on
/// both sides (libm's and the GPU's differ by ulps, and libm calls do not
/// vectorize); the shader compiler may still fuse multiply-adds, so the
/// sides agree to float tolerance, not bit for bit.
#[inline(always)]
pub fn gaussian_pair(a: u32, b: u32) -> [f32; 2] {
    let r = (-2.0 * ln_unit(1.0 - unit_f32(a))).sqrt();
    // θ = 2π·u2 = (π/2)(q + f): quadrant q from the top two bits, f exact.
    let q = b >> 30;
    let f = ((b >> 8) & 0x3f_ffff) as f32 * (1.0 / 4_194_304.0);
    let [c, s] = cos_sin_quarter(f);
    let (c, s) = if q & 1 == 0 { (c, s) } else { (-s, c) };
    let sign = if q & 2 == 0 { r } else { -r };
    [sign * c, sign * s]
}

/// ln(u) for u in (0, 1]: exponent from the bits, ln of the mantissa m in
/// [1, 2) by the atanh series in t = (m - 1)/(m + 1), |t| ≤ 1/3, to t¹³.
#[inline(always)]
fn ln_unit(u: f32) -> f32 {
    let bits = u.to_bits();
    let e = ((bits >> 23) as i32 - 127) as f32;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let p = 1.0
        + t2 * (1.0 / 3.0
            + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 * (1.0 / 11.0)))));
    e * std::f32::consts::LN_2 + 2.0 * t * p
}

/// cos and sin of (π/2)·f for f in [0, 1), by Taylor series about π/4
/// (|x| ≤ π/4, to x⁹ and x¹⁰: error below 2e-9).
#[inline(always)]
fn cos_sin_quarter(f: f32) -> [f32; 2] {
    let x = (f - 0.5) * std::f32::consts::FRAC_PI_2;
    let x2 = x * x;
    let s = x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))));
    let c = 1.0
        - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))));
    let h = std::f32::consts::FRAC_1_SQRT_2;
    [(c - s) * h, (c + s) * h]
}

/// Inputs and outputs of [`gaussian_pair`], computed in double precision
/// by `tests/rng_vector.py`; held within [`GAUSSIAN_TOLERANCE`] of the Rust
/// function here and of the WGSL one in `tests/gpu.rs`.
pub const GAUSSIAN_TEST_VECTOR: [([u32; 2], [f32; 2]); 4] = [
    ([0, 0], [0.0, 0.0]),
    ([0xffffffff, 0x40000000], [0.0, 5.768_107_5]),
    ([0x80000000, 0x20000000], [0.832_554_6, 0.832_554_6]),
    ([0x12345678, 0x9abcdef0], [-0.304_317_95, -0.234_356_2]),
];

/// How far an f32 [`gaussian_pair`] may be from the double-precision
/// vector: a few ulps of values up to 5.8, through `ln`, `sqrt` and `cos`.
pub const GAUSSIAN_TOLERANCE: f32 = 1e-5;

/// Sequential draws from a key: draw `n` is `random4(n, 0, u32::MAX)`, so the
/// stream is itself counter-based and never collides with pixel draws.
#[derive(Clone, Debug)]
pub struct Rng {
    key: RngKey,
    next: u32,
}

impl Rng {
    pub fn next_u32(&mut self) -> u32 {
        let r = self.key.random4(self.next, 0, u32::MAX)[0];
        self.next = self.next.wrapping_add(1);
        r
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        let hi = u64::from(self.next_u32() >> 5);
        let lo = u64::from(self.next_u32() >> 6);
        ((hi << 26) | lo) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// Uniform integer in 0..n (n > 0), without modulo bias (Lemire's method).
    pub fn below(&mut self, n: u32) -> u32 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u64::from(self.next_u32()) * u64::from(n);
            if (m as u32) >= threshold {
                return (m >> 32) as u32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg4d_matches_vector() {
        for (input, want) in PCG4D_TEST_VECTOR {
            assert_eq!(pcg4d(input), want, "pcg4d({input:?})");
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = RngKey::new(7, 0, 0).stream();
        let mut seen = [0u32; 5];
        for _ in 0..1000 {
            seen[rng.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 150), "{seen:?}");
    }

    #[test]
    fn keys_differ_by_every_coordinate() {
        let base = RngKey::new(1, 0, 0);
        assert_ne!(base, RngKey::new(2, 0, 0));
        assert_ne!(base, RngKey::new(1 << 32, 0, 0));
        assert_ne!(base, RngKey::new(1, 1, 0));
        assert_ne!(base, RngKey::new(1, 0, 1));
    }

    #[test]
    fn gaussian_pair_matches_vector() {
        for (input, want) in GAUSSIAN_TEST_VECTOR {
            let got = gaussian_pair(input[0], input[1]);
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() <= GAUSSIAN_TOLERANCE,
                    "{input:x?}: {got:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn gaussian_pair_has_unit_variance() {
        let key = RngKey::new(11, 0, 0);
        let (mut sum, mut sq, n) = (0f64, 0f64, 20_000);
        for i in 0..n {
            let w = key.random4(i, 0, 0);
            for z in gaussian_pair(w[0], w[1]) {
                sum += f64::from(z);
                sq += f64::from(z) * f64::from(z);
            }
        }
        let (mean, var) = (sum / (2 * n) as f64, sq / (2 * n) as f64);
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
    }

    #[test]
    fn unit_f32_is_in_unit_interval() {
        assert_eq!(unit_f32(0), 0.0);
        assert!(unit_f32(u32::MAX) < 1.0);
    }
}

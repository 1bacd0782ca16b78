//! Quantization: the Annex K tables scaled by quality (jcparam.c), the
//! quotient rounded half away from zero as libjpeg-turbo's reciprocal
//! division does (jcdctmgr.c). The tables are built here for both backends;
//! the shader only divides. Twin: `shaders/compression/quant.wgsl`.

use super::dct::Lanes;

/// Annex K luminance table, natural (row-major) order.
pub(super) const LUMA_BASE: [u32; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// Annex K chrominance table, natural order.
pub(super) const CHROMA_BASE: [u32; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// One quantization table with libjpeg-turbo's reciprocals: per coefficient
/// (step, reciprocal, correction, shift) as the shader reads them, and the
/// same by table row for the CPU's eight lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Quant {
    pub(super) entries: [[u32; 4]; 64],
    rows: [[[u32; 8]; 4]; 8],
}

impl Quant {
    /// `base` scaled by `quality` as `jpeg_set_quality` does with
    /// `force_baseline` (steps clamped to 1..=255).
    pub(super) fn new(base: &[u32; 64], quality: u32) -> Self {
        let q = quality.clamp(1, 100);
        let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
        Self::from_steps(base.map(|t| ((t * scale + 50) / 100).clamp(1, 255)))
    }

    fn from_steps(steps: [u32; 64]) -> Self {
        let entries = steps.map(reciprocal);
        let rows = std::array::from_fn(|v| {
            std::array::from_fn(|k| std::array::from_fn(|u| entries[v * 8 + u][k]))
        });
        Self { entries, rows }
    }

    /// Row `v` of coefficients, quantized then dequantized (WGSL `requantize`).
    #[inline(always)]
    pub(super) fn requantize(&self, x: Lanes, v: usize) -> Lanes {
        let [step, recip, corr, shift] = &self.rows[v];
        // Branch-free, so that it vectorizes: `sign` is 0 or -1.
        let mut r = [0; 8];
        for (i, o) in r.iter_mut().enumerate() {
            let sign = x.0[i] >> 31;
            let magnitude = ((x.0[i] ^ sign) - sign) as u32;
            let n = ((magnitude + corr[i]).wrapping_mul(recip[i]) >> shift[i]) as i32;
            *o = ((n ^ sign) - sign) * step[i] as i32;
        }
        Lanes(r)
    }
}

/// libjpeg-turbo's `compute_reciprocal` for a 16-bit DCT element: the
/// divisor is the step times 8 (the DCT's output scale); `(x + corr) * recip
/// >> shift` equals `(x + d/2) / d` for every `0 <= x < 2^15`.
fn reciprocal(step: u32) -> [u32; 4] {
    let d = step * 8;
    let b = 31 - d.leading_zeros();
    let mut r = 16 + b;
    let mut fq = (1u32 << r) / d;
    let fr = (1u32 << r) % d;
    let mut c = d / 2;
    if fr == 0 {
        fq >>= 1;
        r -= 1;
    } else if fr <= d / 2 {
        c += 1;
    } else {
        fq += 1;
    }
    [step, fq, c, r]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocal_division_rounds_like_integer_division() {
        for step in 1..=255 {
            let q = Quant::from_steps([step; 64]);
            let d = step as i32 * 8;
            for x in (0..32_768).step_by(7).chain([32_767]) {
                let want = (x + d / 2) / d * step as i32;
                let got = q.requantize(Lanes([x, -x, x, -x, x, -x, x, -x]), 3);
                assert_eq!(got.0[..2], [want, -want], "step {step}, x {x}");
            }
        }
    }

    #[test]
    fn quality_scaling_follows_ijg() {
        let steps = |q: u32, base| Quant::new(base, q).entries.map(|e| e[0]);
        assert_eq!(steps(50, &LUMA_BASE), LUMA_BASE);
        assert_eq!(steps(100, &LUMA_BASE), [1; 64]);
        // q 5: scale 1000%, clamped to the baseline 255.
        assert_eq!(steps(5, &LUMA_BASE)[0], 160);
        assert_eq!(steps(5, &CHROMA_BASE)[63], 255);
        assert_eq!(steps(75, &CHROMA_BASE)[0], 9);
    }
}

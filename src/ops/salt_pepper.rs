//! Hot and dead pixels. The reference draws `trunc(amount·W·H)` positions
//! with replacement, salt first then pepper, so pepper wins a collision. We
//! decide per pixel instead (counter-based, any thread count): a pixel gets
//! a pepper hit with probability `amount·(1 − salt_vs_pepper)` and,
//! independently, a salt hit with probability `amount·salt_vs_pepper`;
//! pepper wins when both land. The expected number of hits is the
//! reference's draw count; unlike the reference, `amount: 1` hits every
//! pixel. Twin: `shaders/salt_pepper.wgsl`.

use serde::{Deserialize, Serialize};

use super::{Allowed, Binding, FrameCtx, GpuWork, Op, OpParams, Param, ParamError, par_rows};
use crate::frame::{Frame, Size};
use crate::rng::RngKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaltPepper {
    pub amount: f64,
    pub salt_vs_pepper: f64,
}

const AMOUNT: Param = Param {
    name: "amount",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1.0),
    doc: "expected hits per pixel (each pixel decided on its own)",
};
const SALT_VS_PEPPER: Param = Param {
    name: "salt_vs_pepper",
    ty: "number",
    default: None,
    allowed: Allowed::Range(0.0, 1.0),
    doc: "share of hits that are white; black wins where both land",
};

impl OpParams for SaltPepper {
    const NAME: &'static str = "salt_pepper";
    const SUMMARY: &'static str = "white and black pixels at random, decided per pixel; alpha kept";
    const PARAMS: &'static [Param] = &[AMOUNT, SALT_VS_PEPPER];

    fn validate(&self) -> Result<(), ParamError> {
        AMOUNT.check(self.amount)?;
        SALT_VS_PEPPER.check(self.salt_vs_pepper)
    }
}

/// A pixel's 31 random bits `u` decide it: `u < pepper` black, else
/// `u < salt` white. Integer thresholds out of 2^31, computed once here, so
/// both backends compare the same integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Thresholds {
    pepper: u32,
    salt: u32,
}

const ONE: f64 = (1u64 << 31) as f64;

impl SaltPepper {
    fn thresholds(&self) -> Thresholds {
        let p_pepper = self.amount * (1.0 - self.salt_vs_pepper);
        // Salt shows only where pepper missed.
        let p_salt = self.amount * self.salt_vs_pepper * (1.0 - p_pepper);
        let t = |p: f64| (p * ONE).round().clamp(0.0, ONE) as u32;
        Thresholds {
            pepper: t(p_pepper),
            salt: t(p_pepper + p_salt),
        }
    }
}

/// 31 random bits of pixel (x, y): one `random4` serves four neighbours
/// along the row, a quarter of the hashing on the CPU.
#[inline(always)]
#[cfg(test)]
fn pixel_bits(key: RngKey, x: u32, y: u32) -> u32 {
    key.random4(x >> 2, y, 0)[(x & 3) as usize] >> 1
}

#[inline(always)]
fn hit(p: u32, u: u32, t: Thresholds) -> u32 {
    let alpha = p & 0xff00_0000;
    if u < t.pepper {
        alpha
    } else if u < t.salt {
        alpha | 0xff_ff_ff
    } else {
        p
    }
}

/// `acc += b·c`, lane by lane, wrapping.
#[inline(always)]
fn mul_add(acc: &mut [u32; 8], b: &[u32; 8], c: &[u32; 8]) {
    for ((a, &b), &c) in acc.iter_mut().zip(b).zip(c) {
        *a = a.wrapping_add(b.wrapping_mul(c));
    }
}

/// `key.random4(x0 + l, y, i)` for the eight lanes `l`, computed lane-wise
/// (each word of the four in an array of its own) so that the hash runs
/// eight wide in SIMD; `rng::pcg4d` twice, as written there. (A helper of
/// this op's: `src/rng.rs` is shared and not ours to change.)
#[inline(always)]
pub(crate) fn random4_lanes(key: RngKey, x0: u32, y: u32, i: u32) -> [[u32; 8]; 4] {
    let k = key.0;
    let lanes = |f: &dyn Fn(u32) -> u32| std::array::from_fn::<u32, 8, _>(|l| f(l as u32));
    let mut v = [
        lanes(&|l| x0.wrapping_add(l) ^ k[0]),
        lanes(&|_| y ^ k[1]),
        lanes(&|_| i ^ k[2]),
        lanes(&|_| k[3]),
    ];
    for _ in 0..2 {
        for w in &mut v {
            for a in w.iter_mut() {
                *a = a.wrapping_mul(1664525).wrapping_add(1013904223);
            }
        }
        for round in 0..2 {
            // One word at a time across all lanes: each step is one SIMD
            // multiply-add, where a chain through the four words per lane
            // is partly left scalar by the compiler.
            let [v0, v1, v2, v3] = &mut v;
            mul_add(v0, v1, v3);
            mul_add(v1, v2, v0);
            mul_add(v2, v0, v1);
            mul_add(v3, v1, v2);
            if round == 0 {
                for w in &mut v {
                    for a in w.iter_mut() {
                        *a ^= *a >> 16;
                    }
                }
            }
        }
    }
    v
}

/// [`random4_lanes`] as eight `random4` results, lane by lane.
#[inline(always)]
pub(crate) fn random4_x8(key: RngKey, x0: u32, y: u32, i: u32) -> [[u32; 4]; 8] {
    let v = random4_lanes(key, x0, y, i);
    std::array::from_fn(|l| [v[0][l], v[1][l], v[2][l], v[3][l]])
}

avx2_twin!(row_hits => row_hits_inner(key: RngKey, t: Thresholds, y: u32, line: &[u32], row: &mut [u32]));

#[inline(always)]
fn row_hits_inner(key: RngKey, t: Thresholds, y: u32, line: &[u32], row: &mut [u32]) {
    // 32 pixels: eight blocks of four, one random4 each.
    for (q, (o, i)) in row.chunks_mut(32).zip(line.chunks(32)).enumerate() {
        let bits = random4_x8(key, 8 * q as u32, y, 0);
        for (j, (o, &i)) in o.iter_mut().zip(i).enumerate() {
            *o = hit(i, bits[j / 4][j % 4] >> 1, t);
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    key: [u32; 4],
    width: u32,
    height: u32,
    pepper: u32,
    salt: u32,
}

impl Op for SaltPepper {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn output_size(&self, inputs: &[Size]) -> Result<Size, ParamError> {
        Ok(inputs[0])
    }

    fn run_cpu(&self, ctx: &FrameCtx, inputs: &[&Frame], out: &mut Frame) {
        let t = self.thresholds();
        let src = inputs[0];
        let width = src.width() as usize;
        par_rows(out, |y, row| {
            row_hits(
                ctx.key,
                t,
                y,
                &src.pixels()[y as usize * width..][..width],
                row,
            )
        });
    }

    fn gpu(&self, ctx: &FrameCtx, _inputs: &[Size], out: Size) -> GpuWork {
        let t = self.thresholds();
        let u = Uniforms {
            key: ctx.key.0,
            width: out.width,
            height: out.height,
            pepper: t.pepper,
            salt: t.salt,
        };
        GpuWork::per_pixel(
            "salt_pepper",
            out,
            vec![
                (0, Binding::uniform(&u)),
                (1, Binding::Input(0)),
                (2, Binding::Output),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(amount: f64, salt_vs_pepper: f64) -> SaltPepper {
        SaltPepper {
            amount,
            salt_vs_pepper,
        }
    }

    #[test]
    fn thresholds_at_the_corners() {
        let full = 1 << 31;
        assert_eq!(op(0.0, 0.5).thresholds(), Thresholds { pepper: 0, salt: 0 });
        assert_eq!(
            op(1.0, 0.0).thresholds(),
            Thresholds {
                pepper: full,
                salt: full
            }
        );
        assert_eq!(
            op(1.0, 1.0).thresholds(),
            Thresholds {
                pepper: 0,
                salt: full
            }
        );
        // amount 0.5, half salt: pepper 1/4; salt 1/4 of the 3/4 pepper missed.
        assert_eq!(
            op(0.5, 0.5).thresholds(),
            Thresholds {
                pepper: full / 4,
                salt: full / 4 + full / 16 * 3,
            }
        );
    }

    #[test]
    fn pepper_then_salt_then_untouched_alpha_kept() {
        let t = Thresholds {
            pepper: 10,
            salt: 20,
        };
        let p = 0x7f_12_34_56;
        assert_eq!(hit(p, 9, t), 0x7f_00_00_00);
        assert_eq!(hit(p, 10, t), 0x7f_ff_ff_ff);
        assert_eq!(hit(p, 19, t), 0x7f_ff_ff_ff);
        assert_eq!(hit(p, 20, t), p);
    }

    #[test]
    fn the_row_kernel_reads_the_documented_bits() {
        let key = RngKey::new(9, 0, 0);
        let t = op(0.3, 0.4).thresholds();
        let line: Vec<u32> = (0..11).map(|i| 0x80_10_20_30 + i).collect();
        let mut row = vec![0; 11];
        row_hits(key, t, 5, &line, &mut row);
        for (x, (&o, &i)) in row.iter().zip(&line).enumerate() {
            assert_eq!(o, hit(i, pixel_bits(key, x as u32, 5), t));
        }
    }

    #[test]
    fn the_eight_wide_hash_is_random4() {
        let key = RngKey::new(77, 3, 1);
        for (x0, y, i) in [(0, 0, 0), (8, 5, 0), (1000, 17, 3), (u32::MAX - 3, 1, 9)] {
            let got = random4_x8(key, x0, y, i);
            for (l, g) in got.iter().enumerate() {
                assert_eq!(*g, key.random4(x0.wrapping_add(l as u32), y, i));
            }
        }
    }

    #[test]
    fn hit_fractions_follow_the_probabilities() {
        // 0.2 pepper; salt 0.3·(1 − 0.2) = 0.24 of the pixels.
        let key = RngKey::new(1, 0, 0);
        let t = op(0.5, 0.6).thresholds();
        let (mut black, mut white) = (0, 0);
        for y in 0..200 {
            for x in 0..500 {
                match hit(0xff_80_80_80, pixel_bits(key, x, y), t) & 0xff {
                    0 => black += 1,
                    0xff => white += 1,
                    _ => {}
                }
            }
        }
        // 100 000 pixels: the standard deviations are about 130 pixels.
        assert!((19_400..20_600).contains(&black), "{black}");
        assert!((23_400..24_600).contains(&white), "{white}");
    }
}

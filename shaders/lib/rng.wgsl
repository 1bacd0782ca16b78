// The counter-based random function shared with src/rng.rs: a pixel's random
// bits depend on (key, x, y, draw) only, never on thread order.

// pcg4d from Jarzynski and Olano, "Hash Functions for GPU Rendering" (JCGT 2020).
fn pcg4d(a: vec4<u32>) -> vec4<u32> {
    var v = a * 1664525u + 1013904223u;
    v.x += v.y * v.w;
    v.y += v.z * v.x;
    v.z += v.x * v.y;
    v.w += v.y * v.z;
    v = v ^ (v >> vec4<u32>(16u));
    v.x += v.y * v.w;
    v.y += v.z * v.x;
    v.z += v.x * v.y;
    v.w += v.y * v.z;
    return v;
}

// Four independent random words for pixel (x, y), draw `i`, under `key`.
fn random4(key: vec4<u32>, x: u32, y: u32, i: u32) -> vec4<u32> {
    return pcg4d(pcg4d(vec4<u32>(x, y, i, 0u) ^ key));
}

// Uniform in [0, 1) with 24 random bits: exact in f32 on every backend.
fn unit_f32(bits: u32) -> f32 {
    return f32(bits >> 8u) * (1.0 / 16777216.0);
}

// Two independent standard normal draws by Box-Muller on 24-bit uniforms;
// u1 = 1 - unit_f32(a) is in (0, 1], so the logarithm is finite. Twin:
// `rng::gaussian_pair`, with the same polynomials for log, sin and cos
// (equal within float tolerance: the compiler may fuse multiply-adds).
fn gaussian_pair(a: u32, b: u32) -> vec2<f32> {
    let r = sqrt(-2.0 * ln_unit(1.0 - unit_f32(a)));
    let q = b >> 30u;
    let f = f32((b >> 8u) & 0x3fffffu) * (1.0 / 4194304.0);
    var cs = cos_sin_quarter(f);
    if ((q & 1u) != 0u) {
        cs = vec2<f32>(-cs.y, cs.x);
    }
    var sign = r;
    if ((q & 2u) != 0u) {
        sign = -r;
    }
    return sign * cs;
}

// ln(u) for u in (0, 1]: exponent from the bits, the mantissa by the atanh
// series to t^13. Twin: `rng::ln_unit`.
fn ln_unit(u: f32) -> f32 {
    let bits = bitcast<u32>(u);
    let e = f32(i32(bits >> 23u) - 127);
    let m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let p = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 * (1.0 / 11.0)))));
    return e * 0.6931472 + 2.0 * t * p;
}

// cos and sin of (pi/2) f, f in [0, 1), by Taylor series about pi/4. Twin:
// `rng::cos_sin_quarter`.
fn cos_sin_quarter(f: f32) -> vec2<f32> {
    let x = (f - 0.5) * 1.5707964;
    let x2 = x * x;
    let s = x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))));
    let c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))));
    let h = 0.70710677;
    return vec2<f32>((c - s) * h, (c + s) * h);
}

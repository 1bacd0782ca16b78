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
// `rng::gaussian_pair`, equal to it within float tolerance (log, cos and sin
// may differ by ulps between backends).
fn gaussian_pair(a: u32, b: u32) -> vec2<f32> {
    let r = sqrt(-2.0 * log(1.0 - unit_f32(a)));
    let t = 6.2831855 * unit_f32(b);
    return vec2<f32>(r * cos(t), r * sin(t));
}

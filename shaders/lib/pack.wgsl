// Packed RGBA8 pixels <-> floats in 0..=255. The CPU twins are
// `unpack_rgba` and `pack_rgba` in src/frame.rs: rounding is half up after a
// clamp, in both, so the backends round at the same place.

fn unpack_rgba(p: u32) -> vec4<f32> {
    return vec4<f32>(
        f32(p & 0xffu),
        f32((p >> 8u) & 0xffu),
        f32((p >> 16u) & 0xffu),
        f32(p >> 24u),
    );
}

fn pack_rgba(v: vec4<f32>) -> u32 {
    let q = vec4<u32>(floor(clamp(v, vec4<f32>(0.0), vec4<f32>(255.0)) + 0.5));
    return q.x | (q.y << 8u) | (q.z << 16u) | (q.w << 24u);
}

// Mirror including the edge pixel (... c b a | a b c ...), scipy's `reflect`;
// folds any offset, however far outside. Twin: `ops::reflect`.
fn reflect_index(i: i32, n: i32) -> i32 {
    let period = 2 * n;
    var m = i % period;
    if (m < 0) {
        m += period;
    }
    if (m >= n) {
        m = period - 1 - m;
    }
    return m;
}

// Additive sensor noise: gaussian per pixel and channel, or one uniform
// value per row / column and channel, from the shared counter-based RNG.
// Twin: src/ops/noise.rs.
//
// A gray frame gets channel 0's draw on all three channels, and only the
// whole frame says whether it is gray. `main` adds colour noise and leaves
// a word per workgroup, 1 when its pixels had colour; `gray` reads the
// words and, only when all are 0, writes the frame again with gray noise.
// A colour frame, the usual case, costs one pass over its pixels, where a
// check before the noise cost two passes more.

struct Uniforms {
    width: u32,
    height: u32,
    mode: u32,
    scale: f32,
    key: vec4<u32>,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
// One word per workgroup of `main`, row by row.
@group(0) @binding(3) var<storage, read_write> colour: array<u32>;

const MODE_GAUSSIAN: u32 = 0u;
const MODE_ROW: u32 = 1u;

var<workgroup> seen: atomic<u32>;

fn signed_unit(bits: vec3<u32>) -> vec3<f32> {
    return 2.0 * vec3<f32>(unit_f32(bits.x), unit_f32(bits.y), unit_f32(bits.z)) - 1.0;
}

// The three channels' draws of pixel (x, y).
fn draw(x: u32, y: u32) -> vec3<f32> {
    if (u.mode == MODE_GAUSSIAN) {
        let w = random4(u.key, x, y, 0u);
        return vec3<f32>(gaussian_pair(w.x, w.y), gaussian_pair(w.z, w.w).x);
    } else if (u.mode == MODE_ROW) {
        return signed_unit(random4(u.key, 0u, y, 1u).xyz);
    }
    return signed_unit(random4(u.key, x, 0u, 2u).xyz);
}

// `p` plus `u.scale * n` on the colour channels, alpha kept, rounded as
// pack_rgba does but with one conversion a channel where it takes three
// (int-float conversions run at a quarter of the rate of arithmetic, and
// cost as much as the draws): a byte under the exponent of 2^23 is 2^23 +
// byte exactly, and truncating 0.5..=255.5 is its floor.
fn noisy(p: u32, n: vec3<f32>) -> u32 {
    let bytes = vec3<u32>(p, p >> 8u, p >> 16u) & vec3<u32>(0xffu);
    let c = bitcast<vec3<f32>>(bytes | vec3<u32>(0x4b000000u)) - vec3<f32>(8388608.0);
    let q = vec3<u32>(clamp(c + u.scale * n, vec3<f32>(0.0), vec3<f32>(255.0)) + 0.5);
    return q.x | (q.y << 8u) | (q.z << 16u) | (p & 0xff000000u);
}

fn has_colour(p: u32) -> bool {
    let r = p & 0xffu;
    let g = (p >> 8u) & 0xffu;
    let b = (p >> 16u) & 0xffu;
    return r != g || g != b;
}

// Blocks of 16 columns by 64 rows, each thread four rows of one column
// (lid.y + 16 j): a quarter of the words for `gray` to read, and each
// thread's four pixels independent work to overlap.
@compute @workgroup_size(16, 16)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let x = wg.x * 16u + lid.x;
    var any = false;
    for (var j = 0u; j < 4u; j++) {
        let y = wg.y * 64u + lid.y + 16u * j;
        if (x < u.width && y < u.height) {
            let i = y * u.width + x;
            let p = src[i];
            dst[i] = noisy(p, draw(x, y));
            any = any || has_colour(p);
        }
    }
    if (any) {
        atomicStore(&seen, 1u);
    }
    workgroupBarrier();
    if (li == 0u) {
        colour[wg.y * groups.x + wg.x] = atomicLoad(&seen);
    }
}

// Every workgroup reads all of `main`'s words; on a gray frame they share
// its pixels out, one at a time per thread.
@compute @workgroup_size(256)
fn gray(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let words = ((u.width + 15u) / 16u) * ((u.height + 63u) / 64u);
    var any = 0u;
    for (var k = li; k < words; k += 256u) {
        any |= colour[k];
    }
    if (any != 0u) {
        atomicStore(&seen, 1u);
    }
    workgroupBarrier();
    if (atomicLoad(&seen) != 0u) {
        return;
    }
    let pixels = u.width * u.height;
    for (var i = wg.x * 256u + li; i < pixels; i += groups.x * 256u) {
        let n = draw(i % u.width, i / u.width);
        dst[i] = noisy(src[i], vec3<f32>(n.x));
    }
}

// Colour fringing by whole pixels: red from (x - sx, y - sy), blue from
// (x + sx, y + sy), 0 where that falls outside; green and alpha kept. A
// gray frame (flag 0 from gray_frame.wgsl) is copied. Twin:
// src/ops/chromatic_aberration.rs.

struct Uniforms {
    width: u32,
    height: u32,
    shift_x: i32,
    shift_y: i32,
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> colour: array<u32>;

fn channel_at(x: i32, y: i32, mask: u32) -> u32 {
    if (x < 0 || y < 0 || x >= i32(u.width) || y >= i32(u.height)) {
        return 0u;
    }
    return src[u32(y) * u.width + u32(x)] & mask;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= u.width || id.y >= u.height) {
        return;
    }
    let i = id.y * u.width + id.x;
    let p = src[i];
    if (colour[0] == 0u) {
        dst[i] = p;
        return;
    }
    let x = i32(id.x);
    let y = i32(id.y);
    let r = channel_at(x - u.shift_x, y - u.shift_y, 0xffu);
    let b = channel_at(x + u.shift_x, y + u.shift_y, 0xff0000u);
    dst[i] = (p & 0xff00ff00u) | r | b;
}

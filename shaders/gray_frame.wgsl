// Whether a frame has any pixel with colour (R, G, B not all equal): `clear`
// zeroes the flag, `detect` sets it, one global write per workgroup that
// saw colour. Twin: src/ops/gray_frame.rs.

struct GrayUniforms {
    width: u32,
    height: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> g: GrayUniforms;
@group(0) @binding(1) var<storage, read> gray_src: array<u32>;
@group(0) @binding(2) var<storage, read_write> colour: array<atomic<u32>>;

var<workgroup> tile_colour: atomic<u32>;
var<workgroup> known: u32;

@compute @workgroup_size(1)
fn clear() {
    atomicStore(&colour[0], 0u);
}

@compute @workgroup_size(16, 16)
fn detect(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    // Once a workgroup saw colour the answer is known: the rest read one
    // word instead of their pixels, so on a colour frame the pass costs
    // little more than its launch.
    if (li == 0u) {
        known = atomicLoad(&colour[0]);
    }
    if (workgroupUniformLoad(&known) != 0u) {
        return;
    }
    if (id.x < g.width && id.y < g.height) {
        let p = gray_src[id.y * g.width + id.x];
        let r = p & 0xffu;
        let gg = (p >> 8u) & 0xffu;
        let b = (p >> 16u) & 0xffu;
        if (r != gg || gg != b) {
            atomicStore(&tile_colour, 1u);
        }
    }
    workgroupBarrier();
    if (li == 0u && atomicLoad(&tile_colour) != 0u) {
        atomicStore(&colour[0], 1u);
    }
}

//! Executes a plan on the CPU: nodes in order, each kernel parallel inside
//! (rayon), frame buffers reused per slot across nodes and frames.

use crate::frame::{Frame, Size};
use crate::graph::{Plan, Source};
use crate::ops::FrameCtx;

/// Slot buffers larger than this (a 64-megapixel frame) are freed after
/// each frame rather than kept for the next.
const KEEP_SLOT_BYTES: usize = 256 << 20;

/// The CPU backend; keeps its slot buffers between frames.
#[derive(Debug, Default)]
pub struct CpuBackend {
    slots: Vec<Frame>,
}

impl CpuBackend {
    /// Runs every node on `input` and leaves the frames of `plan.reads` in
    /// `out`, reusing its allocations.
    pub fn run(
        &mut self,
        plan: &Plan,
        sizes: &[Size],
        input: &Frame,
        frame: u32,
        out: &mut Vec<Frame>,
    ) {
        self.slots
            .resize_with(plan.slots, || Frame::new(Size::new(0, 0)));
        for (i, node) in plan.nodes.iter().enumerate() {
            let mut out =
                std::mem::replace(&mut self.slots[node.slot], Frame::new(Size::new(0, 0)));
            out.reshape(sizes[i]);
            let inputs: Vec<&Frame> = node
                .inputs
                .iter()
                .map(|src| match *src {
                    Source::Input => input,
                    Source::Node(j) => &self.slots[plan.nodes[j].slot],
                })
                .collect();
            let ctx = FrameCtx {
                key: node.key(frame),
            };
            node.op.run_cpu(&ctx, &inputs, &mut out);
            self.slots[node.slot] = out;
        }
        out.resize_with(plan.reads.len(), || Frame::new(Size::new(0, 0)));
        // Each read node has a slot of its own: its frame is handed over,
        // not copied, and the slot takes the caller's old frame to reuse.
        for ((n, _), f) in plan.reads.iter().zip(out.iter_mut()) {
            std::mem::swap(f, &mut self.slots[plan.nodes[*n].slot]);
        }
        // Keeping slot buffers saves allocating them for the next frame;
        // for huge frames, memory matters more than that.
        for slot in &mut self.slots {
            if slot.pixels().len() * 4 > KEEP_SLOT_BYTES {
                *slot = Frame::new(Size::new(0, 0));
            }
        }
    }
}

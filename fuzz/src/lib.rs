//! What every fuzz target checks once its input parsed or decoded: a
//! validated pipeline compiles, its sizes and descriptions never panic, it
//! reads back as written, and small plans run on the CPU.

use stillgraph::{Engine, Keep, Pipeline, Size, compile};

/// Plans up to this many nodes, whose frames are all this small, also run.
const RUN_NODES: usize = 64;
const RUN_PIXELS: usize = 1 << 18;

pub fn check_pipeline(pipeline: &Pipeline) {
    let again = Pipeline::parse(&pipeline.to_string(), "again.ron")
        .unwrap_or_else(|e| panic!("a valid pipeline does not read back: {e}\n{pipeline}"));
    assert_eq!(again.to_string(), pipeline.to_string());
    for keep in [Keep::Outputs, Keep::Steps] {
        let plan = compile(pipeline, keep).expect("a validated pipeline compiles");
        let input = Size::new(37, 23);
        let _ = plan.describe(input);
        let _ = plan.dot();
        let Ok(sizes) = plan.sizes(input) else {
            continue;
        };
        if plan.nodes.len() <= RUN_NODES && sizes.iter().all(|s| s.pixels() <= RUN_PIXELS) {
            let frame = stillgraph::Frame::new(input);
            let out = Engine::cpu()
                .run_frame(&plan, &frame, 3)
                .expect("sizes were fine");
            assert_eq!(out.len(), plan.reads.len());
        }
    }
}

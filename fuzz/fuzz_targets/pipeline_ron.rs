//! Any bytes as a RON pipeline file: an error or a pipeline, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stillgraph::Pipeline;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(pipeline) = Pipeline::parse(&text, "fuzz.ron") {
        stillgraph_fuzz::check_pipeline(&pipeline);
    }
});

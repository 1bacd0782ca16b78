//! Any bytes as a reference YAML pipeline: an error or a pipeline whose
//! RON form reads back, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stillgraph::pipeline::yaml;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(imported) = yaml::import(&text, "fuzz.yaml") {
        stillgraph_fuzz::check_pipeline(&imported.pipeline);
    }
});

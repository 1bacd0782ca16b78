//! The engine in a real browser (headless Chromium: `cd web && cargo test
//! --target wasm32-unknown-unknown`, the runner set in `.cargo/config.toml`;
//! the root's tests/browser.rs runs it as part of `cargo test`).
//!
//! Every graph of `graphs/` gives, on WebGPU and on the CPU backend built
//! for wasm, the pixels of the native CPU backend: the golden images of
//! tests/golden/, which tests/graphs.rs blesses from the native CPU backend
//! and holds it to exactly. Within one level, the parity bound of the float
//! ops; exactly for graphs whose every op is integer.

#![cfg(target_arch = "wasm32")]

use image::GenericImageView;
use stillgraph::io::{decode_bytes, to_frame};
use stillgraph::{Backend, Engine, Frame, Keep, Pipeline, compile};
use stillgraph_web::{GRAPHS, check, set};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const GOLDEN: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/golden.rs"));
const ASTRONAUT: &[u8] = include_bytes!("../../assets/astronaut.png");

/// Ops whose every decision is integer: both backends agree exactly
/// (tests/sensor.rs and tests/lens.rs hold them to it natively).
const EXACT_OPS: &[&str] = &[
    "band_swap",
    "bayer_filter",
    "blur_circular",
    "buffer_corruption",
    "chromatic_aberration",
    "corduroy",
    "salt_pepper",
    "slc_off",
];

/// The golden images' input: tests/graphs.rs's crop of the astronaut.
fn golden_input() -> Frame {
    let image = decode_bytes(ASTRONAUT, "astronaut.png".as_ref()).unwrap();
    to_frame(&image.view(176, 40, 128, 96).to_image().into()).0
}

fn max_diff(a: &Frame, b: &Frame) -> u8 {
    assert_eq!(a.size(), b.size());
    a.pixels()
        .iter()
        .zip(b.pixels())
        .flat_map(|(p, q)| {
            let (p, q) = (p.to_le_bytes(), q.to_le_bytes());
            (0..4).map(move |c| p[c].abs_diff(q[c]))
        })
        .max()
        .unwrap_or(0)
}

async fn every_graph_gives_the_golden_pixels(engine: &mut Engine) {
    let input = golden_input();
    assert!(GRAPHS.len() >= 9, "graphs bundled: {}", GRAPHS.len());
    for (name, text) in GRAPHS {
        let pipeline = Pipeline::parse(text, name).unwrap();
        let tolerance = if pipeline
            .steps
            .iter()
            .all(|s| EXACT_OPS.contains(&s.op.name()))
        {
            0
        } else {
            1
        };
        let plan = compile(&pipeline, Keep::Outputs).unwrap();
        let frames = engine
            .run_frame_async(&plan, &input, 0)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (step, frame) in plan.output_names().iter().zip(&frames) {
            let key = format!("{name}.{step}");
            let golden = GOLDEN
                .iter()
                .find(|(k, _)| *k == key)
                .unwrap_or_else(|| panic!("no golden image {key}"))
                .1;
            let golden = to_frame(&decode_bytes(golden, "golden.png".as_ref()).unwrap()).0;
            let d = max_diff(frame, &golden);
            assert!(
                d <= tolerance,
                "{key} on {}: max difference {d} > {tolerance}",
                engine.describe()
            );
        }
    }
}

#[wasm_bindgen_test]
async fn every_graph_on_webgpu_gives_the_native_cpu_pixels() {
    let mut engine = Engine::open(Backend::Gpu)
        .await
        .expect("a WebGPU adapter (headless Chromium needs --enable-unsafe-webgpu)");
    // A GPU failure must fail the test, not run the frame on the CPU.
    engine.set_cpu_fallback(false);
    assert!(engine.is_gpu(), "{}", engine.describe());
    every_graph_gives_the_golden_pixels(&mut engine).await;
}

#[wasm_bindgen_test]
async fn every_graph_on_the_wasm_cpu_backend_gives_the_native_cpu_pixels() {
    every_graph_gives_the_golden_pixels(&mut Engine::cpu()).await;
}

fn message(e: impl Into<JsValue>) -> String {
    js_sys::Error::from(e.into()).message().into()
}

#[wasm_bindgen_test]
fn a_control_rewrites_the_pipeline_and_is_validated() {
    let (_, text) = GRAPHS.iter().find(|(n, _)| *n == "three_ops").unwrap();
    let ron = set(text, "three_ops.ron", "soft", "sigma", "1.25").unwrap();
    let pipeline = Pipeline::parse(&ron, "rewritten").unwrap();
    let soft = serde_json::to_value(&pipeline.steps[1].op).unwrap();
    assert_eq!(soft["blur_gaussian"]["sigma"], 1.25, "{ron}");

    let bad = set(text, "three_ops.ron", "soft", "sigma", "-2").unwrap_err();
    assert_eq!(
        message(bad),
        "three_ops.ron: step \"soft\" (blur_gaussian): sigma = -2 is not allowed \
         (allowed: 0 ..= 1000)"
    );

    // An integer parameter takes a whole number sent as a float, not 2.5.
    let (_, jpeg) = GRAPHS.iter().find(|(n, _)| *n == "jpeg_crunch").unwrap();
    let step = Pipeline::parse(jpeg, "j").unwrap().steps[0].name.clone();
    let checked: serde_json::Value = serde_json::from_str(&check(jpeg, "j.ron")).unwrap();
    let param = checked["steps"][0]["params"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| *k == "quality" || *k == "quality_start")
        .unwrap()
        .clone();
    assert!(set(jpeg, "j.ron", &step, &param, "7.0").is_ok());
    assert!(set(jpeg, "j.ron", &step, &param, "7.5").is_err());

    let seeded = set(text, "three_ops.ron", "", "seed", "99").unwrap();
    assert_eq!(Pipeline::parse(&seeded, "s").unwrap().seed, 99);
    let animated = set(text, "three_ops.ron", "soft", "animate", "true").unwrap();
    assert!(Pipeline::parse(&animated, "a").unwrap().steps[1].animate);

    // A step's seed: a whole number, or null for the derived one; a wrong
    // type is an error, not the default.
    let own = set(text, "three_ops.ron", "soft", "seed", "5").unwrap();
    assert_eq!(Pipeline::parse(&own, "o").unwrap().steps[1].seed, Some(5));
    let derived = set(&own, "o.ron", "soft", "seed", "null").unwrap();
    assert_eq!(Pipeline::parse(&derived, "d").unwrap().steps[1].seed, None);
    assert!(set(text, "three_ops.ron", "soft", "seed", "-1").is_err());
    assert!(set(text, "three_ops.ron", "soft", "animate", "1").is_err());
}

#[wasm_bindgen_test]
fn check_gives_the_cli_messages_with_their_places() {
    let syntax: serde_json::Value = serde_json::from_str(&check(
        "Pipeline(steps: [\n  (name: \"a\", op: nope()),\n])",
        "p.ron",
    ))
    .unwrap();
    assert_eq!(syntax["ok"], false);
    assert_eq!(syntax["line"], 2, "{syntax}");
    assert!(
        syntax["error"].as_str().unwrap().starts_with("p.ron:2:"),
        "{syntax}"
    );

    let range: serde_json::Value = serde_json::from_str(&check(
        "Pipeline(steps: [(name: \"soft\", op: blur_gaussian(sigma: -1.0))])",
        "p.ron",
    ))
    .unwrap();
    assert_eq!(range["step"], "soft");
    assert_eq!(range["param"], "sigma");
    assert_eq!(
        range["error"],
        "p.ron: step \"soft\" (blur_gaussian): sigma = -1 is not allowed (allowed: 0 ..= 1000)"
    );

    // The reference tool's YAML loads as RON.
    let yaml = "pipeline:\n  steps:\n    - name: soft\n      operation: blur_gaussian\n      params: {sigma: 2}\n";
    let imported: serde_json::Value = serde_json::from_str(&check(yaml, "old.yaml")).unwrap();
    assert_eq!(imported["ok"], true, "{imported}");
    assert_eq!(imported["steps"][0]["op"], "blur_gaussian");
    assert!(Pipeline::parse(imported["ron"].as_str().unwrap(), "r").is_ok());
}

//! The browser playground (web/) in headless Chromium, as part of `cargo
//! test`: web/'s wasm-bindgen tests (every graph on WebGPU and on the wasm
//! CPU backend against the native CPU backend's pixels), and the page
//! itself driven as a user would (file picker, graph, output, a control,
//! an error typed in, a dropped picture, a reference YAML file), each
//! result read back from its PNG download and compared with the native CPU
//! backend.
//!
//! Needs the wasm32 target, wasm-bindgen-cli of web/Cargo.lock's version,
//! Chromium and chromedriver; without them the tests print BROWSER TEST
//! SKIPPED and pass, unless STILLGRAPH_REQUIRE_BROWSER=1 (CI sets it).

mod common;
#[path = "../web/serve.rs"]
mod serve;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::assert_close;
use serde_json::json;
use stillgraph::io::{decode_bytes, decode_file, to_frame};
use stillgraph::{Engine, Frame, Keep, Pipeline, compile};

fn tools() -> Option<serve::Tools> {
    match serve::find_tools(true) {
        Ok(tools) => Some(tools),
        Err(missing) => {
            let message = format!("BROWSER TEST SKIPPED: missing {}", missing.join("; "));
            if std::env::var("STILLGRAPH_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("{message} (and STILLGRAPH_REQUIRE_BROWSER=1)");
            }
            eprintln!("{message}");
            None
        }
    }
}

#[test]
fn the_wasm_tests_pass_in_headless_chromium() {
    let Some(tools) = tools() else { return };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(serve::root().join("web"))
        .args(["test", "--target", "wasm32-unknown-unknown"])
        .env("CARGO_TARGET_DIR", serve::web_target())
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            &tools.test_runner,
        )
        .env("CHROMEDRIVER", &tools.chromedriver)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the browser tests failed:\n{text}");
    // The runner says nothing is wrong when it finds no test: each must
    // have run.
    for test in [
        "every_graph_on_webgpu_gives_the_native_cpu_pixels",
        "every_graph_on_the_wasm_cpu_backend_gives_the_native_cpu_pixels",
        "a_control_rewrites_the_pipeline_and_is_validated",
        "check_gives_the_cli_messages_with_their_places",
    ] {
        assert!(
            text.contains(&format!("{test} ... ok")),
            "{test} did not run:\n{text}"
        );
    }
}

/// The page's current result: the PNG its download link holds.
fn downloaded(browser: &serve::Browser) -> Frame {
    let bytes = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.getElementById('download').href)
               .then((r) => r.arrayBuffer())
               .then((b) => done(Array.from(new Uint8Array(b))));",
            json!([]),
        )
        .unwrap();
    let bytes: Vec<u8> = serde_json::from_value(bytes).unwrap();
    to_frame(&decode_bytes(&bytes, Path::new("download.png")).unwrap()).0
}

/// The native CPU backend's output `output` for the page's pipeline text.
fn native(browser: &serve::Browser, input: &Frame, output: &str) -> (Pipeline, Frame) {
    let pipeline = Pipeline::parse(&page_text(browser), "the page's pipeline").unwrap();
    let plan = compile(&pipeline, Keep::Outputs).unwrap();
    let at = plan
        .output_names()
        .iter()
        .position(|n| *n == output)
        .unwrap();
    let frame = Engine::cpu().run_frame(&plan, input, 0).unwrap().remove(at);
    (pipeline, frame)
}

/// Waits for the run that follows a change and gives the new count.
fn wait_for_run(browser: &serve::Browser, runs: u64) -> u64 {
    browser
        .wait_for_run(runs, Duration::from_secs(120))
        .unwrap()
}

/// The pipeline text in the page's editor.
fn page_text(browser: &serve::Browser) -> String {
    let text = browser
        .script("return document.getElementById('ron').value;", json!([]))
        .unwrap();
    text.as_str().unwrap().to_string()
}

#[test]
fn the_page_runs_a_graph_and_follows_a_parameter() {
    let Some(tools) = tools() else { return };
    let pkg = serve::build(&tools, false).unwrap();
    let server = serve::Server::start(pkg, 0).unwrap();
    let browser = serve::Browser::launch(&tools).unwrap();
    // The GPU backend, on Chromium's software adapter here (auto would
    // pass over it for the faster CPU backend).
    browser
        .goto(&format!("{}?backend=gpu", server.url()))
        .unwrap();
    // The page opens the engine, then runs its first graph on the bundled
    // astronaut.
    let runs = wait_for_run(&browser, 0);
    let backend = browser
        .script("return document.body.dataset.backend;", json!([]))
        .unwrap();
    assert_eq!(backend, "gpu", "the page should run on WebGPU");

    // The user's own picture, through the file picker.
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine.png");
    let photo = decode_file(&serve::root().join("assets/coffee.png")).unwrap();
    photo.crop_imm(100, 80, 160, 120).save(&mine).unwrap();
    let input = to_frame(&decode_file(&mine).unwrap()).0;
    browser.upload("#image-file", &mine).unwrap();
    let runs = wait_for_run(&browser, runs);

    // A graph with four outputs; the last one shown.
    browser.set_value("#graph", "cheap_lens", "change").unwrap();
    let runs = wait_for_run(&browser, runs);
    browser.set_value("#output", "3", "change").unwrap();
    let (_, expected) = native(&browser, &input, "sensor");
    // Motion blur and noise are float ops: the parity bound.
    assert_close(
        "cheap_lens on the page vs native CPU",
        &downloaded(&browser),
        &expected,
        1,
    );

    // Turn the disk blur's radius from 3 to 6 in its control.
    let radius = ".param[data-step=\"defocus\"][data-field=\"radius\"] input[type=number]";
    browser.set_value(radius, "6", "change").unwrap();
    let runs = wait_for_run(&browser, runs);
    let (pipeline, expected) = native(&browser, &input, "sensor");
    let defocus = serde_json::to_value(&pipeline.steps[2].op).unwrap();
    assert_eq!(defocus, json!({"blur_circular": {"radius": 6}}));
    assert_close("after the change", &downloaded(&browser), &expected, 1);

    // A value out of range typed into the text: the CLI's message, and its
    // control marked.
    let text = page_text(&browser).replace("radius: 6", "radius: 1001");
    browser.set_value("#ron", &text, "input").unwrap();
    browser
        .wait_for(
            "!document.getElementById('error').hidden",
            Duration::from_secs(10),
        )
        .unwrap();
    let shown = browser
        .script(
            "return [document.getElementById('error').textContent,
                     !!document.querySelector(
                       '.param.invalid[data-step=\"defocus\"][data-field=\"radius\"]')];",
            json!([]),
        )
        .unwrap();
    assert_eq!(
        shown[0],
        "pipeline.ron: step \"defocus\" (blur_circular): radius = 1001 is not allowed \
         (allowed: 0 ..= 1000)"
    );
    assert_eq!(shown[1], true, "the radius control is not marked");

    // Back to a valid text: the page runs again.
    let text = page_text(&browser).replace("radius: 1001", "radius: 6");
    browser.set_value("#ron", &text, "input").unwrap();
    let runs = wait_for_run(&browser, runs);

    // A picture dropped on the preview, as from a file manager.
    browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             fetch('assets/rocket.jpg').then((r) => r.blob()).then((b) => {
               const dt = new DataTransfer();
               dt.items.add(new File([b], 'rocket.jpg', { type: 'image/jpeg' }));
               document.getElementById('drop')
                 .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true }));
               done(true);
             });",
            json!([]),
        )
        .unwrap();
    let runs = wait_for_run(&browser, runs);
    let image = browser
        .script("return document.body.dataset.image;", json!([]))
        .unwrap();
    assert_eq!(image, "rocket.jpg");
    let rocket = to_frame(&decode_file(&serve::root().join("assets/rocket.jpg")).unwrap()).0;
    let (_, expected) = native(&browser, &rocket, "sensor");
    assert_close("the dropped picture", &downloaded(&browser), &expected, 1);

    // The reference tool's YAML, opened as a file: imported to RON, with
    // the import's warnings shown.
    let yaml = serve::root().join("tests/yaml/core_ops.yaml");
    browser.upload("#pipeline-file", &yaml).unwrap();
    wait_for_run(&browser, runs);
    let page = browser
        .script(
            "return [document.getElementById('ron').value,
                     document.getElementById('warnings').textContent,
                     document.getElementById('output').selectedOptions[0].text];",
            json!([]),
        )
        .unwrap();
    let imported = stillgraph::pipeline::yaml::import(
        &std::fs::read_to_string(&yaml).unwrap(),
        "core_ops.yaml",
    )
    .unwrap();
    assert_eq!(page[0], imported.ron.as_str());
    assert_eq!(page[1], imported.warnings.join("\n").as_str());
    assert!(!imported.warnings.is_empty());
    let (_, expected) = native(&browser, &rocket, page[2].as_str().unwrap());
    assert_close("the YAML pipeline", &downloaded(&browser), &expected, 1);
}

//! Builds the browser playground (web/) and serves it on localhost:
//! `cargo run --example playground`, then open the address it prints in a
//! browser with WebGPU (or without: the page then runs the CPU backend).
//! `--port N` picks the port (default 8000).
//!
//! `--time GRAPH` measures instead: the page in headless Chromium (through
//! chromedriver) runs graph `GRAPH` of `graphs/` on a 1920x1080 frame, a
//! warm-up and then `--frames N` (default 20) frames, and prints the
//! engine's time per frame as the page reports it (upload, compute and
//! readback; not the preview's drawing), on `--backend auto|gpu|cpu` (the
//! page's `?backend=`). For BENCHMARKS.md.
//!
//! Needs the wasm32 target and wasm-bindgen-cli of web/Cargo.lock's
//! version; it says how to install what is missing.

#[allow(dead_code)] // script_async is for tests/browser.rs
#[path = "../web/serve.rs"]
mod serve;

use std::time::Duration;

use serde_json::json;

fn usage() -> ! {
    eprintln!(
        "usage: cargo run --example playground [-- --port N | --time GRAPH [--frames N] [--backend B]]"
    );
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut port, mut time, mut frames) = (8000, None, 20);
    let mut backend = String::from("auto");
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--port" => port = value.parse().unwrap_or_else(|_| usage()),
            "--frames" => frames = value.parse::<u32>().unwrap_or_else(|_| usage()).max(1),
            "--time" => time = Some(value),
            "--backend" => backend = value,
            _ => usage(),
        }
    }
    let tools = match serve::find_tools(time.is_some()) {
        Ok(tools) => tools,
        Err(missing) => {
            eprintln!("the playground's build needs:");
            for m in missing {
                eprintln!("  - {m}");
            }
            std::process::exit(1);
        }
    };
    let pkg = match serve::build(&tools, true) {
        Ok(pkg) => pkg,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if let Some(graph) = time {
        let server = serve::Server::start(pkg, 0).unwrap_or_else(|e| {
            eprintln!("cannot serve the page: {e}");
            std::process::exit(1);
        });
        let url = format!("{}?backend={backend}", server.url());
        if let Err(e) = time_graph(&tools, &url, &graph, frames) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    match serve::Server::start(pkg, port) {
        Ok(server) => {
            println!("stillgraph playground: {} (Ctrl-C stops it)", server.url());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    }
}

/// Runs `graph` on a 1080p frame in headless Chromium and prints the page's
/// time per frame.
fn time_graph(tools: &serve::Tools, url: &str, graph: &str, frames: u32) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("stillgraph-time-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let frame = dir.join("frame1080.png");
    let photo = image::open(serve::root().join("assets/hubble_deep_field.jpg"))
        .map_err(|e| e.to_string())?;
    photo
        .resize_exact(1920, 1080, image::imageops::FilterType::Triangle)
        .to_rgb8()
        .save(&frame)
        .map_err(|e| e.to_string())?;
    let browser = serve::Browser::launch(tools)?;
    browser.goto(url)?;
    let long = Duration::from_secs(600);
    browser.wait_for_run(0, long)?;
    let before = browser.runs()?;
    if browser.set_value("#graph", graph, "change")? != json!(graph) {
        return Err(format!("no graph named {graph} in graphs/"));
    }
    let before = browser.wait_for_run(before, long)?;
    browser.upload("#image-file", &frame)?;
    let mut runs = browser.wait_for_run(before, long)?;
    let mut times = Vec::new();
    for i in 1..=frames {
        browser.set_value("#frame", &i.to_string(), "change")?;
        runs = browser.wait_for_run(runs, long)?;
        let ms = browser.script("return Number(document.body.dataset.ms);", json!([]))?;
        times.push(ms.as_f64().unwrap_or(f64::NAN));
    }
    let backend = browser.script(
        "return document.getElementById('backend').textContent;",
        json!([]),
    )?;
    times.sort_by(f64::total_cmp);
    println!(
        "{graph} on a 1920x1080 frame, {frames} frames: median {:.1} ms, min {:.1} ms, max {:.1} ms ({})",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        backend.as_str().unwrap_or("?")
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

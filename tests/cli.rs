//! The `stillgraph` command as a user meets it: its subcommands, and what it
//! says and does on bad input.

use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn stillgraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stillgraph"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes a pipeline into `dir` and returns its path as a string.
fn pipeline_file(dir: &Path, text: &str) -> String {
    let path = dir.join("p.ron");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn ops_lists_every_op_with_its_parameters() {
    let o = stillgraph(&["ops"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for op in stillgraph::ops::OPS {
        assert!(text.contains(op.name), "{} missing", op.name);
        for p in op.params {
            assert!(
                text.contains(p.name) && text.contains(p.doc),
                "{}.{} missing",
                op.name,
                p.name
            );
        }
    }
}

#[test]
fn check_and_plan_accept_every_example() {
    for entry in std::fs::read_dir(Path::new(ROOT).join("graphs")).unwrap() {
        let path = entry.unwrap().path().display().to_string();
        let o = stillgraph(&["check", &path]);
        assert!(o.status.success(), "{path}: {}", stderr(&o));
        let o = stillgraph(&["plan", &path, "--size", "640x480"]);
        assert!(
            o.status.success() && stdout(&o).contains("frame buffers"),
            "{path}"
        );
        let o = stillgraph(&["plan", &path, "--dot"]);
        assert!(stdout(&o).starts_with("digraph"), "{path}");
    }
}

#[test]
fn run_without_inputs_uses_the_bundled_image() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let o = stillgraph(&[
        "run",
        "graphs/three_ops.ron",
        "-o",
        &out,
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let image = image::open(dir.path().join("coffee.png")).unwrap();
    assert_eq!((image.width(), image.height()), (600, 400));
}

#[test]
fn save_intermediate_writes_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let o = stillgraph(&[
        "run",
        "graphs/three_ops.ron",
        "-o",
        &out,
        "--backend",
        "cpu",
        "--save-intermediate",
        "--format",
        "jpeg",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["coffee.jpg", "vivid/coffee.jpg", "soft/coffee.jpg"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}

#[test]
fn gray_and_alpha_inputs_keep_their_layout() {
    let dir = tempfile::tempdir().unwrap();
    let gray = image::GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * 6 + y) as u8]));
    gray.save(dir.path().join("g.png")).unwrap();
    let rgba = image::RgbaImage::from_fn(40, 30, |x, y| {
        image::Rgba([x as u8 * 6, y as u8 * 8, 90, (x * 6) as u8])
    });
    rgba.save(dir.path().join("a.png")).unwrap();
    let out = dir.path().join("out");
    let inputs = dir.path().join("*.png").display().to_string();
    // Ops that leave alpha alone (resampling ops resample it with the colour).
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"s\", op: saturation(mode: fixed, value: 0.5)), (name: \"b\", op: blur_gaussian(sigma: 2.0))])",
    );
    let o = stillgraph(&[
        "run",
        &p,
        "-i",
        &inputs,
        "-o",
        &out.display().to_string(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        image::open(out.join("g.png")).unwrap().color(),
        image::ColorType::L8
    );
    let a = image::open(out.join("a.png")).unwrap();
    assert_eq!(a.color(), image::ColorType::Rgba8);
    assert_eq!(
        a.to_rgba8().get_pixel(10, 10)[3],
        rgba.get_pixel(10, 10)[3],
        "alpha must pass through"
    );
}

#[test]
fn a_bad_frame_costs_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    image::RgbImage::from_fn(32, 24, |x, _| image::Rgb([x as u8 * 8, 0, 0]))
        .save(frames.join("a_good.png"))
        .unwrap();
    let png = std::fs::read(frames.join("a_good.png")).unwrap();
    std::fs::write(frames.join("b_truncated.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(frames.join("c_garbage.jpg"), b"this is not a jpeg").unwrap();
    image::RgbImage::new(16, 16)
        .save(frames.join("d_good.png"))
        .unwrap();
    let out = dir.path().join("out");
    let o = stillgraph(&[
        "run",
        "graphs/three_ops.ron",
        "-i",
        &frames.display().to_string(),
        "-o",
        &out.display().to_string(),
        "--backend",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("b_truncated.png") && err.contains("c_garbage.jpg"),
        "{err}"
    );
    assert!(err.contains("2 of 4 frames failed"), "{err}");
    let mut written: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(
        written,
        ["a_good.png", "d_good.png"],
        "only whole outputs, no temporary files"
    );
}

#[test]
fn syntax_errors_show_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline_file(
        dir.path(),
        "Pipeline(\n  steps: [\n    (name: \"a\" op: x),\n  ],\n)\n",
    );
    let o = stillgraph(&["check", &p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("{p}:3:16:")), "{}", stderr(&o));
}

#[test]
fn unknown_ops_list_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"a\", op: gaussian_blur(sigma: 1.0))])",
    );
    let o = stillgraph(&["check", &p]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    for op in stillgraph::ops::OPS {
        assert!(err.contains(op.name), "{err}");
    }
}

#[test]
fn out_of_range_values_name_step_parameter_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"pixels\", op: downscale(scale: 1.95))])",
    );
    let o = stillgraph(&[
        "run",
        &p,
        "--backend",
        "cpu",
        "-o",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "step \"pixels\" (downscale): scale = 1.95 is not allowed (allowed: 0.01 ..= 1)"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn cycles_name_their_steps() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"x\", op: blur_gaussian(sigma: 1.0), inputs: [\"y\"]), (name: \"y\", op: blur_gaussian(sigma: 1.0), inputs: [\"x\"])])",
    );
    let o = stillgraph(&["plan", &p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("\"x\" -> \"y\" -> \"x\"")
            || stderr(&o).contains("\"y\" -> \"x\" -> \"y\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_input_is_named() {
    let o = stillgraph(&[
        "run",
        "graphs/three_ops.ron",
        "-i",
        "no/such/frames/*.png",
        "--backend",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no/such/frames/*.png"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_readme_op_table_is_what_ops_prints() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let table = stdout(&stillgraph(&["ops"]));
    assert!(
        readme.contains(&format!("```\n{table}```")),
        "README's op table is stale: paste `stillgraph ops`"
    );
}

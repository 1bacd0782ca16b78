//! The `stillgraph` command as a user meets it: its subcommands, and what it
//! says and does on bad input.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn stillgraph(args: &[&str]) -> Output {
    stillgraph_in(Path::new(ROOT), args)
}

/// The command run from `dir`, with arguments that need not be UTF-8.
fn stillgraph_in<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stillgraph"))
        .args(args)
        .current_dir(dir)
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

/// A small photo-like image saved as `path` (format from its ending).
fn save_image(path: &Path) {
    image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 10, y as u8 * 15, 99]))
        .save(path)
        .unwrap();
}

/// The files of `dir` and their bytes, to show a refused run changed nothing.
fn snapshot(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_os_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Asserts a run was refused before any frame, naming the output and the
/// input it would have replaced, and suggesting -o.
fn assert_refused_overwrite(o: &Output, output: &str, input: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(output) && err.contains(input) && err.contains("write over the input"),
        "{err}"
    );
    assert!(err.contains("-o DIR"), "{err}");
}

#[test]
fn an_output_directory_holding_the_inputs_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for name in ["a.png", "b.png", "c.jpg"] {
        save_image(&photos.join(name));
    }
    let before = snapshot(&photos);
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"s\", op: saturation(mode: fixed, value: 0.9))])",
    );
    let run = |cwd: &Path, args: &[&str]| {
        let mut all = vec!["run", &p, "--backend", "cpu"];
        all.extend_from_slice(args);
        stillgraph_in(cwd, &all)
    };
    // The same directory, by the same name.
    let o = run(dir.path(), &["-i", "photos", "-o", "photos"]);
    assert_refused_overwrite(&o, "photos/a.png", "photos/a.png");
    // `.` from inside it, and one file given alone.
    assert_refused_overwrite(&run(&photos, &["-i", ".", "-o", "."]), "./a.png", "./a.png");
    assert_refused_overwrite(
        &run(dir.path(), &["-i", "photos/b.png", "-o", "photos"]),
        "photos/b.png",
        "photos/b.png",
    );
    // Through `..`.
    assert_refused_overwrite(
        &run(&photos, &["-i", "a.png", "-o", "../photos"]),
        "../photos/a.png",
        "a.png",
    );
    // A JPEG input and JPEG output.
    assert_refused_overwrite(
        &run(
            dir.path(),
            &["-i", "photos/c.jpg", "-o", "photos", "--format", "jpeg"],
        ),
        "photos/c.jpg",
        "photos/c.jpg",
    );
    // A symbolic link to the directory.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&photos, dir.path().join("link")).unwrap();
        assert_refused_overwrite(
            &run(dir.path(), &["-i", "photos", "-o", "link"]),
            "link/a.png",
            "photos/a.png",
        );
        // A hard link to an input where an output would go.
        std::fs::create_dir(dir.path().join("out")).unwrap();
        std::fs::hard_link(photos.join("b.png"), dir.path().join("out/b.png")).unwrap();
        assert_refused_overwrite(
            &run(dir.path(), &["-i", "photos/b.png", "-o", "out"]),
            "out/b.png",
            "photos/b.png",
        );
    }
    assert_eq!(
        snapshot(&photos),
        before,
        "a refused run must change no input"
    );
    // Writing JPEGs beside PNG inputs replaces none of them: allowed.
    let o = run(
        dir.path(),
        &["-i", "photos/a.png", "-o", "photos", "--format", "jpeg"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(photos.join("a.jpg").exists());
}

#[test]
fn inputs_that_would_share_an_output_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    save_image(&dir.path().join("a.png"));
    save_image(&dir.path().join("a.jpg"));
    let out = dir.path().join("out");
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"s\", op: saturation(mode: fixed, value: 0.9))])",
    );
    let o = stillgraph_in(
        dir.path(),
        &[
            "run",
            &p,
            "--backend",
            "cpu",
            "-i",
            ".",
            "-o",
            &out.display().to_string(),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("./a.jpg") && err.contains("./a.png") && err.contains("would both write"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "nothing is written when the batch is refused"
    );
}

#[test]
fn an_output_directory_that_is_a_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::write(&out, b"not a directory").unwrap();
    let o = stillgraph(&[
        "run",
        "graphs/three_ops.ron",
        "--backend",
        "cpu",
        "-o",
        &out.display().to_string(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is a file, not a directory") && err.contains(&out.display().to_string()),
        "{err}"
    );
}

/// Names that are not UTF-8 used to be converted lossily, so `a\xff.png`
/// and `a\xfe.jpg` both wrote `a\u{FFFD}.png`; a glob skipped them.
#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_each_get_their_own_output() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    save_image(&frames.join(OsStr::from_bytes(b"a\xff.png")));
    save_image(&frames.join(OsStr::from_bytes(b"a\xfe.jpg")));
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"s\", op: saturation(mode: fixed, value: 0.9))])",
    );
    for input in ["frames", "frames/*"] {
        let out = dir.path().join(format!("out{}", input.len()));
        let o = stillgraph_in(
            dir.path(),
            &[
                "run",
                &p,
                "--backend",
                "cpu",
                "-i",
                input,
                "-o",
                &out.display().to_string(),
            ],
        );
        assert!(o.status.success(), "{input}: {}", stderr(&o));
        let mut written: Vec<Vec<u8>> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().as_bytes().to_vec())
            .collect();
        written.sort();
        assert_eq!(
            written,
            [b"a\xfe.png".to_vec(), b"a\xff.png".to_vec()],
            "{input}"
        );
    }
}

/// Ten frames and a pipeline whose damage depends on the frame index
/// (`animate`), so that a shard that numbered its frames from 0 would differ.
fn shard_fixture(dir: &Path) -> (String, String) {
    let frames = dir.join("frames");
    std::fs::create_dir(&frames).unwrap();
    for i in 0..10 {
        save_image(&frames.join(format!("f{i}.png")));
    }
    let p = pipeline_file(
        dir,
        "(steps: [(name: \"hot\", op: salt_pepper(amount: 0.2, salt_vs_pepper: 0.5), animate: true)])",
    );
    (p, frames.display().to_string())
}

#[test]
fn shards_run_as_separate_processes_write_what_one_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (p, frames) = shard_fixture(dir.path());
    let run = |out: &Path, extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stillgraph"));
        cmd.args(["run", &p, "--backend", "cpu", "-i", &frames, "-o"])
            .arg(out)
            .args(extra);
        for var in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "JOB_COMPLETION_INDEX",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{extra:?} {env:?}: {}", stderr(&o));
        stderr(&o)
    };
    let whole = dir.path().join("whole");
    run(&whole, &[], &[]);
    let all = snapshot(&whole);
    assert_eq!(all.len(), 10);
    for n in [1, 3, 7] {
        let out = dir.path().join(format!("shards{n}"));
        for k in 0..n {
            run(&out, &["--shard", &format!("{k}/{n}")], &[]);
        }
        assert!(snapshot(&out) == all, "{n} shards differ from one run");
    }
    // The schedulers' variables pick the same shard as --shard 1/3.
    let by_flag = dir.path().join("flag");
    run(&by_flag, &["--shard", "1/3"], &[]);
    let slurm = dir.path().join("slurm");
    let said = run(
        &slurm,
        &[],
        &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
    );
    assert!(said.contains("shard 1 of 3: inputs 4 to 6 of 10"), "{said}");
    let k8s = dir.path().join("k8s");
    run(
        &k8s,
        &["--shard-count", "3"],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    assert_eq!(snapshot(&by_flag).len(), 3);
    assert!(snapshot(&slurm) == snapshot(&by_flag) && snapshot(&k8s) == snapshot(&by_flag));
    // A Kubernetes index without a count is refused, saying what is missing.
    let o = Command::new(env!("CARGO_BIN_EXE_stillgraph"))
        .args(["run", &p, "--backend", "cpu", "-i", &frames, "-o"])
        .arg(dir.path().join("nope"))
        .env("JOB_COMPLETION_INDEX", "1")
        .env_remove("STILLGRAPH_SHARD_COUNT")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--shard-count"), "{}", stderr(&o));
}

#[test]
fn skip_existing_finishes_only_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (p, frames) = shard_fixture(dir.path());
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", &p, "--backend", "cpu", "-i", &frames, "-o"];
        let out = out.display().to_string();
        args.push(&out);
        args.extend_from_slice(extra);
        let o = stillgraph(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
    };
    run(&[]);
    let before = snapshot(&out);
    // As if a run had been killed after seven frames.
    for i in 7..10 {
        std::fs::remove_file(out.join(format!("f{i}.png"))).unwrap();
    }
    std::fs::write(out.join("f0.png"), b"kept as it is").unwrap();
    let said = run(&["--skip-existing"]);
    assert!(said.contains("7 frames skipped"), "{said}");
    let after = snapshot(&out);
    assert_eq!(after.len(), 10);
    assert_eq!(
        after[0].1, b"kept as it is",
        "an existing output is not redone"
    );
    assert!(
        after[1..] == before[1..],
        "the missing outputs are the same as a whole run's"
    );
}

#[test]
fn damage_a_decoder_worked_around_is_named_and_fail_on_decides_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let photo =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 7]));
    photo.save(frames.join("whole.jpg")).unwrap();
    let bytes = std::fs::read(frames.join("whole.jpg")).unwrap();
    // Cut inside the scan: the decoder recovers, filling the rest with gray.
    std::fs::write(frames.join("cut.jpg"), &bytes[..bytes.len() * 7 / 10]).unwrap();
    for i in 0..2 {
        image::ImageBuffer::from_pixel(8, 8, image::Rgb([40000u16, 2000, 65535]))
            .save(frames.join(format!("deep{i}.png")))
            .unwrap();
    }
    let p = pipeline_file(
        dir.path(),
        "(steps: [(name: \"a\", op: saturation(mode: fixed, value: 0.2))])",
    );
    let run = |out: &str, fail_on: &str| {
        let o = stillgraph_in(
            dir.path(),
            &[
                "run",
                &p,
                "--backend",
                "cpu",
                "-i",
                "frames",
                "-o",
                out,
                "--fail-on",
                fail_on,
            ],
        );
        (
            o.status.code(),
            stderr(&o),
            dir.path().join(out).join("cut.png").exists(),
        )
    };
    let (code, err, written) = run("default", "error");
    assert_eq!(code, Some(0), "{err}");
    assert!(written);
    assert!(
        err.contains("cut.jpg: damaged: the JPEG ends before its end marker"),
        "{err}"
    );
    // Conversions are said once for the run, with the files they concern.
    assert_eq!(err.matches("converted to 8 bits").count(), 1, "{err}");
    assert!(
        err.contains("deep0.png, frames/deep1.png: Rgb16 converted"),
        "{err}"
    );
    let (code, err, written) = run("strict", "warning");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        !written && err.contains("error: frames/cut.jpg: damaged"),
        "{err}"
    );
    let (code, err, written) = run("quiet", "none");
    assert_eq!(code, Some(0), "{err}");
    assert!(written && !err.contains("damaged"), "{err}");
}

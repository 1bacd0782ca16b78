//! The reference tool's YAML pipelines: imported, checked and run on both
//! backends, and the same pixels whether run from the YAML or from the RON
//! that `stillgraph import` writes. Bad files get our usual messages.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_close, gpu_engine, test_frame};
use stillgraph::pipeline::yaml::{Imported, import};
use stillgraph::{Engine, Keep, Pipeline, compile};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn yaml_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("tests/yaml"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    files
}

fn import_str(text: &str) -> Result<Imported, String> {
    import(text, "test.yaml").map_err(|e| e.to_string())
}

#[test]
fn every_yaml_file_imports_checks_and_runs_the_same_as_its_ron() {
    let input = test_frame(67, 45);
    let mut gpu = gpu_engine();
    for path in yaml_files() {
        let what = path.display().to_string();
        let (direct, _) = Pipeline::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let imported = import(&std::fs::read_to_string(&path).unwrap(), &what).unwrap();
        assert!(
            imported
                .ron
                .starts_with(&format!("// Imported from {what}"))
        );
        let from_ron = Pipeline::parse(&imported.ron, "imported.ron").unwrap();
        assert_eq!(direct.steps.len(), from_ron.steps.len(), "{what}");
        // Every step as an output, so that each op's pixels are compared.
        let plan = |p: &Pipeline| compile(p, Keep::Steps).unwrap();
        let cpu_direct = Engine::cpu().run_frame(&plan(&direct), &input, 0).unwrap();
        let cpu_ron = Engine::cpu()
            .run_frame(&plan(&from_ron), &input, 0)
            .unwrap();
        assert_eq!(cpu_direct.len(), direct.steps.len());
        for (step, (a, b)) in direct.steps.iter().zip(cpu_direct.iter().zip(&cpu_ron)) {
            assert_close(&format!("{what} step {}: YAML vs RON", step.name), a, b, 0);
        }
        // Parity is per op on a common input: chained, one level apart in
        // an early step can become more after a JPEG step.
        if let Some(gpu) = gpu.as_mut() {
            for step in &direct.steps {
                let alone = Pipeline {
                    steps: vec![step.clone()],
                    ..direct.clone()
                };
                let p = plan(&alone);
                let c = Engine::cpu().run_frame(&p, &input, 0).unwrap();
                let g = gpu.run_frame(&p, &input, 0).unwrap();
                // The parity bound of DESIGN.md: one level per channel.
                assert_close(
                    &format!("{what} step {}: CPU vs GPU", step.name),
                    &c[0],
                    &g[0],
                    1,
                );
            }
        }
    }
}

#[test]
fn values_map_to_ours_and_sections_we_do_not_use_are_kept_as_comments() {
    let path = Path::new(ROOT).join("tests/yaml/core_ops.yaml");
    let imported = import(&std::fs::read_to_string(&path).unwrap(), "core.yaml").unwrap();
    let steps = &imported.pipeline.steps;
    let by_name = |n: &str| steps.iter().find(|s| s.name == n).unwrap();
    // A seed parameter becomes the step's seed; others derive theirs.
    assert_eq!(by_name("faded").seed, Some(11));
    assert_eq!(by_name("tiles").seed, Some(7));
    assert_eq!(by_name("warm").seed, None);
    assert_eq!(by_name("soft").repeat, 2);
    let ron = &imported.ron;
    for wanted in [
        "op: saturation(mode: random, range: (-0.6, -0.2)), seed: 11)",
        "tile_size_range: (0.2, 0.4)",
        "decay: exponential",
        "downscale_method: lanczos",
        "// source: youtube_url:",
        "// segment: start: 12.5, end: 20, interval: 0.5",
        "-o ./pipeline_output/final",
        "-i VIDEO --start 12.5 --end 20 --every 0.5",
    ] {
        assert!(ron.contains(wanted), "{wanted:?} not in\n{ron}");
    }
    let warned = imported.warnings.join("\n");
    for section in ["core.yaml:3: source", "core.yaml:5: segment", "output ("] {
        assert!(warned.contains(section), "{section:?} not in\n{warned}");
    }
    // One step a line.
    assert_eq!(
        ron.lines().filter(|l| l.contains("(name: ")).count(),
        steps.len()
    );
}

#[test]
fn downscale_asked_to_enlarge_becomes_resize_with_a_warning() {
    let path = Path::new(ROOT).join("tests/yaml/enlarge.yaml");
    let (pipeline, warnings) = Pipeline::load(&path).unwrap();
    assert_eq!(pipeline.steps[0].op.name(), "resize");
    let out = Engine::cpu()
        .run_frame(
            &compile(&pipeline, Keep::Outputs).unwrap(),
            &test_frame(40, 20),
            0,
        )
        .unwrap();
    assert_eq!((out[0].width(), out[0].height()), (78, 39));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("enlarge.yaml:5: step \"bigger\": downscale with scale 1.95")
            && warnings[0].contains("resize(scale: 1.95, method: bilinear)"),
        "{warnings:?}"
    );
}

/// A step of the given operation and params, in a minimal reference file.
fn one_step(operation: &str, params: &str) -> String {
    format!(
        "pipeline:\n  steps:\n    - name: s\n      operation: {operation}\n      params: {params}\n"
    )
}

#[test]
fn bad_files_get_messages_that_say_where_and_what() {
    let err = |text: &str| import_str(text).unwrap_err();

    let e = err("pipeline:\n  steps:\n    - name: [a\n");
    assert!(e.starts_with("test.yaml:4:1: "), "{e}");

    let e = err(&one_step("gaussian_blur", "{sigma: 1}"));
    assert!(
        e.starts_with("test.yaml:3: step \"s\" (gaussian_blur)"),
        "{e}"
    );
    assert!(
        e.contains("blur_gaussian") && e.contains("compression_artifact"),
        "{e}"
    );

    let e = err(&one_step("blur_gaussian", "{}"));
    assert!(
        e.contains("step \"s\" (blur_gaussian)") && e.contains("`sigma`"),
        "{e}"
    );
    let e = err(&one_step("saturation", "{mode: fixed}"));
    assert!(
        e.contains("step \"s\" (saturation): value = nothing"),
        "{e}"
    );

    // The reference reads `true` as 1; we refuse a boolean for a number.
    let e = err(&one_step("blur_gaussian", "{sigma: true}"));
    assert!(
        e.contains("step \"s\" (blur_gaussian)") && e.contains("sigma: true"),
        "{e}"
    );
    let e = err(&one_step("compression", "{quality: 101}"));
    assert!(
        e.ends_with("step \"s\" (compression): quality = 101 is not allowed (allowed: 1 ..= 100)"),
        "{e}"
    );
    let e = err(&one_step("compression", "{quality: 50, seed: -3}"));
    assert!(e.contains("seed = -3 is not allowed"), "{e}");

    let e = err("steps:\n  - name: a\n    operation: blur_gaussian\n");
    assert!(e.contains("`steps:` belongs under `pipeline:`"), "{e}");

    let e = err("pipeline:\n  steps:\n    - name: \"!!\"\n      operation: blur_gaussian\n");
    assert!(e.contains("test.yaml:3: step name \"!!\" is empty"), "{e}");
    let twice = "pipeline:\n  steps:\n    - {name: a, operation: blur_gaussian, params: {sigma: 1}}\n    - {name: a, operation: blur_gaussian, params: {sigma: 2}}\n";
    let e = err(twice);
    assert!(e.contains("test.yaml:4: two steps are named \"a\""), "{e}");

    let e = err(
        "pipeline:\n  steps:\n    - {name: a, operation: blur_gaussian, params: {sigma: 1}, repeat: 0}\n",
    );
    assert!(e.contains("repeat = 0 is not allowed"), "{e}");
    let e =
        err("pipeline:\n  steps:\n    - {name: a, operation: blur_gaussian, parms: {sigma: 1}}\n");
    assert!(e.contains("unknown step field parms"), "{e}");
    assert!(err("").contains("empty"));
    assert!(err("pipeline:\n  steps: []\n").contains("no steps"));
}

#[test]
fn the_cli_imports_to_a_file_and_runs_yaml_directly() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = Path::new(ROOT).join("tests/yaml/enlarge.yaml");
    let ron = dir.path().join("enlarge.ron");
    let bin = env!("CARGO_BIN_EXE_stillgraph");
    let o = std::process::Command::new(bin)
        .args([
            "import".as_ref(),
            yaml.as_os_str(),
            "-o".as_ref(),
            ron.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("WARN"));
    Pipeline::from_file(&ron).unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(bin)
        .args([
            "run".as_ref(),
            yaml.as_os_str(),
            "--backend".as_ref(),
            "cpu".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let image = image::open(out.join("coffee.png")).unwrap();
    assert_eq!((image.width(), image.height()), (1170, 780));
}
